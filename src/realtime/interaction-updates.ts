import type { Redis } from 'ioredis';
import type { Entry, Interaction, InteractionStatus } from '../interactions';

/** Statuses in which an agent holds the interaction: handling it, or in its wrap-up. */
const heldStatuses: ReadonlySet<InteractionStatus> = new Set(['active', 'wrap_up']);

// Long enough for a conversation that stays with one agent over a night; refreshed on every change.
const seenTtlSeconds = 2 * 24 * 60 * 60;

/**
 * What the agent has been told of one interaction, in one step: compares each entry's fingerprint
 * with the stored one, stores the new ones, and returns whether the hash existed before, the status
 * last told, and the ids of entries that are new or changed. Atomic, so two nodes told of changes
 * to the same interaction at once never both send the same entry as new.
 * KEYS: seen hash. ARGV: ttl seconds, status, then entry id / fingerprint pairs.
 */
const seenScript = `
local existed = redis.call('exists', KEYS[1])
local previous = redis.call('hget', KEYS[1], '~status') or ''
local result = {existed, previous}
for i = 3, #ARGV, 2 do
  if redis.call('hget', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then
    result[#result + 1] = ARGV[i]
    redis.call('hset', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
redis.call('hset', KEYS[1], '~status', ARGV[2])
redis.call('expire', KEYS[1], ARGV[1])
return result`;

/** What an agent's desk is sent when a contact they hold changes. */
export interface InteractionUpdate {
  interactionId: string;
  /** Entries added or changed (a delivery status, a stored attachment) since the agent was last told, oldest first. */
  entry: Entry[];
  status: InteractionStatus;
}

/** The parts of an entry whose change the agent should see (besides the entry being new). */
function fingerprint(entry: Entry): string {
  return JSON.stringify([entry.data?.deliveryStatus ?? null, entry.flags ?? [], (entry.attachments ?? []).map((file) => [file.sha256 ?? null, file.flags ?? []])]);
}

/**
 * The agent's own customers' updates: when an interaction an agent holds changes (a new inbound text
 * or email, a delivery status), the agent gets `interaction_updated` with what is new. An
 * interaction nobody holds costs nothing (no read); one that is held costs one Redis script.
 * The first change seen for an agent (the accept itself) tells the status only: the agent's screen
 * loads the whole interaction when it takes the contact.
 */
export class InteractionUpdates {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly send: (agentId: string, update: InteractionUpdate) => Promise<unknown>,
  ) {}

  /** An `interactions.onChange` listener. */
  async onChange({ interaction }: { interaction: Interaction }): Promise<void> {
    const agentId = interaction.agentId;
    if (!agentId || !heldStatuses.has(interaction.status)) return;
    const entries = interaction.entries ?? [];
    const args = entries.flatMap((entry) => [entry.id, fingerprint(entry)]);
    const [existed, previousStatus, ...changed] = (await this.redis.eval(
      seenScript, 1, `${this.keyPrefix}realtime:seen:${interaction.id}:${agentId}`, String(seenTtlSeconds), interaction.status, ...args,
    )) as [number, string, ...string[]];
    const changedIds = new Set(existed === 1 ? changed : []);
    if (existed === 1 && !changedIds.size && previousStatus === interaction.status) return;
    await this.send(agentId, { interactionId: interaction.id, entry: entries.filter((entry) => changedIds.has(entry.id)), status: interaction.status });
  }
}

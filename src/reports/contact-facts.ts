import type { Entry, Interaction } from '../interactions';
import { targets, type Fact } from './facts';
import { answeredWithinThreshold, isShortAbandon } from './kpis';

export interface ContactRules {
  /** The queue's service-level threshold T in seconds (undefined: unknown queue, nothing counts as within). */
  thresholdSeconds(queue: string): number | undefined;
  /** Where routing queues a new inbound conversation of this channel that has no queue of its own (texts, emails). */
  channelQueue(channel: Interaction['channel']): string | undefined;
  shortAbandonSeconds: number;
}

interface Accept { agentId: string; queue: string; at: Date }

const ms = (iso: string) => new Date(iso).getTime();
const systemEvent = (entry: Entry, event: string) => entry.kind === 'system' && entry.data?.event === event;

function accepts(entries: Entry[]): Accept[] {
  return entries.flatMap((entry) =>
    systemEvent(entry, 'accepted') && typeof entry.data?.agentId === 'string' && typeof entry.data.queue === 'string'
      ? [{ agentId: entry.data.agentId, queue: entry.data.queue, at: new Date(entry.at) }]
      : [],
  );
}

/**
 * The queue and handling facts of one contact, from the interaction and its entries (routing writes
 * `accepted`, `overflowed`, `work_completed`, `wrap_up_ended` and transfer notes into the log).
 * Queue facts belong to the interval the contact arrived in; handling facts to the interval the
 * handling ended. Only inbound contacts that entered a queue count: a call once it is queued (it
 * carries its queue and queuedAt), a new text or email conversation from its creation, in its
 * channel's queue (routing queues those as they arrive without writing a queue on them).
 */
export function contactFacts(interaction: Interaction, rules: ContactRules): { facts: Fact[]; fcr?: Fact } {
  if (interaction.direction !== 'inbound') return { facts: [] };
  const queue = interaction.queuedAt ? interaction.queue : rules.channelQueue(interaction.channel);
  if (!queue) return { facts: [] };
  const id = interaction.id;
  const channel = interaction.channel;
  const arrival = new Date(interaction.queuedAt ?? interaction.createdAt);
  const entries = interaction.entries ?? [];
  const taken = accepts(entries);
  const first = taken[0];
  const overflows = entries.filter((entry) => systemEvent(entry, 'overflowed') && typeof entry.data?.from === 'string' && typeof entry.data.to === 'string');
  const beforeAnswer = overflows.filter((entry) => !first || ms(entry.at) <= first.at.getTime());
  const initialQueue = (beforeAnswer[0]?.data?.from as string | undefined) ?? first?.queue ?? queue;
  const facts: Fact[] = [{ key: `offered:${id}`, parts: [{ at: arrival, targets: targets(['queue', initialQueue], ['channel', channel]), inc: { offered: 1 } }] }];

  overflows.forEach((entry, index) => {
    facts.push({
      key: `overflowed:${id}:${index}`,
      parts: [
        { at: arrival, targets: targets(['queue', entry.data!.from as string]), inc: { overflowed: 1 } },
        { at: arrival, targets: targets(['queue', entry.data!.to as string]), inc: { offered: 1 } },
      ],
    });
  });

  if (first) {
    const waitMs = Math.max(0, first.at.getTime() - arrival.getTime());
    const threshold = rules.thresholdSeconds(first.queue);
    const within = threshold !== undefined && answeredWithinThreshold(waitMs, threshold);
    facts.push({
      key: `answered:${id}`,
      parts: [{ at: arrival, targets: targets(['queue', first.queue], ['agent', first.agentId], ['channel', channel]), inc: { answered: 1, answeredInThreshold: within ? 1 : 0, waitAnsweredMs: waitMs }, maxWaitMs: waitMs }],
    });
  } else if (interaction.status === 'abandoned' && interaction.endedAt) {
    const waitMs = Math.max(0, ms(interaction.endedAt) - arrival.getTime());
    const short = isShortAbandon(waitMs, rules.shortAbandonSeconds);
    facts.push({
      key: `abandoned:${id}`,
      parts: [{ at: arrival, targets: targets(['queue', queue], ['channel', channel]), inc: short ? { shortAbandoned: 1 } : { abandoned: 1, waitAbandonedMs: waitMs }, maxWaitMs: waitMs }],
    });
  }

  let fcr: Fact | undefined;
  taken.forEach((segment, index) => {
    const finished = segmentEnd(entries, segment, taken[index + 1]);
    if (!finished) return;
    const talkMs = Math.max(0, finished.endedAt.getTime() - segment.at.getTime());
    const wrapMs = finished.wrapEndedAt ? Math.max(0, finished.wrapEndedAt.getTime() - finished.endedAt.getTime()) : 0;
    const at = finished.wrapEndedAt ?? finished.endedAt;
    const where = targets(['agent', segment.agentId], ['queue', segment.queue], ['channel', channel]);
    facts.push({ key: `handled:${id}:${index}`, parts: [{ at, targets: where, inc: { handled: 1, talkMs, wrapMs, holdMs: 0, transferred: finished.transferred ? 1 : 0 } }] });
    if (!finished.transferred && !fcr) fcr = { key: `fcr:${id}`, parts: [{ at, targets: where, inc: { fcrContacts: 1 } }] };
  });
  if (fcr) facts.push(fcr);
  return { facts, fcr };
}

/**
 * How one agent's handling ended: a transfer note by them, or their `work_completed` followed by
 * their `wrap_up_ended`. Undefined while still handling or wrapping up.
 */
function segmentEnd(entries: Entry[], segment: Accept, next: Accept | undefined): { endedAt: Date; wrapEndedAt?: Date; transferred: boolean } | undefined {
  const after = entries.filter((entry) => ms(entry.at) >= segment.at.getTime() && (!next || ms(entry.at) <= next.at.getTime()));
  const end = after.find(
    (entry) =>
      (entry.kind === 'note' && (entry.data?.transfer as { from?: string } | undefined)?.from === segment.agentId) ||
      (systemEvent(entry, 'work_completed') && entry.authorId === segment.agentId),
  );
  if (!end) return undefined;
  if (end.kind === 'note') return { endedAt: new Date(end.at), transferred: true };
  const wrapEnd = entries.find((entry) => systemEvent(entry, 'wrap_up_ended') && entry.authorId === segment.agentId && ms(entry.at) >= ms(end.at));
  return wrapEnd ? { endedAt: new Date(end.at), wrapEndedAt: new Date(wrapEnd.at), transferred: false } : undefined;
}

import { Types } from 'mongoose';
import type { Redis } from 'ioredis';
import { DomainEvents, type DeliveryMode } from '../platform/domain-events';
import { AppError } from '../platform/errors';
import { withLock } from '../platform/locks';
import { outageRetryAfterSeconds } from '../platform/store-outage';
import type { Logger } from '../platform/logger';
import type { Channel, Direction, InteractionStatus } from './interaction.model';
import { fromSummary, toEntry, toInteraction } from './interaction.mappers';
import type { InteractionRepository, StoredEntry, StoredInteraction } from './interaction.repository';
import type { Entry, InboundEvent, Interaction, NewEntry, RecordedEvent } from './interaction.types';
import { pageTimeline } from './timeline';
import { keptPerChannel, mergeCopies, pageBoundedTimeline } from './timeline-archive';
import { summarize, timelineRef } from './timeline-summary';

export type { Entry, Interaction, NewEntry, InboundEvent, RecordedEvent } from './interaction.types';
export { toInteraction } from './interaction.mappers';

export type InteractionChanges = Partial<{ status: InteractionStatus; queue: string; agentId: string; subject: string; queuedAt: Date; offeredAt: Date; answeredAt: Date; endedAt: Date }>;

const closedStatuses = new Set<InteractionStatus>(['closed', 'abandoned', 'failed']);

const newId = () => new Types.ObjectId().toHexString();

// How long a delivery may hold an event's lock; also how old an unrecorded claim must be before a
// delivery without the lock (Redis down) takes it for one whose process died.
const inboundLockTtlMs = 30_000;

/** When a claim was made: its entry id is an ObjectId minted at that moment (whole seconds). */
const claimedAt = (entryId: string) => (Types.ObjectId.isValid(entryId) ? new Types.ObjectId(entryId).getTimestamp().getTime() : 0);

/**
 * Told after an interaction was created or changed (not on duplicates), e.g. so routing can queue a
 * new contact or drop one whose caller hung up. Listeners must be idempotent: a retried event may
 * notify twice. A failing listener is logged, never fails the recording (the log is the record).
 */
export type InteractionListener = (change: { interaction: Interaction; created: boolean }) => Promise<void>;

/** The unified interaction log: every contact of every customer on every channel. */
export class InteractionService {
  /**
   * The fan-out of interaction changes. Must-succeed work here is state-reconciled, not outboxed:
   * the interaction itself (its status, queue, times) is the durable intent, written before any
   * listener runs, and the reconciler rebuilds from it what a listener failed to do or a crash cut
   * off (waiting contacts from `queued` interactions; SMS/email sends, surveys and SLA timers from
   * their stored due dates). So a failed must-succeed listener is logged as an error for the
   * reconciler, and no outbox write is added to the hot path of every call, text and email.
   * Nested changes run inline: a listener that changes an interaction waits for that fan-out.
   */
  readonly events: DomainEvents<{ interaction: Interaction; created: boolean }>;

  constructor(
    private readonly interactions: InteractionRepository,
    private readonly redis: Redis,
    private readonly redisKeyPrefix: string,
    private readonly log: Logger,
  ) {
    this.events = new DomainEvents({
      name: 'interaction',
      log,
      ids: ({ interaction, created }) => ({ interactionId: interaction.id, status: interaction.status, created }),
      repairedBy: 'the reconciler (rebuilds from the interaction as stored)',
      nested: 'inline',
    });
  }

  /**
   * Registers a change listener; `must-succeed` when what it does is owed (queueing a contact, a
   * survey), and is rebuilt from stored state by a reconciler repair if it fails.
   */
  onChange(listener: InteractionListener, mode: DeliveryMode = 'best-effort', name = listener.name || 'interaction listener'): void {
    this.events.on(name, mode, listener);
  }

  /**
   * Writes the interaction's summary on its customer's timeline, from the document exactly as the
   * caller's write returned it (its version orders summaries written concurrently), then tells the
   * listeners, with that same interaction. A write that landed in a continuation part returned that
   * part's entries only: listeners get the whole conversation through it (reports find the accept
   * in an earlier part, and number overflows and handlings over all of them), and the summary's
   * preview comes from the whole conversation. One that never rolled over costs no read.
   */
  private async publish(stored: StoredInteraction, created: boolean): Promise<Interaction> {
    const whole = await this.interactions.conversationThrough(stored);
    // The part's own fields otherwise (its external ids stay the newest part's: the summary stays small).
    await this.interactions.putSummary(whole === stored ? stored : { ...stored, entries: whole.entries });
    const interaction = toInteraction(whole);
    await this.notifyListeners(interaction, created);
    return interaction;
  }

  private async notifyListeners(interaction: Interaction, created: boolean): Promise<void> {
    await this.events.publish({ interaction, created });
  }

  /**
   * Records an external event exactly once. Concurrent deliveries of the same id are serialized by a
   * Redis lock; the durable claim in `inbound_keys` carries the interaction and entry ids, so a
   * retry after a crash finishes the same writes instead of duplicating them.
   *
   * Redis down: the lock is skipped, because the claim (a unique `_id` insert in MongoDB) already
   * makes the record exactly-once: whoever inserts it records the event. What the lock added is
   * telling a concurrent duplicate from a retry after a crash when the claim is there but not yet
   * marked recorded; without it, a claim younger than the lock's TTL may be a delivery still in
   * progress, so that delivery is refused with a retryable 503 (SMTP 451) instead of racing it.
   */
  async recordInboundEvent(event: InboundEvent): Promise<RecordedEvent> {
    const lockKey = `${this.redisKeyPrefix}lock:inbound:${event.externalId}`;
    return withLock(this.redis, lockKey, { ttlMs: inboundLockTtlMs, waitMs: 10_000, whenRedisDown: 'proceed' }, async (held) => {
      // The claim is inserted first: a first delivery (nearly every one) reads nothing.
      const { key: claim, claimed } = await this.interactions.claimKey({
        _id: event.externalId,
        interactionId: event.appendTo ?? newId(),
        entryId: newId(),
        at: event.entry.at ?? new Date(),
      });
      if (!claimed && !claim.recordedAt && !held && Date.now() - claimedAt(claim.entryId) < inboundLockTtlMs) {
        this.log.info({ interactionId: claim.interactionId, externalId: event.externalId }, 'inbound event refused: the same event may be being recorded, and Redis is down');
        throw new AppError('unavailable', 'The same event is being recorded right now; retry shortly', { retryAfterSeconds: outageRetryAfterSeconds });
      }
      if (!claimed && claim.recordedAt) {
        const interaction = await this.interactions.findHead(claim.interactionId);
        if (!interaction) throw new AppError('internal', 'Recorded event points at a missing interaction', { externalId: event.externalId }, false);
        this.log.info({ interactionId: claim.interactionId, externalId: event.externalId }, 'duplicate inbound event ignored');
        return { interaction: toInteraction(interaction), entryId: claim.entryId, duplicate: true, created: false };
      }
      const created = !event.appendTo;
      const seed = { customerId: event.customerId, channel: event.channel, direction: event.direction, status: event.status ?? 'open', subject: event.subject, queue: event.queue };
      const entry: StoredEntry = { ...event.entry, _id: claim.entryId, at: claim.at, externalId: event.externalId };
      // First delivery of a new contact (the hot path of every call and text): the interaction is
      // written whole with its entry, then its timeline ref and summary in one write.
      const fresh = created && claimed ? await this.interactions.create(claim.interactionId, seed, claim.at, { entry, externalId: event.externalId }) : null;
      if (fresh) {
        await this.interactions.addNewToTimeline(fresh);
        this.log.info({ interactionId: claim.interactionId, channel: event.channel, created }, 'inbound event recorded');
        const recorded = toInteraction(fresh);
        // Listeners (routing queues the contact) do not wait for the "recorded" mark: a crash before it
        // lands only makes a retry converge on the same writes and notify again, which listeners allow.
        await Promise.all([this.interactions.markKeyRecorded(event.externalId, new Date()), this.notifyListeners(recorded, created)]);
        return { interaction: recorded, entryId: claim.entryId, duplicate: false, created };
      }
      // A retry after a crash (the claim existed) or an event joining an existing interaction.
      if (created) await this.interactions.upsert(claim.interactionId, seed, claim.at);
      // A retry (the claim was there) may find its entry in a part that has rolled over since.
      const stored = await this.interactions.appendEntryOnce(claim.interactionId, entry, event.externalId, !claimed);
      if (!stored) {
        // Appending to an interaction that does not exist: the claim must not make a later
        // delivery (perhaps aimed elsewhere) append to it too.
        await this.interactions.releaseKey(event.externalId);
        throw AppError.notFound('Interaction', claim.interactionId);
      }
      // The ref is written when an interaction is created; a crash may have come before it.
      if (created) await this.interactions.addToTimeline(stored.customerId, [timelineRef(stored)]);
      await this.interactions.markKeyRecorded(event.externalId, new Date());
      this.log.info({ interactionId: claim.interactionId, channel: event.channel, created }, 'inbound event recorded');
      const recorded = await this.publish(stored, created);
      return { interaction: recorded, entryId: claim.entryId, duplicate: false, created };
    });
  }

  /** Logs a contact that has no external id (walk-in, letter, an agent's manual record). */
  async createInteraction(input: {
    customerId: string;
    channel: Channel;
    direction: Direction;
    subject?: string;
    status?: InteractionStatus;
    firstEntry?: NewEntry;
  }): Promise<Interaction> {
    const id = newId();
    const at = new Date();
    const first = input.firstEntry ? { entry: { ...input.firstEntry, _id: newId(), at: input.firstEntry.at ?? at } } : undefined;
    const stored = await this.interactions.create(
      id,
      { customerId: input.customerId, channel: input.channel, direction: input.direction, status: input.status ?? 'open', subject: input.subject },
      at,
      first,
    );
    if (!stored) throw new AppError('internal', 'A fresh interaction id was taken', { interactionId: id }, false);
    await this.interactions.addNewToTimeline(stored);
    this.log.info({ interactionId: id, channel: input.channel }, 'interaction created');
    const interaction = toInteraction(stored);
    await this.notifyListeners(interaction, true);
    return interaction;
  }

  /** Appends an entry (one write that returns the interaction), then rewrites its timeline summary. */
  async appendEntry(interactionId: string, entry: NewEntry): Promise<Entry> {
    const stored: StoredEntry = { ...entry, _id: newId(), at: entry.at ?? new Date() };
    const written = await this.interactions.pushEntry(interactionId, stored);
    if (!written) throw AppError.notFound('Interaction', interactionId);
    await this.interactions.putSummary(written);
    return toEntry(stored);
  }

  async addNote(interactionId: string, note: { text: string; authorId: string }): Promise<Entry> {
    const entry = await this.appendEntry(interactionId, { kind: 'note', direction: 'internal', text: note.text, authorId: note.authorId });
    this.log.info({ interactionId, entryId: entry.id, authorId: note.authorId }, 'note added');
    return entry;
  }

  /** The interaction with all its entries; one stored in several parts is read whole, as one conversation. */
  async getInteraction(id: string): Promise<Interaction> {
    const stored = await this.interactions.readConversation(id);
    if (!stored) throw AppError.notFound('Interaction', id);
    return toInteraction(stored);
  }

  /**
   * The interaction's current state (status, agent, queue, times, flags) without its entries: for
   * callers that decide on the state alone, at the cost of one small read however long the
   * conversation. `entries` is absent and `externalIds` lists the newest part's only.
   */
  async getInteractionState(id: string): Promise<Interaction> {
    const stored = await this.interactions.findHead(id, { entries: false });
    if (!stored) throw AppError.notFound('Interaction', id);
    const { entries: _entries, ...state } = toInteraction(stored);
    return state;
  }

  /** One entry of a conversation, read from the one part that holds it; null when there is no such entry. */
  async findEntry(interactionId: string, entryId: string): Promise<Entry | null> {
    const part = await this.interactions.findPartWithEntry(interactionId, entryId);
    const entry = part?.entries.find((candidate) => candidate._id === entryId);
    return entry ? toEntry(entry) : null;
  }

  /**
   * Every interaction of the customer on every channel, newest first, one page at a time. Items are
   * summaries (no entries) read from the timeline document alone; `includeEntries` reads each
   * interaction in full instead (one more read per item).
   */
  async getTimeline(
    customerId: string,
    page: { limit: number; cursor?: string; channel?: Channel; includeEntries?: boolean },
  ): Promise<{ items: Interaction[]; nextCursor: string | null }> {
    // The head document alone for a first page (it holds the newest items); archive pages only for deeper ones.
    const head = await this.interactions.readTimelineHead(customerId);
    const { page: pageRefs, nextCursor } = await pageBoundedTimeline(head, (number) => this.interactions.readTimelinePage(customerId, number), {
      limit: page.limit,
      cursor: page.cursor,
      wanted: (item) => !page.channel || item.channel === page.channel,
    });
    const needFull = pageRefs.filter((ref) => page.includeEntries || !ref.summary).map((ref) => ref.interactionId);
    const stored = await Promise.all(needFull.map((id) => (page.includeEntries ? this.interactions.readConversation(id) : this.interactions.findHead(id))));
    const byId = new Map(stored.flatMap((interaction) => (interaction ? [[interaction.conversationId ?? interaction._id, interaction] as const] : [])));
    const result = pageRefs.flatMap((ref): Interaction[] => {
      const full = byId.get(ref.interactionId);
      if (full && page.includeEntries) return [toInteraction(full)];
      if (full) return [fromSummary({ ...ref, summary: summarize(full) })];
      return ref.summary ? [fromSummary({ ...ref, summary: ref.summary })] : [];
    });
    return { items: result, nextCursor };
  }

  /**
   * Every interaction that waits for an agent, by the rule routing queues them with: status
   * `queued`, or `open`, inbound and on one of `channelsWithQueue` (a new SMS or email conversation).
   * Read-only, without entries, newest first (the caller orders them by its own priority).
   */
  async *waitingInteractions(channelsWithQueue: readonly Channel[]): AsyncGenerator<Interaction> {
    for await (const stored of this.interactions.streamByStatus(['queued'])) yield toInteraction(stored);
    if (!channelsWithQueue.length) return;
    for await (const stored of this.interactions.streamByStatus(['open'], { direction: 'inbound', channels: channelsWithQueue })) yield toInteraction(stored);
  }

  /** Every interaction an agent holds (status `active` or `wrap_up` with an agentId), without entries. Read-only. */
  async *interactionsInHand(): AsyncGenerator<Interaction> {
    for await (const stored of this.interactions.streamByStatus(['active', 'wrap_up'], { withAgent: true })) yield toInteraction(stored);
  }

  async listInteractions(filter: { status?: InteractionStatus; channel?: Channel; before?: Date; limit: number }): Promise<Interaction[]> {
    return (await this.interactions.list(filter, filter.limit)).map(toInteraction);
  }

  /** The interaction and entry an external id was recorded as (inbound or linked outbound), if any. */
  async findByExternalId(externalId: string): Promise<{ interactionId: string; entryId: string } | null> {
    const key = await this.interactions.findKey(externalId);
    return key?.recordedAt ? { interactionId: key.interactionId, entryId: key.entryId } : null;
  }

  /**
   * Makes an id we were given for our own outbound message (a MessageSid, our email Message-ID)
   * resolve to its interaction and entry, so status callbacks and replies find them.
   */
  async linkExternalId(externalId: string, target: { interactionId: string; entryId: string }): Promise<void> {
    const { key: claim } = await this.interactions.claimKey({ _id: externalId, interactionId: target.interactionId, entryId: target.entryId, at: new Date() });
    if (claim.interactionId !== target.interactionId || claim.entryId !== target.entryId) {
      throw new AppError('conflict', 'External id already belongs to another entry', { externalId });
    }
    await this.interactions.markKeyRecorded(externalId, new Date());
  }

  /**
   * The customer's most recent interaction on `channel` that is still open and had activity since
   * `activeSince` (e.g. the SMS conversation a new text should join).
   */
  async findOpenConversation(customerId: string, channel: Channel, activeSince: Date): Promise<Interaction | null> {
    // The head alone: it always keeps the newest few refs of each channel (see `planArchive`).
    const refs = mergeCopies((await this.interactions.readTimelineHead(customerId)).items)
      .filter((item) => item.channel === channel)
      .map((item) => ({ interactionId: item.interactionId, at: new Date(item.at) }));
    // Only the newest few can be open and recent; older ones are not worth a read.
    const { page } = pageTimeline(refs, keptPerChannel);
    const heads = await Promise.all(page.map((ref) => this.interactions.findHead(ref.interactionId)));
    for (const interaction of heads.filter((head): head is StoredInteraction => head !== null)) {
      const open = !closedStatuses.has(interaction.status);
      if (open && new Date(interaction.lastActivityAt) >= activeSince) return toInteraction(interaction);
    }
    return null;
  }

  /**
   * Changes status, lifecycle timestamps, queue or agent; flags are added, never removed. Entries
   * recording why (routing's "accepted") go in with the change: one write, one timeline summary.
   */
  async updateInteraction(
    id: string,
    changes: InteractionChanges,
    addFlags: string[] = [],
    options: { entry?: NewEntry; entries?: NewEntry[] } = {},
  ): Promise<Interaction> {
    const updated = await this.write(id, changes, addFlags, [...(options.entry ? [options.entry] : []), ...(options.entries ?? [])], {});
    if (!updated) throw AppError.notFound('Interaction', id);
    return updated;
  }

  /**
   * The same change, made only while the interaction's status is one of `from` (checked in the
   * write itself, so a hang-up landing meanwhile is never overwritten); null when it was not (or the
   * interaction does not exist), and then nothing was written. `endedAtIfUnset` keeps an earlier end.
   */
  async transitionInteraction(
    id: string,
    from: InteractionStatus[],
    changes: InteractionChanges,
    options: { entry?: NewEntry; entries?: NewEntry[]; endedAtIfUnset?: Date } = {},
  ): Promise<Interaction | null> {
    return this.write(id, changes, [], [...(options.entry ? [options.entry] : []), ...(options.entries ?? [])], {
      statusIn: from,
      ...(options.endedAtIfUnset ? { setIfUnset: { endedAt: options.endedAtIfUnset } } : {}),
    });
  }

  private async write(
    id: string,
    changes: InteractionChanges,
    addFlags: string[],
    newEntries: NewEntry[],
    condition: Parameters<InteractionRepository['updateAndRead']>[4],
  ): Promise<Interaction | null> {
    const at = new Date();
    const entries: StoredEntry[] = newEntries.map((entry) => ({ ...entry, _id: newId(), at: entry.at ?? at }));
    const updated = await this.interactions.updateAndRead(id, changes, addFlags, entries, condition);
    return updated ? this.publish(updated, false) : null;
  }


  /**
   * Updates fields of one entry (e.g. an outbound SMS's delivery status) under a per-interaction
   * lock, since the entry is addressed by its position read just before.
   */
  async updateEntry(interactionId: string, entryId: string, fields: { data?: Record<string, unknown>; flags?: string[] }): Promise<Entry> {
    const lockKey = `${this.redisKeyPrefix}lock:interaction:${interactionId}`;
    return withLock(this.redis, lockKey, { ttlMs: 10_000, waitMs: 10_000 }, async () => {
      // The part that holds the entry: entries never move between parts.
      const interaction = await this.interactions.findPartWithEntry(interactionId, entryId);
      const index = interaction?.entries.findIndex((entry) => entry._id === entryId) ?? -1;
      if (!interaction || index < 0) throw AppError.notFound('Entry', entryId);
      const current = interaction.entries[index];
      const set: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(fields.data ?? {})) set[`data.${key}`] = value;
      if (fields.flags) set.flags = [...new Set([...(current.flags ?? []), ...fields.flags])];
      await this.interactions.setEntryFields(interaction._id, index, set);
      return toEntry({ ...current, data: { ...current.data, ...fields.data }, ...(set.flags ? { flags: set.flags as string[] } : {}) });
    });
  }

  /**
   * Records what became of one attachment of an entry (e.g. downloaded SMS media: digest, size,
   * stored path; or a flag saying why it was not stored). Flags are added, never removed.
   */
  async updateEntryAttachment(interactionId: string, entryId: string, index: number, fields: { sha256?: string; size?: number; path?: string; flags?: string[] }): Promise<void> {
    const lockKey = `${this.redisKeyPrefix}lock:interaction:${interactionId}`;
    await withLock(this.redis, lockKey, { ttlMs: 10_000, waitMs: 10_000 }, async () => {
      const interaction = await this.interactions.findPartWithEntry(interactionId, entryId);
      const entryIndex = interaction?.entries.findIndex((entry) => entry._id === entryId) ?? -1;
      const attachment = entryIndex < 0 ? undefined : interaction!.entries[entryIndex].attachments?.[index];
      if (!attachment) throw AppError.notFound('Attachment', `${entryId}/${index}`);
      const { flags, ...values } = fields;
      const set: Record<string, unknown> = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined).map(([key, value]) => [`attachments.${index}.${key}`, value]));
      if (flags?.length) set[`attachments.${index}.flags`] = [...new Set([...(attachment.flags ?? []), ...flags])];
      await this.interactions.setEntryFields(interaction!._id, entryIndex, set);
    });
  }

  /** Moves a merged customer's interactions to the survivor; registered as a customer merge listener. */
  async moveCustomerInteractions(merge: { fromCustomerId: string; intoCustomerId: string }): Promise<void> {
    const moved = await this.interactions.moveCustomer(merge.fromCustomerId, merge.intoCustomerId);
    this.log.info({ customerId: merge.intoCustomerId, mergedCustomerId: merge.fromCustomerId, moved }, 'interactions moved after merge');
  }
}

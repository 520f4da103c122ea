import { Types } from 'mongoose';
import type { Redis } from 'ioredis';
import { AppError } from '../platform/errors';
import { withLock } from '../platform/locks';
import type { Logger } from '../platform/logger';
import type { Channel, Direction, InteractionStatus } from './interaction.model';
import { fromSummary, toEntry, toInteraction } from './interaction.mappers';
import type { InteractionRepository, StoredEntry, StoredInteraction } from './interaction.repository';
import type { Entry, InboundEvent, Interaction, NewEntry, RecordedEvent } from './interaction.types';
import { pageTimeline } from './timeline';
import { summarize } from './timeline-summary';

export type { Entry, Interaction, NewEntry, InboundEvent, RecordedEvent } from './interaction.types';
export { toInteraction } from './interaction.mappers';

const closedStatuses = new Set<InteractionStatus>(['closed', 'abandoned', 'failed']);

const newId = () => new Types.ObjectId().toHexString();

/**
 * Told after an interaction was created or changed (not on duplicates), e.g. so routing can queue a
 * new contact or drop one whose caller hung up. Listeners must be idempotent: a retried event may
 * notify twice. A failing listener is logged, never fails the recording (the log is the record).
 */
export type InteractionListener = (change: { interaction: Interaction; created: boolean }) => Promise<void>;

/** The unified interaction log: every contact of every customer on every channel. */
export class InteractionService {
  private readonly listeners: InteractionListener[] = [];

  constructor(
    private readonly interactions: InteractionRepository,
    private readonly redis: Redis,
    private readonly redisKeyPrefix: string,
    private readonly log: Logger,
  ) {}

  onChange(listener: InteractionListener): void {
    this.listeners.push(listener);
  }

  /**
   * Rewrites the interaction's summary on its customer's timeline and returns the interaction as read
   * for it. Under a per-customer lock so two changes cannot write their summaries in the wrong order;
   * the summary is read inside the lock. A caller that knows the customer passes it, saving a read
   * before the lock; if the interaction moved to another customer meanwhile (a merge), we lock that one.
   */
  private async syncTimeline(interactionId: string, customerId?: string): Promise<StoredInteraction | null> {
    const current = customerId ? null : await this.interactions.findById(interactionId);
    const lockCustomerId = customerId ?? current?.customerId;
    if (!lockCustomerId) return null;
    const lockKey = `${this.redisKeyPrefix}lock:timeline:${lockCustomerId}`;
    const synced = await withLock(this.redis, lockKey, { ttlMs: 10_000, waitMs: 10_000 }, async () => {
      const fresh = (await this.interactions.findById(interactionId)) ?? current;
      if (!fresh || (customerId && fresh.customerId !== customerId)) return { fresh, written: false };
      await this.interactions.putTimelineItem(fresh.customerId, { interactionId: fresh._id, at: fresh.createdAt, channel: fresh.channel, summary: summarize(fresh) });
      return { fresh, written: true };
    });
    if (synced.written || !synced.fresh) return synced.fresh;
    return this.syncTimeline(interactionId);
  }

  /** Syncs the timeline, then tells the listeners, with the interaction as read under the timeline lock. */
  private async publish(interactionId: string, customerId: string | undefined, created: boolean): Promise<Interaction> {
    const fresh = await this.syncTimeline(interactionId, customerId);
    if (!fresh) throw new AppError('internal', 'Interaction vanished while recording', { interactionId }, false);
    const interaction = toInteraction(fresh);
    await this.notifyListeners(interaction, created);
    return interaction;
  }

  private async notifyListeners(interaction: Interaction, created: boolean): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener({ interaction, created });
      } catch (error) {
        this.log.error({ err: error, interactionId: interaction.id }, 'interaction listener failed');
      }
    }
  }

  /**
   * Records an external event exactly once. Concurrent deliveries of the same id are serialized by a
   * Redis lock; the durable claim in `inbound_keys` carries the interaction and entry ids, so a
   * retry after a crash finishes the same writes instead of duplicating them.
   */
  async recordInboundEvent(event: InboundEvent): Promise<RecordedEvent> {
    const lockKey = `${this.redisKeyPrefix}lock:inbound:${event.externalId}`;
    return withLock(this.redis, lockKey, { ttlMs: 30_000, waitMs: 10_000 }, async () => {
      const existing = await this.interactions.findKey(event.externalId);
      if (existing?.recordedAt) {
        const interaction = await this.interactions.findById(existing.interactionId);
        if (!interaction) throw new AppError('internal', 'Recorded event points at a missing interaction', { externalId: event.externalId }, false);
        this.log.info({ interactionId: existing.interactionId, externalId: event.externalId }, 'duplicate inbound event ignored');
        return { interaction: toInteraction(interaction), entryId: existing.entryId, duplicate: true, created: false };
      }
      const target = event.appendTo && !existing ? await this.interactions.findById(event.appendTo) : undefined;
      if (event.appendTo && target === null) throw AppError.notFound('Interaction', event.appendTo);
      const at = event.entry.at ?? new Date();
      const claim =
        existing ??
        (await this.interactions.claimKey({ _id: event.externalId, interactionId: event.appendTo ?? newId(), entryId: newId(), at }));
      const created = !event.appendTo;
      const seed = { customerId: event.customerId, channel: event.channel, direction: event.direction, status: event.status ?? 'open', subject: event.subject, queue: event.queue };
      const entry: StoredEntry = { ...event.entry, _id: claim.entryId, at: claim.at, externalId: event.externalId };
      // First delivery of a new contact (the hot path of every call and text): the interaction is
      // written whole with its entry, and its timeline item with its summary. Nobody else can know the
      // fresh id before the key is marked recorded, so no timeline lock and no re-read are needed.
      const fresh = created && !existing ? await this.interactions.createWithEntry(claim.interactionId, seed, entry, event.externalId) : null;
      if (fresh) {
        await this.interactions.addToTimeline(fresh.customerId, [{ interactionId: fresh._id, at: fresh.createdAt, channel: fresh.channel, summary: summarize(fresh) }]);
        await this.interactions.markKeyRecorded(event.externalId, new Date());
        this.log.info({ interactionId: claim.interactionId, channel: event.channel, created }, 'inbound event recorded');
        const recorded = toInteraction(fresh);
        await this.notifyListeners(recorded, created);
        return { interaction: recorded, entryId: claim.entryId, duplicate: false, created };
      }
      // A retry after a crash (the claim existed) or an event joining an existing interaction. The
      // timeline item is put by syncTimeline (which appends it when missing), not appended here: an
      // item without summary next to the one with it would list the interaction twice.
      if (created) await this.interactions.upsert(claim.interactionId, seed, claim.at);
      await this.interactions.appendEntryOnce(claim.interactionId, entry, event.externalId);
      await this.interactions.markKeyRecorded(event.externalId, new Date());
      this.log.info({ interactionId: claim.interactionId, channel: event.channel, created }, 'inbound event recorded');
      const recorded = await this.publish(claim.interactionId, target?.customerId ?? (created ? event.customerId : undefined), created);
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
    await this.interactions.upsert(
      id,
      { customerId: input.customerId, channel: input.channel, direction: input.direction, status: input.status ?? 'open', subject: input.subject },
      at,
    );
    await this.interactions.addToTimeline(input.customerId, [{ interactionId: id, at, channel: input.channel }]);
    if (input.firstEntry) await this.interactions.pushEntry(id, { ...input.firstEntry, _id: newId(), at: input.firstEntry.at ?? at });
    this.log.info({ interactionId: id, channel: input.channel }, 'interaction created');
    return this.publish(id, input.customerId, true);
  }

  async appendEntry(interactionId: string, entry: NewEntry): Promise<Entry> {
    const interaction = await this.interactions.findById(interactionId);
    if (!interaction) throw AppError.notFound('Interaction', interactionId);
    const stored: StoredEntry = { ...entry, _id: newId(), at: entry.at ?? new Date() };
    await this.interactions.pushEntry(interactionId, stored);
    await this.syncTimeline(interactionId, interaction.customerId);
    return toEntry(stored);
  }

  async addNote(interactionId: string, note: { text: string; authorId: string }): Promise<Entry> {
    const entry = await this.appendEntry(interactionId, { kind: 'note', direction: 'internal', text: note.text, authorId: note.authorId });
    this.log.info({ interactionId, entryId: entry.id, authorId: note.authorId }, 'note added');
    return entry;
  }

  async getInteraction(id: string): Promise<Interaction> {
    const stored = await this.interactions.findById(id);
    if (!stored) throw AppError.notFound('Interaction', id);
    return toInteraction(stored);
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
    const items = (await this.interactions.readTimeline(customerId)).filter((item) => !page.channel || item.channel === page.channel);
    const refs = items.map((item) => ({ ...item, interactionId: item.interactionId, at: new Date(item.at) }));
    const { page: pageRefs, nextCursor } = pageTimeline(refs, page.limit, page.cursor);
    const needFull = pageRefs.filter((ref) => page.includeEntries || !ref.summary).map((ref) => ref.interactionId);
    const stored = await this.interactions.findManyByIds(needFull);
    const byId = new Map(stored.map((interaction) => [interaction._id, interaction]));
    const result = pageRefs.flatMap((ref): Interaction[] => {
      const full = byId.get(ref.interactionId);
      if (full && page.includeEntries) return [toInteraction(full)];
      if (full) return [fromSummary({ ...ref, summary: summarize(full) })];
      return ref.summary ? [fromSummary({ ...ref, summary: ref.summary })] : [];
    });
    return { items: result, nextCursor };
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
    const claim = await this.interactions.claimKey({ _id: externalId, interactionId: target.interactionId, entryId: target.entryId, at: new Date() });
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
    const refs = (await this.interactions.readTimeline(customerId))
      .filter((item) => item.channel === channel)
      .map((item) => ({ interactionId: item.interactionId, at: new Date(item.at) }));
    // Only the newest few can be open and recent; older ones are not worth a read.
    const { page } = pageTimeline(refs, 3);
    for (const interaction of await this.interactions.findManyByIds(page.map((ref) => ref.interactionId))) {
      const open = !closedStatuses.has(interaction.status);
      if (open && new Date(interaction.lastActivityAt) >= activeSince) return toInteraction(interaction);
    }
    return null;
  }

  /**
   * Changes status, lifecycle timestamps, queue or agent; flags are added, never removed. An `entry`
   * recording why (routing's "accepted") goes in with the change: one write, one timeline sync.
   */
  async updateInteraction(
    id: string,
    changes: Partial<{ status: InteractionStatus; queue: string; agentId: string; subject: string; queuedAt: Date; offeredAt: Date; answeredAt: Date; endedAt: Date }>,
    addFlags: string[] = [],
    options: { entry?: NewEntry } = {},
  ): Promise<Interaction> {
    const entry: StoredEntry | undefined = options.entry ? { ...options.entry, _id: newId(), at: options.entry.at ?? new Date() } : undefined;
    const updated = await this.interactions.updateAndRead(id, changes, addFlags, entry);
    if (!updated) throw AppError.notFound('Interaction', id);
    return this.publish(id, updated.customerId, false);
  }

  /**
   * Updates fields of one entry (e.g. an outbound SMS's delivery status) under a per-interaction
   * lock, since the entry is addressed by its position read just before.
   */
  async updateEntry(interactionId: string, entryId: string, fields: { data?: Record<string, unknown>; flags?: string[] }): Promise<Entry> {
    const lockKey = `${this.redisKeyPrefix}lock:interaction:${interactionId}`;
    return withLock(this.redis, lockKey, { ttlMs: 10_000, waitMs: 10_000 }, async () => {
      const interaction = await this.interactions.findById(interactionId);
      const index = interaction?.entries.findIndex((entry) => entry._id === entryId) ?? -1;
      if (!interaction || index < 0) throw AppError.notFound('Entry', entryId);
      const current = interaction.entries[index];
      const set: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(fields.data ?? {})) set[`data.${key}`] = value;
      if (fields.flags) set.flags = [...new Set([...(current.flags ?? []), ...fields.flags])];
      await this.interactions.setEntryFields(interactionId, index, set);
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
      const interaction = await this.interactions.findById(interactionId);
      const entryIndex = interaction?.entries.findIndex((entry) => entry._id === entryId) ?? -1;
      const attachment = entryIndex < 0 ? undefined : interaction!.entries[entryIndex].attachments?.[index];
      if (!attachment) throw AppError.notFound('Attachment', `${entryId}/${index}`);
      const { flags, ...values } = fields;
      const set: Record<string, unknown> = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined).map(([key, value]) => [`attachments.${index}.${key}`, value]));
      if (flags?.length) set[`attachments.${index}.flags`] = [...new Set([...(attachment.flags ?? []), ...flags])];
      await this.interactions.setEntryFields(interactionId, entryIndex, set);
    });
  }

  /** Moves a merged customer's interactions to the survivor; registered as a customer merge listener. */
  async moveCustomerInteractions(merge: { fromCustomerId: string; intoCustomerId: string }): Promise<void> {
    const moved = await this.interactions.moveCustomer(merge.fromCustomerId, merge.intoCustomerId);
    this.log.info({ customerId: merge.intoCustomerId, mergedCustomerId: merge.fromCustomerId, moved }, 'interactions moved after merge');
  }
}

import mongoose, { type Connection } from 'mongoose';
import { isDuplicateKeyError } from '../platform/errors';
import {
  interactionModels,
  type EntryDocument,
  type InboundKeyDocument,
  type InteractionDocument,
  type InteractionStatus,
  type TimelineItem,
} from './interaction.model';

export type StoredInteraction = InteractionDocument;
export type StoredEntry = EntryDocument;

export type InteractionSeed = Pick<InteractionDocument, 'customerId' | 'channel' | 'direction' | 'status'> &
  Partial<Pick<InteractionDocument, 'subject' | 'queue' | 'agentId'>>;

export class InteractionRepository {
  private readonly models;

  constructor(connection: Connection) {
    this.models = interactionModels(connection);
  }

  findKey(key: string): Promise<InboundKeyDocument | null> {
    return this.models.InboundKey.findById(key).lean<InboundKeyDocument>().exec();
  }

  /** Stores the ids an event will produce; returns whichever claim is stored (ours or an earlier one). */
  async claimKey(claim: Omit<InboundKeyDocument, 'recordedAt'>): Promise<InboundKeyDocument> {
    try {
      await this.models.InboundKey.create(claim);
      return claim;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const stored = await this.findKey(claim._id);
      if (!stored) throw error;
      return stored;
    }
  }

  async markKeyRecorded(key: string, at: Date): Promise<void> {
    await this.models.InboundKey.updateOne({ _id: key }, { $set: { recordedAt: at } }).exec();
  }

  findById(id: string): Promise<StoredInteraction | null> {
    return this.models.Interaction.findById(id).lean<StoredInteraction>().exec();
  }

  /** Primary-key reads in parallel: on FerretDB an `$in` on `_id` is not served by the index. */
  async findManyByIds(ids: readonly string[]): Promise<StoredInteraction[]> {
    const found = await Promise.all(ids.map((id) => this.findById(id)));
    return found.filter((interaction): interaction is StoredInteraction => interaction !== null);
  }

  /**
   * Creates the interaction if absent, so a retried event converges on the same document.
   * Insert-or-ignore rather than an upsert: FerretDB 1.24 drops empty arrays from `$setOnInsert`.
   */
  async upsert(id: string, seed: InteractionSeed, at: Date): Promise<void> {
    try {
      await this.models.Interaction.create({
        _id: id,
        ...seed,
        externalIds: [],
        entries: [],
        entryCount: 0,
        flags: [],
        createdAt: at,
        updatedAt: at,
        lastActivityAt: at,
        ...(seed.status === 'queued' ? { queuedAt: at } : {}),
      });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  /**
   * Creates the interaction with its first entry in one write and returns what was stored; null when
   * an interaction with this id already exists (then nothing was written). A first delivery's fast
   * path: a retry that finds the id taken appends its entry with `appendEntryOnce` instead.
   */
  async createWithEntry(id: string, seed: InteractionSeed, entry: StoredEntry, externalId: string): Promise<StoredInteraction | null> {
    try {
      const created = await this.models.Interaction.create({
        _id: id,
        ...seed,
        externalIds: [externalId],
        entries: [entry],
        entryCount: 1,
        flags: [],
        createdAt: entry.at,
        updatedAt: entry.at,
        lastActivityAt: entry.at,
        ...(seed.status === 'queued' ? { queuedAt: entry.at } : {}),
      });
      return created.toObject<StoredInteraction>();
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return null;
    }
  }

  /** Appends the entry unless an entry with its id is already there. Callers hold the event's lock. */
  async appendEntryOnce(interactionId: string, entry: StoredEntry, externalId?: string): Promise<boolean> {
    const current = await this.models.Interaction.findById(interactionId).lean<StoredInteraction>().exec();
    if (current?.entries?.some((existing) => existing._id === entry._id)) return false;
    await this.pushEntry(interactionId, entry, externalId);
    return true;
  }

  /** Appends an entry whose id is new (freshly generated), so no check for an earlier copy is needed. */
  async pushEntry(interactionId: string, entry: StoredEntry, externalId?: string): Promise<void> {
    await this.models.Interaction.updateOne(
      { _id: interactionId },
      {
        $push: { entries: entry },
        $inc: { entryCount: 1 },
        $max: { lastActivityAt: entry.at },
        $set: { updatedAt: new Date() },
        ...(externalId ? { $addToSet: { externalIds: externalId } } : {}),
      },
      { timestamps: false },
    ).exec();
  }

  /** Sets fields of one entry, addressed by position (entries are append-only, positions never move). */
  async setEntryFields(interactionId: string, entryIndex: number, fields: Record<string, unknown>): Promise<void> {
    const set = Object.fromEntries(Object.entries(fields).map(([path, value]) => [`entries.${entryIndex}.${path}`, value]));
    await this.models.Interaction.updateOne({ _id: interactionId }, { $set: { ...set, updatedAt: new Date() } }, { timestamps: false }).exec();
  }

  /**
   * Sets fields, adds flags and optionally appends an entry (with a fresh id), returning the document
   * as written (null when there is none): one round trip.
   */
  updateAndRead(id: string, set: Record<string, unknown>, addFlags: string[] = [], entry?: StoredEntry): Promise<StoredInteraction | null> {
    return this.models.Interaction.findOneAndUpdate(
      { _id: id },
      {
        $set: { ...set, updatedAt: new Date() },
        ...(addFlags.length ? { $addToSet: { flags: { $each: addFlags } } } : {}),
        ...(entry ? { $push: { entries: entry }, $inc: { entryCount: 1 }, $max: { lastActivityAt: entry.at } } : {}),
      },
      { returnDocument: 'after', timestamps: false },
    )
      .lean<StoredInteraction>()
      .exec();
  }

  async addToTimeline(customerId: string, items: TimelineItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.models.Timeline.updateOne({ _id: customerId }, { $addToSet: { items: { $each: items } } }, { upsert: true }).exec();
  }

  /**
   * Replaces one item of the customer's timeline (found by position, read just before; items are
   * append-only) or appends it. Callers hold the customer's timeline lock.
   */
  async putTimelineItem(customerId: string, item: TimelineItem): Promise<void> {
    const items = await this.readTimeline(customerId);
    const index = items.findIndex((existing) => existing.interactionId === item.interactionId);
    if (index < 0) {
      await this.addToTimeline(customerId, [item]);
      return;
    }
    await this.models.Timeline.updateOne({ _id: customerId }, { $set: { [`items.${index}`]: item } }).exec();
  }

  async readTimeline(customerId: string): Promise<TimelineItem[]> {
    const timeline = await this.models.Timeline.findById(customerId).lean<{ items: TimelineItem[] }>().exec();
    return timeline?.items ?? [];
  }

  /** Moves every interaction of one customer to another (after a merge). Idempotent step by step. */
  async moveCustomer(fromCustomerId: string, toCustomerId: string): Promise<number> {
    const items = await this.readTimeline(fromCustomerId);
    for (const item of items) {
      await this.models.Interaction.updateOne({ _id: item.interactionId }, { $set: { customerId: toCustomerId } }).exec();
    }
    const moved = items.map((item) => (item.summary ? { ...item, summary: { ...item.summary, customerId: toCustomerId } } : item));
    const already = new Set((await this.readTimeline(toCustomerId)).map((item) => item.interactionId));
    await this.addToTimeline(toCustomerId, moved.filter((item) => !already.has(item.interactionId)));
    await this.models.Timeline.updateOne({ _id: fromCustomerId }, { $set: { items: [] } }).exec();
    return items.length;
  }

  /** Generic listing for integrators. Indexed on MongoDB; a scan on FerretDB (see README). */
  list(filter: { status?: InteractionStatus; channel?: string; before?: Date }, limit: number): Promise<StoredInteraction[]> {
    const query: Record<string, unknown> = {};
    if (filter.status) query.status = filter.status;
    if (filter.channel) query.channel = filter.channel;
    // trusted(): the operator is ours, built from a validated date, not from user input.
    if (filter.before) query.createdAt = mongoose.trusted({ $lt: filter.before });
    return this.models.Interaction.find(query, { entries: 0 })
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit)
      .lean<StoredInteraction[]>()
      .exec();
  }
}

import mongoose, { type Connection } from 'mongoose';
import { isDuplicateKeyError } from '../platform/errors';
import { InteractionChain } from './interaction-chain';
import { assembleConversation, conversationIdOf, defaultCaps, entryBytes, type InteractionCaps } from './interaction-parts';
import {
  interactionModels,
  type EntryDocument,
  type InboundKeyDocument,
  type InteractionDocument,
  type InteractionStatus,
  type TimelineDocument,
  type TimelineItem,
} from './interaction.model';
import { summaryKey, timelineItems, timelineRef, versionedSummary } from './timeline-summary';

export type StoredInteraction = InteractionDocument;
export type StoredEntry = EntryDocument;

export type InteractionSeed = Pick<InteractionDocument, 'customerId' | 'channel' | 'direction' | 'status'> &
  Partial<Pick<InteractionDocument, 'subject' | 'queue' | 'agentId'>>;

export class InteractionRepository {
  private readonly models;
  private readonly chain: InteractionChain;

  constructor(connection: Connection, caps: InteractionCaps = defaultCaps) {
    this.models = interactionModels(connection);
    this.chain = new InteractionChain(this.models.Interaction, caps);
  }

  findKey(key: string): Promise<InboundKeyDocument | null> {
    return this.models.InboundKey.findById(key).lean<InboundKeyDocument>().exec();
  }

  /**
   * Stores the ids an event will produce, or finds the claim stored earlier: `claimed` says whether
   * it is ours. The insert comes first, so a first delivery costs one write and no read.
   */
  async claimKey(claim: Omit<InboundKeyDocument, 'recordedAt'>): Promise<{ key: InboundKeyDocument; claimed: boolean }> {
    try {
      await this.models.InboundKey.create(claim);
      return { key: claim, claimed: true };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const stored = await this.findKey(claim._id);
      if (!stored) throw error;
      return { key: stored, claimed: false };
    }
  }

  async markKeyRecorded(key: string, at: Date): Promise<void> {
    await this.models.InboundKey.updateOne({ _id: key }, { $set: { recordedAt: at } }).exec();
  }

  /** Drops an unrecorded claim (its target turned out not to exist), so a later delivery starts afresh. */
  async releaseKey(key: string): Promise<void> {
    await this.models.InboundKey.deleteOne({ _id: key, recordedAt: null }).exec();
  }

  findById(id: string): Promise<StoredInteraction | null> {
    return this.models.Interaction.findById(id).lean<StoredInteraction>().exec();
  }

  /**
   * Creates the interaction if absent, so a retried event converges on the same document.
   * Insert-or-ignore rather than an upsert: FerretDB 1.24 drops empty arrays from `$setOnInsert`.
   */
  async upsert(id: string, seed: InteractionSeed, at: Date): Promise<void> {
    await this.create(id, seed, at);
  }

  /**
   * Creates the interaction, with its first entry if given, in one write (version 1) and returns
   * what was stored; null when an interaction with this id already exists (then nothing was
   * written). Created at `at`; last active at the later of `at` and the entry's time.
   */
  async create(id: string, seed: InteractionSeed, at: Date, first?: { entry: StoredEntry; externalId?: string }): Promise<StoredInteraction | null> {
    const entryAt = first ? new Date(first.entry.at) : at;
    try {
      const created = await this.models.Interaction.create({
        _id: id,
        ...seed,
        externalIds: first?.externalId ? [first.externalId] : [],
        entries: first ? [first.entry] : [],
        entryCount: first ? 1 : 0,
        partEntries: first ? 1 : 0,
        partBytes: first ? entryBytes([first.entry]) : 0,
        flags: [],
        createdAt: at,
        updatedAt: at,
        lastActivityAt: entryAt > at ? entryAt : at,
        version: 1,
        ...(seed.status === 'queued' ? { queuedAt: at } : {}),
      });
      return created.toObject<StoredInteraction>();
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return null;
    }
  }

  /**
   * Appends the entry of external event `externalId` unless it is already there, and returns the
   * newest part as written (or as found, when it was there); null when there is no interaction.
   * The entry's external id joins `externalIds` in the same write, so its presence there says the
   * entry was appended. (FerretDB 1.24 evaluates `entries._id: {$ne}` wrongly on arrays of
   * documents; on an array of strings it is right.) `searchEarlierParts` (a retry after a crash)
   * also looks for it in the parts before the newest. Callers hold the event's lock.
   */
  async appendEntryOnce(interactionId: string, entry: StoredEntry, externalId: string, searchEarlierParts = false): Promise<StoredInteraction | null> {
    if (searchEarlierParts) {
      const parts = await this.readParts(interactionId);
      if (parts.some((part) => part.externalIds?.includes(externalId))) return parts[parts.length - 1];
    }
    return this.chain.write(interactionId, { entries: [entry], externalId }, { externalIdAbsent: externalId });
  }

  /**
   * Appends an entry whose id is new (freshly generated), so no check for an earlier copy is
   * needed; returns the newest part as written, null when there is none.
   */
  pushEntry(interactionId: string, entry: StoredEntry, externalId?: string): Promise<StoredInteraction | null> {
    return this.chain.write(interactionId, { entries: [entry], externalId });
  }

  /** The newest part of the conversation `id` names (the part itself when it was never continued). */
  findHead(id: string, options: { entries?: boolean } = {}): Promise<StoredInteraction | null> {
    return this.chain.findHead(id, options);
  }

  /** Every part of the conversation `id` names, oldest first. */
  readParts(id: string): Promise<StoredInteraction[]> {
    return this.chain.readParts(id);
  }

  /** The conversation as one interaction (see `assembleConversation`); null when there is none. */
  async readConversation(id: string): Promise<StoredInteraction | null> {
    const parts = await this.chain.readParts(id);
    return parts.length ? assembleConversation(parts) : null;
  }

  /** The part holding entry `entryId` of the conversation `id`. */
  findPartWithEntry(id: string, entryId: string): Promise<StoredInteraction | null> {
    return this.chain.findPartWithEntry(id, entryId);
  }

  /**
   * Sets fields of one entry, addressed by position (entries are append-only, positions never move).
   * No version change: entry data, flags and attachments are not part of the timeline summary.
   */
  async setEntryFields(interactionId: string, entryIndex: number, fields: Record<string, unknown>): Promise<void> {
    const set = Object.fromEntries(Object.entries(fields).map(([path, value]) => [`entries.${entryIndex}.${path}`, value]));
    await this.models.Interaction.updateOne({ _id: interactionId }, { $set: { ...set, updatedAt: new Date() } }, { timestamps: false }).exec();
  }

  /**
   * Sets fields, adds flags and optionally appends an entry (with a fresh id), returning the document
   * as written (null when there is none): one round trip.
   */
  updateAndRead(
    id: string,
    set: Record<string, unknown>,
    addFlags: string[] = [],
    entries: StoredEntry[] = [],
    condition: { statusIn?: InteractionStatus[]; setIfUnset?: Record<string, Date> } = {},
  ): Promise<StoredInteraction | null> {
    return this.chain.write(id, { set, addFlags, entries, ...(condition.setIfUnset ? { setIfUnset: condition.setIfUnset } : {}) }, condition.statusIn ? { statusIn: condition.statusIn } : {});
  }

  /** Appends refs (no summaries) to the customer's timeline, creating it if needed. */
  async addToTimeline(customerId: string, items: TimelineItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.models.Timeline.updateOne({ _id: customerId }, { $addToSet: { items: { $each: items } } }, { upsert: true }).exec();
  }

  /**
   * Lists a just-created interaction on its customer's timeline, ref and summary in one write.
   * Unconditional: nobody else knows the fresh id yet, so no newer summary can be there.
   */
  async addNewToTimeline(stored: StoredInteraction): Promise<void> {
    await this.models.Timeline.updateOne(
      { _id: stored.customerId },
      { $addToSet: { items: timelineRef(stored) }, $set: { [`summaries.${summaryKey(stored._id)}`]: versionedSummary(stored) } },
      { upsert: true },
    ).exec();
  }

  /**
   * Writes the summary of the interaction as given (as written by the caller's update), on the
   * timeline of the customer it names, unless the summary stored there is as new or newer: one
   * update, no read, no lock. Missing timeline: the upsert creates it holding the summary only (the
   * ref is written when the interaction is created; see `timelineItems` for a summary without one).
   */
  async putSummary(stored: StoredInteraction): Promise<void> {
    const summary = versionedSummary(stored);
    const field = `summaries.${summaryKey(conversationIdOf(stored))}`;
    // trusted() on each operator object: sanitizeFilter would turn them into $eq matches.
    const olderOrAbsent = {
      _id: stored.customerId,
      $or: [{ [`${field}.version`]: mongoose.trusted({ $exists: false }) }, { [`${field}.version`]: mongoose.trusted({ $lt: summary.version }) }],
    };
    const update = { $set: { [field]: summary } };
    try {
      await this.models.Timeline.updateOne(olderOrAbsent, update, { upsert: true }).exec();
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // The timeline exists and did not match: either it holds a newer summary (nothing to do), or
      // it was created by a concurrent upsert between our filter and our insert. Now that it
      // exists, the same conditional update without upsert settles which.
      await this.models.Timeline.updateOne(olderOrAbsent, update).exec();
    }
  }

  /** The customer's timeline items, each with its current summary (see `timelineItems`). */
  async readTimeline(customerId: string): Promise<TimelineItem[]> {
    const timeline = await this.models.Timeline.findById(customerId).lean<TimelineDocument>().exec();
    return timelineItems(timeline);
  }

  /**
   * Moves every interaction of one customer to another (after a merge). Idempotent step by step.
   * Each move raises the interaction's version, so the survivor's summary (written from the moved
   * document) wins over any change written concurrently for the old customer, and any later change
   * (which names the survivor) wins over it.
   */
  async moveCustomer(fromCustomerId: string, toCustomerId: string): Promise<number> {
    const items = await this.readTimeline(fromCustomerId);
    // Refs first, so the survivor lists each interaction before its summary arrives.
    await this.addToTimeline(toCustomerId, items.map(({ interactionId, at, channel }) => ({ interactionId, at, channel })));
    for (const item of items) {
      // Every part, oldest first: the newest is moved last, so its summary is the one written.
      let moved: StoredInteraction | null = null;
      let next: string | undefined = item.interactionId;
      while (next) {
        moved = await this.models.Interaction.findOneAndUpdate({ _id: next }, { $set: { customerId: toCustomerId }, $inc: { version: 1 } }, { returnDocument: 'after' })
          .lean<StoredInteraction>()
          .exec();
        next = moved?.continuedIn;
      }
      if (moved) await this.putSummary(moved);
    }
    await this.models.Timeline.updateOne({ _id: fromCustomerId }, { $set: { items: [], summaries: {} } }).exec();
    return items.length;
  }

  /** Generic listing for integrators. Indexed on MongoDB; a scan on FerretDB (see README). */
  list(filter: { status?: InteractionStatus; channel?: string; before?: Date }, limit: number): Promise<StoredInteraction[]> {
    // Only the newest part of each conversation: it carries the conversation's state.
    const query: Record<string, unknown> = { continuedIn: mongoose.trusted({ $exists: false }) };
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

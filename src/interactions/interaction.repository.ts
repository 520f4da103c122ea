import mongoose, { Types, type Connection } from 'mongoose';
import { AppError, isDuplicateKeyError } from '../platform/errors';
import { assembleConversation, continuationOf, conversationIdOf, defaultCaps, entryBytes, fits, type InteractionCaps, type PartChange } from './interaction-parts';
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

// Each attempt is one write (and a read when it did not land): enough for many writers at a cap.
const maxWriteAttempts = 50;
// 10,000 parts of up to 200 entries: far past any real conversation; a guard against a broken chain.
const maxChainHops = 10_000;

export class InteractionRepository {
  private readonly models;

  constructor(
    connection: Connection,
    private readonly caps: InteractionCaps = defaultCaps,
  ) {
    this.models = interactionModels(connection);
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
    return this.writeChange(interactionId, { entries: [entry], externalId }, { externalIdAbsent: externalId });
  }

  /**
   * Appends an entry whose id is new (freshly generated), so no check for an earlier copy is
   * needed; returns the newest part as written, null when there is none.
   */
  pushEntry(interactionId: string, entry: StoredEntry, externalId?: string): Promise<StoredInteraction | null> {
    return this.writeChange(interactionId, { entries: [entry], externalId });
  }

  /**
   * Applies one change to the conversation's newest part and returns that part as written; null
   * when the conversation does not exist or `condition` does not hold. One conditional write in
   * the common case: the condition, "not continued" and "the entries fit under the caps" are
   * checked by the write itself. When the part is full, the rollover is claimed by setting its
   * `continuedIn` only where it is unset, so of two writers at the cap exactly one creates the
   * continuation (with its change in it) and the other retries there. A continuation that was
   * claimed but never created (a crash) is created by the next writer, from the claimed part.
   */
  private async writeChange(id: string, change: PartChange, condition: { statusIn?: InteractionStatus[]; externalIdAbsent?: string } = {}): Promise<StoredInteraction | null> {
    const entries = change.entries ?? [];
    const bytes = entryBytes(entries);
    const update = this.changeUpdate(change, bytes);
    let target = id;
    let previous: StoredInteraction | null = null;
    for (let attempt = 0; attempt < maxWriteAttempts; attempt += 1) {
      const written = await this.models.Interaction.findOneAndUpdate(this.writeFilter(target, entries.length, bytes, condition), update, { returnDocument: 'after', timestamps: false })
        .lean<StoredInteraction>()
        .exec();
      if (written) return written;
      // Why it did not land; without the entries (a full part is megabytes, none of it needed here).
      const current = await this.models.Interaction.findById(target, { entries: 0 }).lean<StoredInteraction>().exec();
      if (!current) {
        // Claimed but never created: create it from the part that claimed it, then write there.
        if (previous?.continuedIn !== target) return null;
        await this.insertPart(continuationOf(previous, target, undefined, new Date()));
        continue;
      }
      if (current.continuedIn) {
        previous = current;
        // From the first part, jump to the newest known part rather than walk the chain.
        target = !current.continuesFrom && current.headId ? current.headId : current.continuedIn;
        if (target !== current.continuedIn) previous = null;
        continue;
      }
      if (condition.externalIdAbsent && current.externalIds?.includes(condition.externalIdAbsent)) return current;
      if (condition.statusIn && !condition.statusIn.includes(current.status)) return null;
      if (entries.length === 0 || fits(current, entries.length, bytes, this.caps)) {
        if (current.partEntries === undefined) await this.countPart(target);
        continue;
      }
      const rolled = await this.rollOver(current, change, condition);
      if (rolled.created) return rolled.refused ? null : rolled.created;
      previous = rolled.from;
    }
    throw new AppError('unavailable', 'The conversation is changing too fast; retry', { interactionId: id });
  }

  /**
   * Claims the rollover of a full part and creates its continuation holding `change`. `created` is
   * null when another writer claimed it first (then `from` is the part as it is now, when known).
   */
  private async rollOver(full: StoredInteraction, change: PartChange, condition: { statusIn?: InteractionStatus[]; externalIdAbsent?: string }): Promise<{ created: StoredInteraction | null; from: StoredInteraction; refused?: boolean }> {
    const nextId = new Types.ObjectId().toHexString();
    // trusted(): the operator is ours. (No projection: FerretDB 1.24's findAndModify has none.)
    const claimed = await this.models.Interaction.findOneAndUpdate({ _id: full._id, continuedIn: mongoose.trusted({ $exists: false }) }, { $set: { continuedIn: nextId } }, { returnDocument: 'after', timestamps: false })
      .lean<StoredInteraction>()
      .exec();
    if (!claimed) return { created: null, from: full };
    // The condition is checked again on the part as claimed: the write that made it full may have changed it.
    const refused = Boolean(condition.statusIn && !condition.statusIn.includes(claimed.status));
    const present = Boolean(condition.externalIdAbsent && claimed.externalIds?.includes(condition.externalIdAbsent));
    const created = await this.insertPart(continuationOf(claimed, nextId, refused || present ? undefined : change, new Date()));
    // A hint only: a late write of an older head is corrected by following `continuedIn`.
    await this.models.Interaction.updateOne({ _id: conversationIdOf(claimed) }, { $set: { headId: nextId } }, { timestamps: false }).exec();
    return { created, from: claimed, refused };
  }

  /** Inserts a continuation part unless it exists; returns it as stored, or null when it existed. */
  private async insertPart(part: StoredInteraction): Promise<StoredInteraction | null> {
    try {
      const created = await this.models.Interaction.create(part);
      return created.toObject<StoredInteraction>();
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return null;
    }
  }

  /** Stores the entry count and bytes of a part written before parts had them (only while unset). */
  private async countPart(id: string): Promise<void> {
    const part = await this.findById(id);
    if (!part || part.partEntries !== undefined) return;
    await this.models.Interaction.updateOne(
      { _id: part._id, partEntries: mongoose.trusted({ $exists: false }) },
      { $set: { partEntries: part.entries.length, partBytes: entryBytes(part.entries) } },
      { timestamps: false },
    ).exec();
  }

  /** Matches the part only while it is the newest, the condition holds and the entries fit. */
  private writeFilter(id: string, count: number, bytes: number, condition: { statusIn?: InteractionStatus[]; externalIdAbsent?: string }): Record<string, unknown> {
    // trusted() on each operator object: the operators are ours, built from our own values.
    const filter: Record<string, unknown> = { _id: id, continuedIn: mongoose.trusted({ $exists: false }) };
    if (condition.statusIn) filter.status = mongoose.trusted({ $in: condition.statusIn });
    if (condition.externalIdAbsent) filter.externalIds = mongoose.trusted({ $ne: condition.externalIdAbsent });
    if (count > 0) {
      filter.$or = [
        { partEntries: 0 },
        { partEntries: mongoose.trusted({ $lte: this.caps.maxEntries - count }), partBytes: mongoose.trusted({ $lte: this.caps.maxBytes - bytes }) },
      ];
    }
    return filter;
  }

  /**
   * What every change that the timeline summary shows writes: its fields, flags and entries, and
   * always a new version (the summary's ordering rests on it), in one update document.
   */
  private changeUpdate(change: PartChange, bytes = 0): Record<string, unknown> {
    const entries = change.entries ?? [];
    const lastAt = entries.reduce<Date | undefined>((latest, entry) => (!latest || entry.at > latest ? entry.at : latest), undefined);
    const addToSet = {
      ...(change.addFlags?.length ? { flags: { $each: change.addFlags } } : {}),
      ...(change.externalId ? { externalIds: change.externalId } : {}),
    };
    return {
      $set: { ...change.set, updatedAt: new Date() },
      $inc: entries.length ? { entryCount: entries.length, partEntries: entries.length, partBytes: bytes, version: 1 } : { version: 1 },
      // $min on a timestamp sets it when absent and keeps an earlier one: "set unless already set".
      ...(change.setIfUnset ? { $min: change.setIfUnset } : {}),
      ...(Object.keys(addToSet).length ? { $addToSet: addToSet } : {}),
      ...(entries.length ? { $push: { entries: { $each: entries } }, $max: { lastActivityAt: lastAt } } : {}),
    };
  }

  /** The newest part of the conversation `id` names (the part itself when it was never continued). */
  async findHead(id: string, options: { entries?: boolean } = {}): Promise<StoredInteraction | null> {
    const read = (partId: string) => (options.entries === false ? this.models.Interaction.findById(partId, { entries: 0 }).lean<StoredInteraction>().exec() : this.findById(partId));
    const first = await read(id);
    if (!first?.continuedIn) return first;
    let last: string = first._id;
    let cursor = !first.continuesFrom && first.headId ? first.headId : first.continuedIn;
    for (let hop = 0; hop < maxChainHops; hop += 1) {
      const link = await this.models.Interaction.findById(cursor, { continuedIn: 1 }).lean<Pick<StoredInteraction, '_id' | 'continuedIn'>>().exec();
      // A continuation claimed but not yet created: the part before it is the newest there is.
      if (!link) return read(last);
      if (!link.continuedIn) return read(cursor);
      last = cursor;
      cursor = link.continuedIn;
    }
    throw new AppError('internal', 'Interaction chain too long', { interactionId: id }, false);
  }

  /** Every part of the conversation `id` names, oldest first (read from the newest backwards). */
  async readParts(id: string): Promise<StoredInteraction[]> {
    const head = await this.findHead(id);
    if (!head) return [];
    const parts = [head];
    let before = head.continuesFrom;
    while (before) {
      const part = await this.findById(before);
      if (!part) break;
      parts.unshift(part);
      before = part.continuesFrom;
    }
    return parts;
  }

  /** The conversation as one interaction (see `assembleConversation`); null when there is none. */
  async readConversation(id: string): Promise<StoredInteraction | null> {
    const parts = await this.readParts(id);
    return parts.length ? assembleConversation(parts) : null;
  }

  /** The part holding entry `entryId` of the conversation `id`, newest first (recent entries are the ones updated). */
  async findPartWithEntry(id: string, entryId: string): Promise<StoredInteraction | null> {
    let part = await this.findHead(id);
    while (part) {
      if (part.entries.some((entry) => entry._id === entryId)) return part;
      part = part.continuesFrom ? await this.findById(part.continuesFrom) : null;
    }
    return null;
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
    return this.writeChange(id, { set, addFlags, entries, ...(condition.setIfUnset ? { setIfUnset: condition.setIfUnset } : {}) }, condition.statusIn ? { statusIn: condition.statusIn } : {});
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

import mongoose, { Types, type Model } from 'mongoose';
import { AppError, isDuplicateKeyError } from '../platform/errors';
import type { InteractionDocument, InteractionStatus } from './interaction.model';
import { continuationOf, conversationIdOf, entryBytes, fits, type InteractionCaps, type PartChange } from './interaction-parts';

type StoredInteraction = InteractionDocument;
type WriteCondition = { statusIn?: InteractionStatus[]; externalIdAbsent?: string };

// Each attempt is one write (and a read when it did not land): enough for many writers at a cap.
const maxWriteAttempts = 50;
// 10,000 parts of up to 200 entries: far past any real conversation; a guard against a broken chain.
const maxChainHops = 10_000;

/**
 * The writes and reads of a conversation stored as a chain of parts (see `interaction-parts.ts`):
 * every change lands in the newest part, under the caps, without transactions. Used by the
 * interaction repository only.
 */
export class InteractionChain {
  constructor(
    private readonly model: Model<InteractionDocument>,
    private readonly caps: InteractionCaps,
  ) {}

  private findById(id: string): Promise<StoredInteraction | null> {
    return this.model.findById(id).lean<StoredInteraction>().exec();
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
  async write(id: string, change: PartChange, condition: WriteCondition = {}): Promise<StoredInteraction | null> {
    const entries = change.entries ?? [];
    const bytes = entryBytes(entries);
    const update = this.changeUpdate(change, bytes);
    let target = id;
    let previous: StoredInteraction | null = null;
    for (let attempt = 0; attempt < maxWriteAttempts; attempt += 1) {
      const written = await this.model.findOneAndUpdate(this.writeFilter(target, entries.length, bytes, condition), update, { returnDocument: 'after', timestamps: false })
        .lean<StoredInteraction>()
        .exec();
      if (written) return written;
      // Why it did not land; without the entries (a full part is megabytes, none of it needed here).
      const current = await this.model.findById(target, { entries: 0 }).lean<StoredInteraction>().exec();
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
  private async rollOver(full: StoredInteraction, change: PartChange, condition: WriteCondition): Promise<{ created: StoredInteraction | null; from: StoredInteraction; refused?: boolean }> {
    const nextId = new Types.ObjectId().toHexString();
    // trusted(): the operator is ours. (No projection: FerretDB 1.24's findAndModify has none.)
    const claimed = await this.model.findOneAndUpdate({ _id: full._id, continuedIn: mongoose.trusted({ $exists: false }) }, { $set: { continuedIn: nextId } }, { returnDocument: 'after', timestamps: false })
      .lean<StoredInteraction>()
      .exec();
    if (!claimed) return { created: null, from: full };
    // The condition is checked again on the part as claimed: the write that made it full may have changed it.
    const refused = Boolean(condition.statusIn && !condition.statusIn.includes(claimed.status));
    const present = Boolean(condition.externalIdAbsent && claimed.externalIds?.includes(condition.externalIdAbsent));
    const created = await this.insertPart(continuationOf(claimed, nextId, refused || present ? undefined : change, new Date()));
    // A hint only: a late write of an older head is corrected by following `continuedIn`.
    await this.model.updateOne({ _id: conversationIdOf(claimed) }, { $set: { headId: nextId } }, { timestamps: false }).exec();
    return { created, from: claimed, refused };
  }

  /** Inserts a continuation part unless it exists; returns it as stored, or null when it existed. */
  private async insertPart(part: StoredInteraction): Promise<StoredInteraction | null> {
    try {
      const created = await this.model.create(part);
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
    await this.model.updateOne(
      { _id: part._id, partEntries: mongoose.trusted({ $exists: false }) },
      { $set: { partEntries: part.entries.length, partBytes: entryBytes(part.entries) } },
      { timestamps: false },
    ).exec();
  }

  /** Matches the part only while it is the newest, the condition holds and the entries fit. */
  private writeFilter(id: string, count: number, bytes: number, condition: WriteCondition): Record<string, unknown> {
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
    const read = (partId: string) => (options.entries === false ? this.model.findById(partId, { entries: 0 }).lean<StoredInteraction>().exec() : this.findById(partId));
    const first = await read(id);
    if (!first?.continuedIn) return first;
    let last: string = first._id;
    let cursor = !first.continuesFrom && first.headId ? first.headId : first.continuedIn;
    for (let hop = 0; hop < maxChainHops; hop += 1) {
      const link = await this.model.findById(cursor, { continuedIn: 1 }).lean<Pick<StoredInteraction, '_id' | 'continuedIn'>>().exec();
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

  /** The parts before `part`, oldest first (read backwards from it; none when it continues nothing). */
  async partsBefore(part: Pick<StoredInteraction, 'continuesFrom'>): Promise<StoredInteraction[]> {
    const parts: StoredInteraction[] = [];
    let before = part.continuesFrom;
    for (let hop = 0; before && hop < maxChainHops; hop += 1) {
      const earlier = await this.findById(before);
      if (!earlier) break;
      parts.unshift(earlier);
      before = earlier.continuesFrom;
    }
    return parts;
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
}

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
  type TimelinePageDocument,
} from './interaction.model';
import { archivePages, mergeCopies, newestPosition, planArchive, type TimelineCopy, type TimelineHeadView, type TimelinePageView } from './timeline-archive';
import { summaryKey, timelineCopies, timelineRef, versionedSummary } from './timeline-summary';

export type StoredInteraction = InteractionDocument;
export type StoredEntry = EntryDocument;

export type InteractionSeed = Pick<InteractionDocument, 'customerId' | 'channel' | 'direction' | 'status'> &
  Partial<Pick<InteractionDocument, 'subject' | 'queue' | 'agentId'>>;

/** How many refs a timeline head document holds before its oldest move to archive pages. */
export const defaultTimelineHeadItems = 200;

const pageId = (customerId: string, number: number) => `${customerId}:${number}`;

export class InteractionRepository {
  private readonly models;
  private readonly chain: InteractionChain;

  constructor(
    connection: Connection,
    caps: InteractionCaps = defaultCaps,
    private readonly timelineHeadItems = defaultTimelineHeadItems,
  ) {
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

  /**
   * The conversation as one interaction, up to `part` as written (its newest part when it was just
   * written): `part` itself when it continues nothing (no read), else assembled with the parts before it.
   */
  async conversationThrough(part: StoredInteraction): Promise<StoredInteraction> {
    if (!part.continuesFrom) return part;
    return assembleConversation([...(await this.chain.partsBefore(part)), part]);
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

  /** Appends refs (no summaries) to the customer's timeline, creating it if needed; archives the oldest when the head is full. */
  async addToTimeline(customerId: string, items: TimelineItem[], options: { archive?: boolean } = {}): Promise<void> {
    if (items.length === 0) return;
    await this.addToHead(customerId, { $addToSet: { items: { $each: items } }, $inc: { count: items.length, rev: 1 } }, options.archive !== false);
  }

  /**
   * Lists a just-created interaction on its customer's timeline, ref and summary in one write;
   * archives the oldest when the head is full.
   * Unconditional: nobody else knows the fresh id yet, so no newer summary can be there.
   */
  async addNewToTimeline(stored: StoredInteraction): Promise<void> {
    await this.addToHead(
      stored.customerId,
      { $addToSet: { items: timelineRef(stored) }, $set: { [`summaries.${summaryKey(stored._id)}`]: versionedSummary(stored) }, $inc: { count: 1, rev: 1 } },
      true,
    );
  }

  /**
   * One write while the head has room (or does not exist yet: the upsert creates it), as before
   * heads were bounded. A full head (or one written before `count` existed) fails the filter, so
   * the upsert collides with it: then the same update without the filter, and an archive move.
   * (FerretDB 1.24 cannot project a findAndModify's answer, so the count is checked in the filter.)
   */
  private async addToHead(customerId: string, update: Record<string, unknown>, archive: boolean): Promise<void> {
    try {
      await this.models.Timeline.updateOne({ _id: customerId, count: mongoose.trusted({ $lt: this.timelineHeadItems }) }, update, { upsert: true }).exec();
      return;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    await this.models.Timeline.updateOne({ _id: customerId }, update, { upsert: true }).exec();
    if (archive) await this.archiveTimeline(customerId);
  }

  /**
   * Moves the head's oldest refs (with their summaries) to a new archive page until it holds at
   * most `timelineHeadItems` (see `planArchive`). Copy first: the page is written with an
   * idempotent upsert, then the head drops the moved items in one update that applies only if the
   * head is unchanged since it was read (`rev`), else the move starts over. A crash in between
   * leaves items in both places (readers keep one), never in neither.
   */
  async archiveTimeline(customerId: string): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const head = await this.models.Timeline.findById(customerId).lean<TimelineDocument>().exec();
      if (!head) return;
      const revIs = head.rev === undefined ? mongoose.trusted({ $exists: false }) : head.rev;
      const copies = timelineCopies(head);
      const move = planArchive(copies, this.timelineHeadItems);
      if (move.length === 0) {
        // The count is a hint (a retried ref counts twice): set it to the truth.
        if (head.count !== copies.length) await this.models.Timeline.updateOne({ _id: customerId, rev: revIs }, { $set: { count: copies.length }, $inc: { rev: 1 } }).exec();
        return;
      }
      const first = head.pages ?? 0;
      const moving = new Set(move.map((item) => item.interactionId));
      const pages = archivePages(move, this.timelineHeadItems, head.archivedThrough);
      for (const [offset, page] of pages.entries()) {
        const inPage = new Set(page.items.map((item) => item.interactionId));
        const refs = head.items.filter((item) => inPage.has(item.interactionId));
        const summaries = Object.fromEntries(
          page.items.flatMap((item) => {
            const summary = head.summaries?.[summaryKey(item.interactionId)];
            return summary ? [[`summaries.${summaryKey(item.interactionId)}`, summary] as const] : [];
          }),
        );
        // $addToSet: a copy left by an interrupted move (same page number, not yet counted in `pages`) is kept, never lost.
        await this.models.TimelinePage.updateOne(
          { _id: pageId(customerId, first + offset) },
          { $set: { customerId, number: first + offset, ...(page.before ? { before: page.before } : {}), ...summaries }, $addToSet: { items: { $each: refs } } },
          { upsert: true },
        ).exec();
      }
      const archivedThrough = newestPosition(head.archivedThrough, { at: new Date(move[0].at), interactionId: move[0].interactionId });
      const remaining = head.items.filter((item) => !moving.has(item.interactionId));
      const summaries = Object.fromEntries(Object.entries(head.summaries ?? {}).filter(([key]) => !moving.has(key.slice(1))));
      const done = await this.models.Timeline.updateOne(
        { _id: customerId, rev: revIs },
        { $set: { items: remaining, summaries, pages: first + pages.length, archivedThrough, count: remaining.length }, $inc: { rev: 1 } },
      ).exec();
      // Changed meanwhile: read again. Moved: go on while the head is still over.
      if (done.modifiedCount === 1 && remaining.length <= this.timelineHeadItems) return;
    }
  }

  /**
   * Writes the summary of the interaction as given (as written by the caller's update), where its
   * ref is, unless the summary stored there is as new or newer: one update, no read, no lock, when
   * the ref is in the head (nearly always). A ref moved to an archive page is looked for there,
   * newest page first. No ref anywhere (a summary written before its ref): the head takes the
   * summary alone, creating the timeline if needed (see `timelineItems`).
   */
  async putSummary(stored: StoredInteraction): Promise<void> {
    const summary = versionedSummary(stored);
    const interactionId = conversationIdOf(stored);
    const field = `summaries.${summaryKey(interactionId)}`;
    // trusted() on each operator object: sanitizeFilter would turn them into $eq matches.
    const olderOrAbsent = { $or: [{ [`${field}.version`]: mongoose.trusted({ $exists: false }) }, { [`${field}.version`]: mongoose.trusted({ $lt: summary.version }) }] };
    const inHead = await this.models.Timeline.updateOne({ _id: stored.customerId, 'items.interactionId': interactionId, ...olderOrAbsent }, { $set: { [field]: summary }, $inc: { rev: 1 } }).exec();
    if (inHead.matchedCount > 0) return;

    const head = await this.models.Timeline.findById(stored.customerId, { pages: 1, 'items.interactionId': 1 }).lean<Pick<TimelineDocument, 'pages' | 'items'>>().exec();
    // In the head with a newer summary: nothing to do.
    if (head?.items?.some((item) => item.interactionId === interactionId)) return;
    for (let number = (head?.pages ?? 0) - 1; number >= 0; number--) {
      const page = await this.models.TimelinePage.findById(pageId(stored.customerId, number), { 'items.interactionId': 1 }).lean<Pick<TimelinePageDocument, 'items'>>().exec();
      if (!page?.items?.some((item) => item.interactionId === interactionId)) continue;
      await this.models.TimelinePage.updateOne({ _id: pageId(stored.customerId, number), ...olderOrAbsent }, { $set: { [field]: summary } }).exec();
      return;
    }

    const headOnly = { _id: stored.customerId, ...olderOrAbsent };
    const update = { $set: { [field]: summary }, $inc: { rev: 1 } };
    try {
      await this.models.Timeline.updateOne(headOnly, update, { upsert: true }).exec();
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // The timeline exists and did not match: either it holds a newer summary (nothing to do), or
      // it was created by a concurrent upsert between our filter and our insert. Now that it
      // exists, the same conditional update without upsert settles which.
      await this.models.Timeline.updateOne(headOnly, update).exec();
    }
  }

  /** The head of the customer's timeline: its newest items (bounded), each with its summary's version. */
  async readTimelineHead(customerId: string): Promise<TimelineHeadView> {
    const head = await this.models.Timeline.findById(customerId).lean<TimelineDocument>().exec();
    return { items: timelineCopies(head), pages: head?.pages ?? 0, ...(head?.archivedThrough ? { archivedThrough: head.archivedThrough } : {}) };
  }

  /** One archive page of the customer's timeline; null when there is none. */
  async readTimelinePage(customerId: string, number: number): Promise<TimelinePageView | null> {
    const page = await this.models.TimelinePage.findById(pageId(customerId, number)).lean<TimelinePageDocument>().exec();
    return page ? { items: timelineCopies(page), ...(page.before ? { before: page.before } : {}) } : null;
  }

  /** Every item of the customer's timeline, head and archive pages, once each, newest first. Reads it all: not for hot paths. */
  async readTimeline(customerId: string): Promise<TimelineItem[]> {
    const head = await this.readTimelineHead(customerId);
    const copies: TimelineCopy[] = [...head.items];
    for (let number = 0; number < head.pages; number++) copies.push(...((await this.readTimelinePage(customerId, number))?.items ?? []));
    return mergeCopies(copies).map(({ version: _version, ...item }) => item);
  }

  /**
   * Moves every interaction of one customer to another (after a merge), archive pages first (oldest
   * first), then the head: each batch's refs join the survivor's head, which archives as it fills.
   * Idempotent step by step. Each move raises the interaction's version, so the survivor's summary
   * (written from the moved document) wins over any change written concurrently for the old
   * customer, and any later change (which names the survivor) wins over it.
   */
  async moveCustomer(fromCustomerId: string, toCustomerId: string): Promise<number> {
    const head = await this.readTimelineHead(fromCustomerId);
    const moved = new Set<string>();
    for (let number = 0; number <= head.pages; number++) {
      const batch = number < head.pages ? (await this.readTimelinePage(fromCustomerId, number))?.items ?? [] : head.items;
      const items = batch.filter((item) => !moved.has(item.interactionId));
      await this.moveItems(items, toCustomerId);
      for (const item of items) moved.add(item.interactionId);
    }
    // Pages before the head: a crash between the two leaves a head that still names its (now
    // gone) pages, whose items were all moved already; the other order would leave pages nobody names.
    if (head.pages > 0) await this.models.TimelinePage.deleteMany({ _id: mongoose.trusted({ $in: Array.from({ length: head.pages }, (_, number) => pageId(fromCustomerId, number)) }) }).exec();
    await this.models.Timeline.updateOne({ _id: fromCustomerId }, { $set: { items: [], summaries: {}, pages: 0, count: 0 }, $unset: { archivedThrough: 1 }, $inc: { rev: 1 } }).exec();
    return moved.size;
  }

  private async moveItems(items: TimelineItem[], toCustomerId: string): Promise<void> {
    if (items.length === 0) return;
    // Refs first, so the survivor lists each interaction before its summary arrives; archived
    // after the batch's summaries, so each summary finds its ref in the head (one write).
    await this.addToTimeline(toCustomerId, items.map(({ interactionId, at, channel }) => ({ interactionId, at: new Date(at), channel })), { archive: false });
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
    await this.archiveTimeline(toCustomerId);
  }

  /**
   * Every head part (the one carrying the conversation's state) matching `filter` on status and a
   * few plain fields, without entries, read through a cursor in batches: for the reconciler, which
   * walks what waits or is in agents' hands. Served by the `{ status: 1, createdAt: -1 }` index.
   */
  async *streamByStatus(
    statuses: readonly InteractionStatus[],
    filter: { direction?: string; channels?: readonly string[]; withAgent?: boolean } = {},
    batchSize = 500,
  ): AsyncGenerator<StoredInteraction> {
    // trusted(): the operators are ours, built from our own enums, not from user input.
    const query: Record<string, unknown> = {
      status: statuses.length === 1 ? statuses[0] : mongoose.trusted({ $in: [...statuses] }),
      continuedIn: mongoose.trusted({ $exists: false }),
    };
    if (filter.direction) query.direction = filter.direction;
    if (filter.channels) query.channel = mongoose.trusted({ $in: [...filter.channels] });
    if (filter.withAgent) query.agentId = mongoose.trusted({ $exists: true });
    const cursor = this.models.Interaction.find(query, { entries: 0 }).sort({ createdAt: -1 }).batchSize(batchSize).lean<StoredInteraction>().cursor();
    try {
      for await (const stored of cursor) yield stored as StoredInteraction;
    } finally {
      await cursor.close().catch(() => undefined);
    }
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

import { Schema, type Connection, type Model } from 'mongoose';

export const channels = ['voice', 'sms', 'email', 'web', 'fax', 'manual'] as const;
export type Channel = (typeof channels)[number];

export const directions = ['inbound', 'outbound', 'internal'] as const;
export type Direction = (typeof directions)[number];

/** Lifecycle of one contact; routing and channels move it forward. */
export const interactionStatuses = ['open', 'queued', 'offered', 'active', 'wrap_up', 'closed', 'abandoned', 'failed'] as const;
export type InteractionStatus = (typeof interactionStatuses)[number];

export const entryKinds = ['message', 'call_event', 'note', 'status_change', 'attachment', 'system'] as const;
export type EntryKind = (typeof entryKinds)[number];

export interface AttachmentMeta {
  name?: string;
  contentType: string;
  size?: number;
  url?: string;
  /** Content hash; also the stored file's name, so the sender's filename never becomes a path. */
  sha256?: string;
  path?: string;
  flags?: string[];
}

export interface EntryDocument {
  _id: string;
  kind: EntryKind;
  at: Date;
  direction?: Direction;
  text?: string;
  /** User id for notes and agent replies; absent for customer and system entries. */
  authorId?: string;
  /** The external event behind this entry (CallSid, MessageSid, Message-ID). */
  externalId?: string;
  /** Channel-specific facts, e.g. call status, SMS segments, email headers. */
  data?: Record<string, unknown>;
  attachments?: AttachmentMeta[];
  /** Raw input that could not be parsed is kept and flagged here rather than dropped. */
  flags?: string[];
}

export interface InteractionDocument {
  _id: string;
  customerId: string;
  channel: Channel;
  direction: Direction;
  status: InteractionStatus;
  subject?: string;
  queue?: string;
  agentId?: string;
  externalIds: string[];
  entries: EntryDocument[];
  entryCount: number;
  flags: string[];
  createdAt: Date;
  queuedAt?: Date;
  offeredAt?: Date;
  answeredAt?: Date;
  endedAt?: Date;
  lastActivityAt: Date;
  updatedAt: Date;
  /**
   * Raised by every write that changes what the timeline summary shows (1 on create), so summaries
   * written out of order keep the newest. Absent on interactions written before it existed.
   */
  version?: number;
  /**
   * A conversation longer than the caps is stored as a chain of parts (documents), oldest first.
   * `conversationId` is the first part's id, the one id the outside world knows (absent on the
   * first part itself); `continuesFrom` / `continuedIn` link neighbours. A part whose `continuedIn`
   * is set takes no more changes: the newest part (the head) carries the conversation's state.
   */
  conversationId?: string;
  continuesFrom?: string;
  continuedIn?: string;
  /** On the first part only: a hint to the newest part, so a write need not walk the chain. */
  headId?: string;
  /** Entries and their BSON bytes in this part (the caps are checked on these in the write itself). */
  partEntries?: number;
  partBytes?: number;
}

const attachmentSchema = new Schema<AttachmentMeta>(
  { name: String, contentType: { type: String, required: true }, size: Number, url: String, sha256: String, path: String, flags: { type: [String], default: undefined } },
  { _id: false },
);

const entrySchema = new Schema<EntryDocument>(
  {
    _id: { type: String, required: true },
    kind: { type: String, enum: entryKinds, required: true },
    at: { type: Date, required: true },
    direction: { type: String, enum: directions },
    text: String,
    authorId: String,
    externalId: String,
    data: Schema.Types.Mixed,
    attachments: { type: [attachmentSchema], default: undefined },
    flags: { type: [String], default: undefined },
  },
  { versionKey: false },
);

const interactionSchema = new Schema<InteractionDocument>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true },
    channel: { type: String, enum: channels, required: true },
    direction: { type: String, enum: directions, required: true },
    status: { type: String, enum: interactionStatuses, required: true },
    subject: String,
    queue: String,
    agentId: String,
    externalIds: { type: [String], default: [] },
    entries: { type: [entrySchema], default: [] },
    entryCount: { type: Number, default: 0 },
    flags: { type: [String], default: [] },
    queuedAt: Date,
    offeredAt: Date,
    answeredAt: Date,
    endedAt: Date,
    lastActivityAt: { type: Date, required: true },
    version: Number,
    conversationId: String,
    continuesFrom: String,
    continuedIn: String,
    headId: String,
    partEntries: Number,
    partBytes: Number,
  },
  { timestamps: true, versionKey: false, minimize: false },
);
// Serves the generic listing (`GET /api/interactions` by status/channel, newest first) on MongoDB.
// The per-customer timeline does not use it: it reads the customer's timeline document instead.
interactionSchema.index({ status: 1, createdAt: -1 });
interactionSchema.index({ channel: 1, createdAt: -1 });

/**
 * One document per customer listing their interactions, each with a summary (status, subject,
 * counts, a preview of the last message). The first timeline page is then ONE primary-key read,
 * whatever the size of the log; full entries load per interaction on demand. (FerretDB's SQLite
 * backend serves only `_id` equality from an index, so a `customerId` query would scan everything,
 * and reading 20 full interactions costs 20 reads of their whole entry lists.)
 *
 * `items` is the list of refs, appended once per interaction. Summaries live beside it in a map
 * keyed by interaction, each carrying the interaction's version: rewriting one is a single update
 * that only lands over an absent or older version, so no lock, no read and no position is needed,
 * and two nodes writing out of order still end with the newest.
 */
export interface TimelineDocument {
  _id: string;
  items: TimelineItem[];
  /** Keyed `i<interactionId>` (never all digits, so never read as an array index). */
  summaries?: Record<string, VersionedSummary>;
  /** Raised by every write, so moving items to an archive page can replace `items` only if nothing changed since it read them. */
  rev?: number;
  /** Refs added (a hint that decides when to archive; set to the true count by each archive move). */
  count?: number;
  /** Archive pages written, numbered 0 … pages - 1 (see `TimelinePageDocument`). */
  pages?: number;
  /** The newest archived item: every item newer than it is here. */
  archivedThrough?: { at: Date; interactionId: string };
}

/**
 * Older refs of a customer's timeline, moved out of the head document in pages (`_id`
 * `<customerId>:<number>`), each with the summaries of its items. Items move copy-first (page
 * written, then removed from the head by a conditional update), so a crash between the two leaves
 * an item in both places and readers keep one.
 */
export interface TimelinePageDocument {
  _id: string;
  customerId: string;
  number: number;
  items: TimelineItem[];
  summaries?: Record<string, VersionedSummary>;
  /** The newest item of every page numbered below this one (nothing newer is archived there). */
  before?: { at: Date; interactionId: string };
}

export interface TimelineItem {
  interactionId: string;
  at: Date;
  channel: Channel;
  /**
   * Stored inline only by documents written before `summaries` existed; when reading, the map's
   * entry when present, else this one, else absent (the interaction is read through instead).
   */
  summary?: TimelineSummary;
}

export interface TimelineSummary {
  customerId: string;
  direction: Direction;
  status: InteractionStatus;
  subject?: string;
  queue?: string;
  agentId?: string;
  flags: string[];
  externalIds: string[];
  entryCount: number;
  lastActivityAt: Date;
  queuedAt?: Date;
  offeredAt?: Date;
  answeredAt?: Date;
  endedAt?: Date;
  /** The last message's first characters, for the list view. */
  preview?: string;
}

export type VersionedSummary = TimelineSummary & { version: number };

const timelineSchema = new Schema<TimelineDocument>(
  {
    _id: { type: String, required: true },
    items: { type: [{ _id: false, interactionId: String, at: Date, channel: String, summary: Schema.Types.Mixed }], default: [] },
    // No default: on an upsert it would become a $setOnInsert that collides with `$set summaries.i…`.
    summaries: Schema.Types.Mixed,
    rev: Number,
    count: Number,
    pages: Number,
    archivedThrough: { _id: false, type: { at: Date, interactionId: String } },
  },
  { versionKey: false },
);

const timelinePageSchema = new Schema<TimelinePageDocument>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true },
    number: { type: Number, required: true },
    items: { type: [{ _id: false, interactionId: String, at: Date, channel: String, summary: Schema.Types.Mixed }], default: undefined },
    summaries: Schema.Types.Mixed,
    before: { _id: false, type: { at: Date, interactionId: String } },
  },
  { versionKey: false },
);

/**
 * The idempotency record of one external event (CallSid, MessageSid, Message-ID…). Claimed before
 * any write, with the ids it will produce, so a retry after a crash reuses the same ids and every
 * later step is an idempotent upsert.
 */
export interface InboundKeyDocument {
  _id: string;
  interactionId: string;
  entryId: string;
  at: Date;
  recordedAt?: Date;
}

const inboundKeySchema = new Schema<InboundKeyDocument>(
  {
    _id: { type: String, required: true },
    interactionId: { type: String, required: true },
    entryId: { type: String, required: true },
    at: { type: Date, required: true },
    recordedAt: Date,
  },
  { versionKey: false },
);

export function interactionModels(connection: Connection): {
  Interaction: Model<InteractionDocument>;
  Timeline: Model<TimelineDocument>;
  TimelinePage: Model<TimelinePageDocument>;
  InboundKey: Model<InboundKeyDocument>;
} {
  return {
    Interaction: connection.models.Interaction ?? connection.model<InteractionDocument>('Interaction', interactionSchema, 'interactions'),
    Timeline: connection.models.Timeline ?? connection.model<TimelineDocument>('Timeline', timelineSchema, 'customer_timelines'),
    TimelinePage: connection.models.TimelinePage ?? connection.model<TimelinePageDocument>('TimelinePage', timelinePageSchema, 'customer_timeline_pages'),
    InboundKey: connection.models.InboundKey ?? connection.model<InboundKeyDocument>('InboundKey', inboundKeySchema, 'inbound_keys'),
  };
}

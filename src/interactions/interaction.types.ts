import type { AttachmentMeta, Channel, Direction, EntryKind, InteractionStatus } from './interaction.model';

/** The plain shapes other modules see of the log (never mongoose documents). */
export interface Entry {
  id: string;
  kind: EntryKind;
  at: string;
  direction?: Direction;
  text?: string;
  authorId?: string;
  externalId?: string;
  data?: Record<string, unknown>;
  attachments?: AttachmentMeta[];
  flags?: string[];
}

export interface Interaction {
  id: string;
  customerId: string;
  channel: Channel;
  direction: Direction;
  status: InteractionStatus;
  subject?: string;
  queue?: string;
  agentId?: string;
  externalIds: string[];
  flags: string[];
  createdAt: string;
  queuedAt?: string;
  offeredAt?: string;
  answeredAt?: string;
  endedAt?: string;
  lastActivityAt: string;
  entryCount: number;
  /** The last message's first characters (timeline summaries). */
  preview?: string;
  /** In time order, oldest first. Absent in list summaries. */
  entries?: Entry[];
}

export interface NewEntry {
  kind: EntryKind;
  at?: Date;
  direction?: Direction;
  text?: string;
  authorId?: string;
  data?: Record<string, unknown>;
  attachments?: AttachmentMeta[];
  flags?: string[];
}

/** One event from outside (a call, a text, an email, an integrator's record). */
export interface InboundEvent {
  /**
   * Source-qualified external id, e.g. `twilio-call:CA…`, `twilio-sms:SM…`, `email:<message-id>`.
   * Recording the same id twice changes nothing.
   */
  externalId: string;
  customerId: string;
  channel: Channel;
  direction: Direction;
  status?: InteractionStatus;
  subject?: string;
  queue?: string;
  /** Append to this interaction (an open SMS conversation, an email thread) instead of opening one. */
  appendTo?: string;
  entry: NewEntry;
}

export interface RecordedEvent {
  interaction: Interaction;
  entryId: string;
  duplicate: boolean;
  created: boolean;
}

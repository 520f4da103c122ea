import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKeyError } from '../../platform/errors';
import { scanById } from '../../platform/repair-jobs';

/** queued → sending → done, or sending → retrying → sending… → done (sent, rejected or failed). */
export type EmailSendState = 'queued' | 'sending' | 'retrying' | 'done';

/**
 * The send record of one outbound email (`_id`: its entry id, also its job id). The entry holds the
 * message and its outcome; this small document exists so the reconciler can find the emails still
 * owed without reading every conversation (issue 13: Redis may lose the jobs, MongoDB keeps these).
 */
export interface EmailSendDocument {
  _id: string;
  interactionId: string;
  state: EmailSendState;
  /** When the current SMTP attempt began (state `sending`). */
  sendingSince?: Date;
  attempts: number;
  createdAt: Date;
  updatedAt: Date;
}

const emailSendSchema = new Schema<EmailSendDocument>(
  {
    _id: { type: String, required: true },
    interactionId: { type: String, required: true },
    state: { type: String, required: true },
    sendingSince: Date,
    attempts: { type: Number, default: 0 },
  },
  { versionKey: false, timestamps: true },
);
// The reconciler's scan for emails still owed.
emailSendSchema.index({ state: 1, _id: 1 });

function emailSendModel(connection: Connection): Model<EmailSendDocument> {
  return connection.models.EmailSend ?? connection.model<EmailSendDocument>('EmailSend', emailSendSchema, 'email_sends');
}

/** Data access of email send records; writes by `_id`, one scan for the reconciler. */
export class EmailSendRepository {
  private readonly Send: Model<EmailSendDocument>;

  constructor(connection: Connection) {
    this.Send = emailSendModel(connection);
  }

  /** Creates the record unless it exists (a retried sendEmail with the same idempotency key). */
  async create(send: Pick<EmailSendDocument, '_id' | 'interactionId'>): Promise<void> {
    try {
      await this.Send.create({ ...send, state: 'queued', attempts: 0 });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  find(entryId: string): Promise<EmailSendDocument | null> {
    return this.Send.findById(entryId).lean<EmailSendDocument>().exec();
  }

  async markSending(entryId: string, at: Date): Promise<void> {
    await this.Send.updateOne({ _id: entryId }, { $set: { state: 'sending', sendingSince: at }, $inc: { attempts: 1 } }).exec();
  }

  async markRetrying(entryId: string): Promise<void> {
    await this.Send.updateOne({ _id: entryId }, { $set: { state: 'retrying' } }).exec();
  }

  async markDone(entryId: string): Promise<void> {
    await this.Send.updateOne({ _id: entryId }, { $set: { state: 'done' } }).exec();
  }

  /** Sends not done, in `_id` order: the reconciler's input. */
  unfinished(): AsyncGenerator<EmailSendDocument> {
    return scanById(this.Send, { state: mongoose.trusted({ $in: ['queued', 'sending', 'retrying'] }) });
  }
}

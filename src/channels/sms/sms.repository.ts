import mongoose, { type Connection } from 'mongoose';
import { isDuplicateKeyError } from '../../platform/errors';
import { scanById } from '../../platform/repair-jobs';
import { smsModels, type ConsentAction, type SmsConsentDocument, type SmsSendDocument, type SmsStatusDocument } from './sms.model';
import { advanceDeliveryStatus, type DeliveryStatus } from './sms-status';

/** Insert-or-ignore: FerretDB 1.24 drops empty arrays from `$setOnInsert`, so no upserts here. */
async function insertOnce(create: () => Promise<unknown>): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

/** Data access of the SMS channel; every read and write is by `_id`. */
export class SmsRepository {
  private readonly models;

  constructor(connection: Connection) {
    this.models = smsModels(connection);
  }

  findConsent(address: string): Promise<SmsConsentDocument | null> {
    return this.models.Consent.findById(address).lean<SmsConsentDocument>().exec();
  }

  /**
   * Applies a keyword to an address's consent. The caller holds the sender's lock, so the read and
   * the write cannot interleave with another keyword from the same number.
   */
  /** Records a STOP/START once per MessageSid; `changed` says whether the number's consent flipped (a second STOP does not). */
  async recordConsent(address: string, change: { action: ConsentAction; at: Date; messageSid: string }): Promise<{ optedOut: boolean; changed: boolean }> {
    const optedOut = change.action === 'opt_out';
    if (await insertOnce(() => this.models.Consent.create({ _id: address, optedOut, history: [change], updatedAt: change.at }))) return { optedOut, changed: true };
    const current = await this.findConsent(address);
    if (current?.history?.some((item) => item.messageSid === change.messageSid)) return { optedOut: current.optedOut, changed: false };
    await this.models.Consent.updateOne({ _id: address }, { $set: { optedOut, updatedAt: change.at }, $push: { history: change } }).exec();
    return { optedOut, changed: current?.optedOut !== optedOut };
  }

  findSend(entryId: string): Promise<SmsSendDocument | null> {
    return this.models.Send.findById(entryId).lean<SmsSendDocument>().exec();
  }

  /** Creates the send record unless it exists (a retried sendSms with the same idempotency key). */
  async createSend(send: Pick<SmsSendDocument, '_id' | 'interactionId' | 'customerId' | 'to'>): Promise<void> {
    await insertOnce(() => this.models.Send.create({ ...send, state: 'queued', attempts: 0 }));
  }

  /** Sends not finished (queued, or sending with the outcome unknown), in `_id` order: the reconciler's input. */
  unfinishedSends(): AsyncGenerator<SmsSendDocument> {
    return scanById(this.models.Send, { state: mongoose.trusted({ $in: ['queued', 'sending'] }) });
  }

  async markSending(entryId: string, at: Date): Promise<void> {
    await this.models.Send.updateOne({ _id: entryId }, { $set: { state: 'sending', sendingSince: at }, $inc: { attempts: 1 } }).exec();
  }

  async markSent(entryId: string, sid: string): Promise<void> {
    await this.models.Send.updateOne({ _id: entryId }, { $set: { state: 'sent', sid } }).exec();
  }

  async markFailed(entryId: string, errorCode: string): Promise<void> {
    await this.models.Send.updateOne({ _id: entryId }, { $set: { state: 'failed', errorCode } }).exec();
  }

  /**
   * Folds a reported status into the furthest one stored for the sid (never backwards). The caller
   * holds the sid's lock. The error code kept is the one that came with the status kept.
   */
  async advanceStatus(sid: string, reported: DeliveryStatus | null, errorCode: string | undefined, at: Date): Promise<SmsStatusDocument | null> {
    const current = await this.models.Status.findById(sid).lean<SmsStatusDocument>().exec();
    if (!reported) return current;
    const status = advanceDeliveryStatus(current?.status, reported);
    if (current && status === current.status && (current.errorCode || !errorCode || status !== reported)) return current;
    const next: SmsStatusDocument = { _id: sid, status, ...(status === reported && errorCode ? { errorCode } : current?.errorCode ? { errorCode: current.errorCode } : {}), updatedAt: at };
    if (!current) {
      if (await insertOnce(() => this.models.Status.create(next))) return next;
    }
    await this.models.Status.updateOne({ _id: sid }, { $set: next }).exec();
    return next;
  }

  findSenderCustomer(rawFrom: string): Promise<{ customerId: string } | null> {
    return this.models.Sender.findById(rawFrom).lean<{ customerId: string }>().exec();
  }

  async saveSenderCustomer(rawFrom: string, customerId: string): Promise<void> {
    await insertOnce(() => this.models.Sender.create({ _id: rawFrom, customerId }));
  }
}

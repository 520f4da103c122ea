import { Schema, type Connection, type Model } from 'mongoose';
import type { DeliveryStatus } from './sms-status';

// Every collection here is keyed by a deterministic `_id` and only ever read by it: FerretDB's
// SQLite backend serves nothing else from an index.

export type ConsentAction = 'opt_out' | 'opt_in';

/** SMS consent of one address (`_id`: E.164 number, or the short code / sender id as received). */
export interface SmsConsentDocument {
  _id: string;
  optedOut: boolean;
  /** Every change, oldest first; `messageSid` makes a replayed keyword webhook a no-op. */
  history: { action: ConsentAction; at: Date; messageSid: string }[];
  updatedAt: Date;
}

const consentSchema = new Schema<SmsConsentDocument>(
  {
    _id: { type: String, required: true },
    optedOut: { type: Boolean, required: true },
    history: { type: [{ _id: false, action: String, at: Date, messageSid: String }], default: [] },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

export type SendState = 'queued' | 'sending' | 'sent' | 'failed';

/**
 * The send record of one outbound text (`_id`: its entry id, which is also the BullMQ job id). It is
 * what makes a retried job never send twice: `sending` without a sid means the last attempt's
 * outcome is unknown, so the next attempt asks Twilio before sending again.
 */
export interface SmsSendDocument {
  _id: string;
  interactionId: string;
  customerId: string;
  /** E.164 destination; kept here so job payloads carry ids only. */
  to: string;
  state: SendState;
  sid?: string;
  attempts: number;
  sendingSince?: Date;
  errorCode?: string;
  createdAt: Date;
  updatedAt: Date;
}

const sendSchema = new Schema<SmsSendDocument>(
  {
    _id: { type: String, required: true },
    interactionId: { type: String, required: true },
    customerId: { type: String, required: true },
    to: { type: String, required: true },
    state: { type: String, required: true },
    sid: String,
    attempts: { type: Number, default: 0 },
    sendingSince: Date,
    errorCode: String,
  },
  { versionKey: false, timestamps: true },
);
// The reconciler's scan for sends still owed (queued, or caught in `sending`) after Redis lost their jobs.
sendSchema.index({ state: 1, _id: 1 });

/**
 * The furthest delivery status Twilio reported for one MessageSid (`_id`). Kept apart from the
 * entry because callbacks can arrive before the worker has linked the sid to its entry; the worker
 * applies what was stored here once it links.
 */
export interface SmsStatusDocument {
  _id: string;
  status: DeliveryStatus;
  errorCode?: string;
  updatedAt: Date;
}

const statusSchema = new Schema<SmsStatusDocument>(
  { _id: { type: String, required: true }, status: { type: String, required: true }, errorCode: String, updatedAt: { type: Date, required: true } },
  { versionKey: false },
);

/** A sender that is not a phone number, short code or sender id (`_id`: From as received) and the placeholder customer holding its texts. */
export interface SmsSenderDocument {
  _id: string;
  customerId: string;
}

const senderSchema = new Schema<SmsSenderDocument>({ _id: { type: String, required: true }, customerId: { type: String, required: true } }, { versionKey: false });

export function smsModels(connection: Connection): {
  Consent: Model<SmsConsentDocument>;
  Send: Model<SmsSendDocument>;
  Status: Model<SmsStatusDocument>;
  Sender: Model<SmsSenderDocument>;
} {
  return {
    Consent: connection.models.SmsConsent ?? connection.model<SmsConsentDocument>('SmsConsent', consentSchema, 'sms_consents'),
    Send: connection.models.SmsSend ?? connection.model<SmsSendDocument>('SmsSend', sendSchema, 'sms_sends'),
    Status: connection.models.SmsStatus ?? connection.model<SmsStatusDocument>('SmsStatus', statusSchema, 'sms_statuses'),
    Sender: connection.models.SmsSender ?? connection.model<SmsSenderDocument>('SmsSender', senderSchema, 'sms_unrecognized_senders'),
  };
}

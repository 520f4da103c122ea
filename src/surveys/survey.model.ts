import { Schema, type Connection, type Model } from 'mongoose';

export const surveyStatuses = ['scheduled', 'pending', 'answered', 'expired', 'skipped'] as const;
export type SurveyStatus = (typeof surveyStatuses)[number];

/** How the survey reaches the customer (a voice contact is surveyed by SMS). */
export type SurveyChannel = 'sms' | 'email';

/**
 * One CSAT survey per interaction (`_id`: the interaction id, so "one per interaction" is the
 * unique key itself). scheduled → pending (sent) → answered | expired; or scheduled → skipped.
 */
export interface SurveyDocument {
  _id: string;
  customerId: string;
  channel: SurveyChannel;
  /** The surveyed contact's channel, queue and agent, as the reports need them. */
  contactChannel: string;
  queue?: string;
  agentId?: string;
  status: SurveyStatus;
  dueAt: Date;
  sentAt?: Date;
  expiresAt?: Date;
  score?: number;
  answeredAt?: Date;
  /** `sms` (a reply) or `link` (the email's link). */
  answeredVia?: 'sms' | 'link';
  skipReason?: string;
  createdAt: Date;
}

const surveySchema = new Schema<SurveyDocument>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true },
    channel: { type: String, enum: ['sms', 'email'], required: true },
    contactChannel: { type: String, required: true },
    queue: String,
    agentId: String,
    status: { type: String, enum: surveyStatuses, required: true },
    dueAt: { type: Date, required: true },
    sentAt: Date,
    expiresAt: Date,
    score: Number,
    answeredAt: Date,
    answeredVia: String,
    skipReason: String,
    createdAt: { type: Date, required: true },
  },
  // Read by `_id` (FerretDB indexes nothing else); reports get answers pushed, not queried.
  { versionKey: false },
);
// The reconciler's scan for surveys whose timers are still due (scheduled: the send; pending: the expiry).
surveySchema.index({ status: 1, _id: 1 });

export function surveyModel(connection: Connection): Model<SurveyDocument> {
  return connection.models.CsatSurvey ?? connection.model<SurveyDocument>('CsatSurvey', surveySchema, 'csat_surveys');
}

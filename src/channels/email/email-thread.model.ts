import { Schema, type Connection, type Model } from 'mongoose';

/**
 * The email thread keys of an interaction, each its own document keyed by `_id` so every lookup is
 * a primary-key read (FerretDB's SQLite backend serves nothing else from an index):
 * - `interaction:<interactionId>` → the interaction's `ref` and `token`;
 * - `ref:SB-7F3A2C` → the interaction a `[#SB-7F3A2C]` subject tag names;
 * - `token:<token>` → the interaction a `support+<token>@…` reply address names.
 */
export interface EmailThreadKeyDocument {
  _id: string;
  interactionId: string;
  ref?: string;
  token?: string;
  createdAt: Date;
}

const emailThreadKeySchema = new Schema<EmailThreadKeyDocument>(
  {
    _id: { type: String, required: true },
    interactionId: { type: String, required: true },
    ref: String,
    token: String,
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);

export function emailModels(connection: Connection): { EmailThreadKey: Model<EmailThreadKeyDocument> } {
  return {
    EmailThreadKey: connection.models.EmailThreadKey ?? connection.model<EmailThreadKeyDocument>('EmailThreadKey', emailThreadKeySchema, 'email_thread_keys'),
  };
}

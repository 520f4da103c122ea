import { Schema, type Connection, type Model } from 'mongoose';
import type { PhoneKind } from './identity';

export const customerTiers = ['standard', 'gold', 'vip'] as const;
export type CustomerTier = (typeof customerTiers)[number];

export interface CustomerPhone {
  value: string;
  kind: PhoneKind;
}

export interface CustomerDocument {
  _id: string;
  name: string;
  phones: CustomerPhone[];
  emails: string[];
  tier: CustomerTier;
  tags: string[];
  /** Free attributes the business cares about: VIN, model, dealer, purchase date… */
  attributes: Record<string, string | number | boolean>;
  /** Set on a tombstone: this record was merged into that customer. */
  mergedInto?: string;
  /** Set while a merge is in progress, so a crashed merge can be resumed. */
  mergingInto?: string;
  createdAt: Date;
  updatedAt: Date;
}

const customerSchema = new Schema<CustomerDocument>(
  {
    _id: { type: String, required: true },
    name: { type: String, default: '' },
    phones: { type: [{ _id: false, value: String, kind: String }], default: [] },
    emails: { type: [String], default: [] },
    tier: { type: String, enum: customerTiers, default: 'standard' },
    tags: { type: [String], default: [] },
    attributes: { type: Schema.Types.Mixed, default: {} },
    mergedInto: { type: String },
    mergingInto: { type: String },
  },
  { timestamps: true, versionKey: false, minimize: false },
);
// Serves the agent's name search (`?q=`); exact phone/email lookups go through identities instead.
customerSchema.index({ name: 1 });

export interface IdentityDocument {
  /** `phone:+8613800138000` or `email:li.wei@example.com`: see identityKey(). */
  _id: string;
  customerId: string;
  createdAt: Date;
}

const identitySchema = new Schema<IdentityDocument>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true },
  },
  { timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);

export function customerModels(connection: Connection): {
  Customer: Model<CustomerDocument>;
  Identity: Model<IdentityDocument>;
} {
  return {
    Customer: connection.models.Customer ?? connection.model<CustomerDocument>('Customer', customerSchema, 'customers'),
    Identity: connection.models.Identity ?? connection.model<IdentityDocument>('Identity', identitySchema, 'customer_identities'),
  };
}

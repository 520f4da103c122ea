import { Schema, type Connection, type Model } from 'mongoose';
import { roles, userRoles, type Role } from '../platform/http/principal';

export interface UserDocument {
  _id: string;
  email: string;
  name: string;
  role: Role;
  departmentId?: string;
  passwordHash: string;
  active: boolean;
  locale: 'en' | 'zh-CN';
  /**
   * Signed into every token (`tv`); raised by a password, role or department change, a disable and
   * "sign out everywhere", which refuses every token issued before. Missing on older users: 0.
   */
  tokenVersion?: number;
  createdAt: Date;
  updatedAt: Date;
}

const userSchema = new Schema<UserDocument>(
  {
    // String ids (hex ObjectIds) so ids are the same in JSON, tokens and foreign references.
    _id: { type: String, required: true },
    email: { type: String, required: true, lowercase: true, trim: true },
    name: { type: String, required: true, trim: true },
    role: { type: String, required: true, enum: userRoles },
    departmentId: { type: String },
    passwordHash: { type: String, required: true },
    active: { type: Boolean, required: true, default: true },
    locale: { type: String, enum: ['en', 'zh-CN'], default: 'en' },
    tokenVersion: { type: Number, default: 0 },
  },
  { timestamps: true, versionKey: false },
);
// Serves login (find by email) and guarantees one account per address.
userSchema.index({ email: 1 }, { unique: true });

export interface ApiKeyDocument {
  _id: string;
  name: string;
  role: Role;
  /** When set, the key acts for these departments only (enforced by the services that read `Principal.departmentIds`). */
  departmentIds?: string[];
  secretHash: string;
  createdBy: string;
  createdAt: Date;
  lastUsedAt?: Date;
  revokedAt?: Date;
}

const apiKeySchema = new Schema<ApiKeyDocument>(
  {
    // The key id is the public half of the key (`sb_<id>_<secret>`), so lookup is by primary key.
    _id: { type: String, required: true },
    name: { type: String, required: true },
    role: { type: String, required: true, enum: roles },
    departmentIds: { type: [String], default: undefined },
    secretHash: { type: String, required: true },
    createdBy: { type: String, required: true },
    lastUsedAt: { type: Date },
    revokedAt: { type: Date },
  },
  { timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);

export function userModels(connection: Connection): { User: Model<UserDocument>; ApiKey: Model<ApiKeyDocument> } {
  return {
    User: connection.models.User ?? connection.model<UserDocument>('User', userSchema, 'users'),
    ApiKey: connection.models.ApiKey ?? connection.model<ApiKeyDocument>('ApiKey', apiKeySchema, 'api_keys'),
  };
}

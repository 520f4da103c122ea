import mongoose, { Types, type Connection } from 'mongoose';
import { isDuplicateKeyError, AppError } from '../platform/errors';
import type { Role } from '../platform/http/principal';
import { userModels, type ApiKeyDocument, type UserDocument } from './user.model';

export type StoredUser = UserDocument;
export type StoredApiKey = ApiKeyDocument;

export interface NewUser {
  email: string;
  name: string;
  role: Role;
  departmentId?: string;
  passwordHash: string;
  locale?: 'en' | 'zh-CN';
}

export class UserRepository {
  private readonly models;

  constructor(connection: Connection) {
    this.models = userModels(connection);
  }

  async insert(user: NewUser): Promise<StoredUser> {
    try {
      const created = await this.models.User.create({ _id: new Types.ObjectId().toHexString(), ...user });
      return created.toObject();
    } catch (error) {
      if (isDuplicateKeyError(error)) {
        throw new AppError('conflict', 'A user with this email already exists', [{ field: 'email', message: 'is already taken' }]);
      }
      throw error;
    }
  }

  findByEmail(email: string): Promise<StoredUser | null> {
    return this.models.User.findOne({ email: email.toLowerCase() }).lean<StoredUser>().exec();
  }

  findById(id: string): Promise<StoredUser | null> {
    return this.models.User.findById(id).lean<StoredUser>().exec();
  }

  list(filter: { role?: Role; departmentId?: string }): Promise<StoredUser[]> {
    const query: Record<string, unknown> = {};
    if (filter.role) query.role = filter.role;
    if (filter.departmentId) query.departmentId = filter.departmentId;
    return this.models.User.find(query).sort({ name: 1 }).lean<StoredUser[]>().exec();
  }

  /** Applies `changes`; `endSessions` also raises the token version in the same write (every token issued before is refused). */
  update(id: string, changes: Partial<Omit<StoredUser, '_id' | 'createdAt' | 'updatedAt' | 'tokenVersion'>>, options: { endSessions?: boolean } = {}): Promise<StoredUser | null> {
    const update: Record<string, unknown> = {};
    if (Object.keys(changes).length) update.$set = changes;
    if (options.endSessions) update.$inc = { tokenVersion: 1 };
    return this.models.User.findByIdAndUpdate(id, update, { returnDocument: 'after' }).lean<StoredUser>().exec();
  }

  /** Users whose email ends with `@domain` (the demo accounts); the collection is small, so no index. */
  findByEmailDomain(domain: string): Promise<StoredUser[]> {
    // trusted(): the pattern is ours (escaped); sanitizeFilter would otherwise strip the operator.
    return this.models.User.find({ email: mongoose.trusted({ $regex: `@${escapeRegex(domain)}$` }) }).lean<StoredUser[]>().exec();
  }

  async deleteByIds(ids: string[]): Promise<number> {
    if (!ids.length) return 0;
    return (await this.models.User.deleteMany({ _id: mongoose.trusted({ $in: ids }) }).exec()).deletedCount;
  }

  count(filter: { role?: Role } = {}): Promise<number> {
    return this.models.User.countDocuments(filter.role ? { role: filter.role } : {}).exec();
  }

  async insertApiKey(key: Omit<StoredApiKey, 'createdAt'>): Promise<StoredApiKey> {
    const created = await this.models.ApiKey.create(key);
    return created.toObject();
  }

  findApiKey(id: string): Promise<StoredApiKey | null> {
    return this.models.ApiKey.findById(id).lean<StoredApiKey>().exec();
  }

  listApiKeys(): Promise<StoredApiKey[]> {
    return this.models.ApiKey.find({}).sort({ createdAt: -1 }).lean<StoredApiKey[]>().exec();
  }

  /** Sets the last-used time unless one at or after `notBefore` is recorded (one write per key per interval, across nodes). */
  async touchApiKey(id: string, at: Date, notBefore: Date): Promise<void> {
    // `$not $gte` also matches a key never used (no lastUsedAt); trusted(): sanitizeFilter would strip the operator.
    await this.models.ApiKey.updateOne({ _id: id, lastUsedAt: mongoose.trusted({ $not: { $gte: notBefore } }) }, { $set: { lastUsedAt: at } }).exec();
  }

  revokeApiKey(id: string, at: Date): Promise<StoredApiKey | null> {
    return this.models.ApiKey.findByIdAndUpdate(id, { $set: { revokedAt: at } }, { returnDocument: 'after' }).lean<StoredApiKey>().exec();
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

import { Types, type Connection } from 'mongoose';
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

  update(id: string, changes: Partial<Omit<StoredUser, '_id' | 'createdAt' | 'updatedAt'>>): Promise<StoredUser | null> {
    return this.models.User.findByIdAndUpdate(id, { $set: changes }, { returnDocument: 'after' }).lean<StoredUser>().exec();
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

  async touchApiKey(id: string, at: Date): Promise<void> {
    await this.models.ApiKey.updateOne({ _id: id }, { $set: { lastUsedAt: at } }).exec();
  }

  revokeApiKey(id: string, at: Date): Promise<StoredApiKey | null> {
    return this.models.ApiKey.findByIdAndUpdate(id, { $set: { revokedAt: at } }, { returnDocument: 'after' }).lean<StoredApiKey>().exec();
  }
}

import mongoose, { type Connection } from 'mongoose';
import { isDuplicateKeyError } from '../platform/errors';
import { customerModels, type CustomerDocument, type CustomerPhone, type IdentityDocument } from './customer.model';

export type StoredCustomer = CustomerDocument;

export type CustomerSeed = Pick<CustomerDocument, 'name' | 'phones' | 'emails'> &
  Partial<Pick<CustomerDocument, 'tier' | 'tags' | 'attributes'>>;

/** Data access for customers and their identities; every hot path is a primary-key read or write. */
export class CustomerRepository {
  private readonly models;

  constructor(connection: Connection) {
    this.models = customerModels(connection);
  }

  findById(id: string): Promise<StoredCustomer | null> {
    return this.models.Customer.findById(id).lean<StoredCustomer>().exec();
  }

  findIdentity(key: string): Promise<IdentityDocument | null> {
    return this.models.Identity.findById(key).lean<IdentityDocument>().exec();
  }

  /** Claims an identity for a customer; false when another customer already holds it. */
  async claimIdentity(key: string, customerId: string): Promise<boolean> {
    try {
      await this.models.Identity.create({ _id: key, customerId });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async releaseIdentity(key: string, customerId: string): Promise<void> {
    const identity = await this.findIdentity(key);
    if (identity?.customerId === customerId) await this.models.Identity.deleteOne({ _id: key }).exec();
  }

  async pointIdentity(key: string, customerId: string): Promise<void> {
    await this.models.Identity.updateOne({ _id: key }, { $set: { customerId } }).exec();
  }

  /**
   * Creates the customer if absent. Racing callers that won the same identity converge on the same
   * document: the second insert hits the duplicate `_id` and reads the first. (Insert-or-read rather
   * than an upsert with `$setOnInsert`: FerretDB 1.24 drops empty arrays from `$setOnInsert`.)
   */
  async upsert(id: string, seed: CustomerSeed): Promise<StoredCustomer> {
    try {
      const created = await this.models.Customer.create({
        _id: id,
        name: seed.name,
        phones: seed.phones,
        emails: seed.emails,
        tier: seed.tier ?? 'standard',
        tags: seed.tags ?? [],
        attributes: seed.attributes ?? {},
      });
      return created.toObject();
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const stored = await this.findById(id);
      if (!stored) throw error;
      return stored;
    }
  }

  update(id: string, changes: Partial<Pick<CustomerDocument, 'name' | 'tier' | 'tags' | 'attributes' | 'mergedInto' | 'mergingInto'>>): Promise<StoredCustomer | null> {
    return this.models.Customer.findByIdAndUpdate(id, { $set: changes }, { returnDocument: 'after' }).lean<StoredCustomer>().exec();
  }

  addIdentifiers(id: string, identifiers: { phones?: CustomerPhone[]; emails?: string[] }): Promise<StoredCustomer | null> {
    const addToSet: Record<string, unknown> = {};
    if (identifiers.phones?.length) addToSet.phones = { $each: identifiers.phones };
    if (identifiers.emails?.length) addToSet.emails = { $each: identifiers.emails };
    return this.models.Customer.findByIdAndUpdate(id, { $addToSet: addToSet, $set: { updatedAt: new Date() } }, { returnDocument: 'after', timestamps: false })
      .lean<StoredCustomer>()
      .exec();
  }

  async finishMerge(loserId: string, survivorId: string): Promise<void> {
    await this.models.Customer.updateOne({ _id: loserId }, { $set: { mergedInto: survivorId }, $unset: { mergingInto: 1 } }).exec();
  }

  /** Name search for the agent's search box. Case-insensitive prefix match on any word. */
  searchByName(term: string, limit: number): Promise<StoredCustomer[]> {
    // trusted(): the regex is built here from an escaped term; sanitizeFilter would otherwise strip it.
    const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return this.models.Customer.find({ name: mongoose.trusted({ $regex: `(^|\\s)${escaped}`, $options: 'i' }) })
      .limit(limit)
      .lean<StoredCustomer[]>()
      .exec();
  }
}

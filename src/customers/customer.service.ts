import { Types } from 'mongoose';
import type { CountryCode } from 'libphonenumber-js';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { CustomerPhone, CustomerTier } from './customer.model';
import type { CustomerRepository, StoredCustomer } from './customer.repository';
import { identityKey, normalizeEmail, normalizePhone, type Identity } from './identity';

export interface Customer {
  id: string;
  name: string;
  phones: CustomerPhone[];
  emails: string[];
  tier: CustomerTier;
  tags: string[];
  attributes: Record<string, string | number | boolean>;
  mergedInto?: string;
  createdAt: string;
  updatedAt: string;
}

export function toCustomer(stored: StoredCustomer): Customer {
  return {
    id: stored._id,
    name: stored.name,
    phones: stored.phones ?? [],
    emails: stored.emails ?? [],
    tier: stored.tier,
    tags: stored.tags ?? [],
    attributes: stored.attributes ?? {},
    ...(stored.mergedInto ? { mergedInto: stored.mergedInto } : {}),
    createdAt: new Date(stored.createdAt).toISOString(),
    updatedAt: new Date(stored.updatedAt).toISOString(),
  };
}

/** Called after a merge moved identifiers, so other modules can move what they own. Must be idempotent. */
export type CustomerMergeListener = (merge: { fromCustomerId: string; intoCustomerId: string }) => Promise<void>;

type ParsedIdentity = Identity & { phone?: CustomerPhone; field: string };

const tierRank: Record<CustomerTier, number> = { standard: 0, gold: 1, vip: 2 };
// A tombstone chain longer than this means a bug (a merge cycle), not data.
const maxMergeHops = 8;
// Enough for every contact of the last seconds at hundreds of contacts a second.
const maxRecentCustomers = 5000;

export class CustomerService {
  private readonly mergeListeners: CustomerMergeListener[] = [];
  /**
   * Customers this process read or wrote moments ago. One contact's path (webhook → routing
   * priority → screen pop) needs the same record three times within a few hundred milliseconds;
   * callers that can live with a slightly old copy say how old (`maxAgeMs`). Local writes replace
   * the copy; a write on another node shows here after at most that age.
   */
  private readonly recent = new Map<string, { customer: Customer; at: number }>();

  constructor(
    private readonly customers: CustomerRepository,
    private readonly defaultRegion: CountryCode,
    private readonly log: Logger,
  ) {}

  onMerge(listener: CustomerMergeListener): void {
    this.mergeListeners.push(listener);
  }

  /** Parses a raw phone or email into an identity; throws a 400 naming `field` if it is neither. */
  parseIdentity(input: { phone?: string; email?: string }, field = input.phone !== undefined ? 'phone' : 'email'): Identity & { phone?: CustomerPhone } {
    if (input.phone !== undefined) {
      const phone = normalizePhone(input.phone, this.defaultRegion);
      if (!phone) throw AppError.validation([{ field, message: 'is not a phone number, short code or sender id' }]);
      return { kind: 'phone', value: phone.value, phone };
    }
    if (input.email !== undefined) {
      const email = normalizeEmail(input.email);
      if (!email) throw AppError.validation([{ field, message: 'is not an email address' }]);
      return { kind: 'email', value: email };
    }
    throw AppError.validation([{ field: 'phone', message: 'give a phone or an email' }]);
  }

  /**
   * Finds the customer behind a phone number or email address, creating one if none exists.
   * Safe under concurrency: the identity's primary key decides the one winner, and every loser
   * reads the winner's customer. No customer is created twice and no orphan is left behind.
   */
  async resolveCustomer(input: { phone?: string; email?: string; name?: string }): Promise<{ customer: Customer; created: boolean }> {
    const identity = this.parseIdentity(input);
    const key = identityKey(identity);
    const seed = {
      name: input.name?.trim() ?? '',
      phones: identity.kind === 'phone' && identity.phone ? [identity.phone] : [],
      emails: identity.kind === 'email' ? [identity.value] : [],
    };
    const existing = await this.customers.findIdentity(key);
    if (existing) return { customer: await this.liveCustomer(existing.customerId, seed), created: false };

    const newId = new Types.ObjectId().toHexString();
    if (await this.customers.claimIdentity(key, newId)) {
      const customer = this.remember(toCustomer(await this.customers.upsert(newId, seed)));
      this.log.info({ customerId: newId, identityKind: identity.kind }, 'customer created');
      return { customer, created: true };
    }
    const winner = await this.customers.findIdentity(key);
    if (!winner) throw new AppError('conflict', 'Identity changed while resolving; retry', undefined, true);
    return { customer: await this.liveCustomer(winner.customerId, seed), created: false };
  }

  /** Looks up without creating. */
  async findByIdentity(input: { phone?: string; email?: string }): Promise<Customer | null> {
    const identity = this.parseIdentity(input);
    const found = await this.customers.findIdentity(identityKey(identity));
    if (!found) return null;
    return this.liveCustomer(found.customerId);
  }

  async getCustomer(id: string, options: { maxAgeMs?: number } = {}): Promise<Customer> {
    if (options.maxAgeMs) {
      const hit = this.recent.get(id);
      if (hit && Date.now() - hit.at <= options.maxAgeMs) return hit.customer;
    }
    const stored = await this.customers.findById(id);
    if (!stored) throw AppError.notFound('Customer', id);
    return this.remember(toCustomer(stored));
  }

  private remember(customer: Customer): Customer {
    this.recent.delete(customer.id);
    // Maps iterate in insertion order: the first key is the oldest.
    if (this.recent.size >= maxRecentCustomers) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(customer.id, { customer, at: Date.now() });
    return customer;
  }

  /** Search box: a phone or email is an exact identity lookup; anything else matches names. */
  async search(query: { phone?: string; email?: string; q?: string; limit: number }): Promise<Customer[]> {
    if (query.phone !== undefined || query.email !== undefined) {
      const found = await this.findByIdentity(query);
      return found ? [found] : [];
    }
    const term = query.q?.trim() ?? '';
    if (!term) return [];
    const asEmail = normalizeEmail(term);
    const asPhone = /^[+\d\s().-]{5,}$/.test(term) ? normalizePhone(term, this.defaultRegion) : null;
    if (asEmail || asPhone) {
      const found = await this.customers.findIdentity(identityKey(asEmail ? { kind: 'email', value: asEmail } : { kind: 'phone', value: asPhone!.value }));
      if (found) return [await this.liveCustomer(found.customerId)];
    }
    const byName = await this.customers.searchByName(term, query.limit * 2);
    return byName.filter((customer) => !customer.mergedInto).slice(0, query.limit).map(toCustomer);
  }

  /** Creates a customer with all its identifiers, or fails with 409 naming the identifier already taken. */
  async createCustomer(input: {
    name: string;
    phones: string[];
    emails: string[];
    tier?: CustomerTier;
    tags?: string[];
    attributes?: Record<string, string | number | boolean>;
  }): Promise<Customer> {
    const id = new Types.ObjectId().toHexString();
    const identities = this.parseIdentifiers(input);
    await this.claimAll(id, identities);
    const stored = await this.customers.upsert(id, {
      name: input.name,
      phones: identities.flatMap((identity) => (identity.phone ? [identity.phone] : [])),
      emails: identities.filter((identity) => identity.kind === 'email').map((identity) => identity.value),
      tier: input.tier,
      tags: input.tags,
      attributes: input.attributes,
    });
    this.log.info({ customerId: id }, 'customer created');
    return toCustomer(stored);
  }

  async updateCustomer(
    id: string,
    changes: { name?: string; tier?: CustomerTier; tags?: string[]; attributes?: Record<string, string | number | boolean> },
  ): Promise<Customer> {
    const current = await this.getCustomer(id);
    if (current.mergedInto) throw this.tombstoneError(current);
    const updated = await this.customers.update(id, changes);
    if (!updated) throw AppError.notFound('Customer', id);
    return this.remember(toCustomer(updated));
  }

  /** Adds phone numbers or emails to a customer; 409 if one belongs to someone else (merge instead). */
  async addIdentifiers(id: string, input: { phones: string[]; emails: string[] }): Promise<Customer> {
    const current = await this.getCustomer(id);
    if (current.mergedInto) throw this.tombstoneError(current);
    const identities = this.parseIdentifiers(input);
    await this.claimAll(id, identities);
    const updated = await this.customers.addIdentifiers(id, {
      phones: identities.flatMap((identity) => (identity.phone ? [identity.phone] : [])),
      emails: identities.filter((identity) => identity.kind === 'email').map((identity) => identity.value),
    });
    if (!updated) throw AppError.notFound('Customer', id);
    return this.remember(toCustomer(updated));
  }

  /**
   * Merges `fromId` into `intoId`: identifiers, then whatever other modules own (interactions,
   * tasks) through merge listeners; `fromId` stays as a tombstone pointing at the survivor.
   * Without multi-document transactions each step is idempotent, and `mergingInto` marks a merge in
   * progress, so calling merge again after a crash finishes the job.
   */
  async mergeCustomers(intoId: string, fromId: string): Promise<Customer> {
    if (intoId === fromId) throw AppError.validation([{ field: 'fromCustomerId', message: 'must differ from the surviving customer' }]);
    const [into, from] = await Promise.all([this.customers.findById(intoId), this.customers.findById(fromId)]);
    if (!into) throw AppError.notFound('Customer', intoId);
    if (!from) throw AppError.notFound('Customer', fromId);
    if (into.mergedInto) throw this.tombstoneError(toCustomer(into));
    if (from.mergedInto === intoId) return toCustomer(into);
    if (from.mergedInto) throw new AppError('conflict', 'That customer was already merged into another one', { mergedInto: from.mergedInto });
    if (from.mergingInto && from.mergingInto !== intoId) {
      throw new AppError('conflict', 'That customer is being merged into another one; finish that merge first', { mergingInto: from.mergingInto });
    }

    this.recent.delete(fromId);
    this.recent.delete(intoId);
    await this.customers.update(fromId, { mergingInto: intoId });
    const fromCustomer = toCustomer(from);
    for (const phone of fromCustomer.phones) await this.customers.pointIdentity(identityKey({ kind: 'phone', value: phone.value }), intoId);
    for (const email of fromCustomer.emails) await this.customers.pointIdentity(identityKey({ kind: 'email', value: email }), intoId);
    await this.customers.addIdentifiers(intoId, { phones: fromCustomer.phones, emails: fromCustomer.emails });
    const intoCustomer = toCustomer(into);
    await this.customers.update(intoId, {
      name: intoCustomer.name || fromCustomer.name,
      tier: tierRank[fromCustomer.tier] > tierRank[intoCustomer.tier] ? fromCustomer.tier : intoCustomer.tier,
      tags: [...new Set([...intoCustomer.tags, ...fromCustomer.tags])],
      attributes: { ...fromCustomer.attributes, ...intoCustomer.attributes },
    });
    for (const listener of this.mergeListeners) await listener({ fromCustomerId: fromId, intoCustomerId: intoId });
    await this.customers.finishMerge(fromId, intoId);
    this.log.info({ customerId: intoId, mergedCustomerId: fromId }, 'customers merged');
    return this.getCustomer(intoId);
  }

  /** Follows tombstones to the surviving record; repairs a customer whose creator died mid-way. */
  private async liveCustomer(id: string, seed?: Parameters<CustomerRepository['upsert']>[1]): Promise<Customer> {
    let currentId = id;
    for (let hop = 0; hop < maxMergeHops; hop += 1) {
      const stored = (await this.customers.findById(currentId)) ?? (seed ? await this.customers.upsert(currentId, seed) : null);
      if (!stored) throw AppError.notFound('Customer', currentId);
      if (!stored.mergedInto) return this.remember(toCustomer(stored));
      currentId = stored.mergedInto;
    }
    throw new AppError('internal', 'Customer merge chain is too long', { customerId: id }, false);
  }

  private parseIdentifiers(input: { phones: string[]; emails: string[] }): ParsedIdentity[] {
    return [
      ...input.phones.map((phone, index) => ({ ...this.parseIdentity({ phone }, `phones.${index}`), field: `phones.${index}` })),
      ...input.emails.map((email, index) => ({ ...this.parseIdentity({ email }, `emails.${index}`), field: `emails.${index}` })),
    ];
  }

  private async claimAll(customerId: string, identities: ParsedIdentity[]): Promise<void> {
    const claimed: string[] = [];
    for (const identity of identities) {
      const key = identityKey(identity);
      const holder = await this.customers.findIdentity(key);
      if (holder?.customerId === customerId) continue;
      if (holder || !(await this.customers.claimIdentity(key, customerId))) {
        await Promise.all(claimed.map((claimedKey) => this.customers.releaseIdentity(claimedKey, customerId)));
        const owner = holder ?? (await this.customers.findIdentity(key));
        throw new AppError('conflict', `This ${identity.kind} already belongs to another customer; merge the two customers instead`, [
          { field: identity.field, message: `belongs to customer ${owner?.customerId}` },
        ]);
      }
      claimed.push(key);
    }
  }

  private tombstoneError(customer: Customer): AppError {
    return new AppError('conflict', 'This customer was merged; use the surviving customer', { mergedInto: customer.mergedInto });
  }
}

import { z } from 'zod';
import { objectIdSchema } from '../platform/validation';
import { customerTiers } from './customer.model';

const attributeValue = z.union([z.string().max(500), z.number(), z.boolean()]);
const attributes = z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,39}$/, 'attribute names are letters, digits and _'), attributeValue);
const tag = z.string().trim().min(1).max(40);

export const customerSchema = z.object({
  id: z.string(),
  name: z.string(),
  phones: z.array(z.object({ value: z.string(), kind: z.enum(['e164', 'short_code', 'alphanumeric']) })),
  emails: z.array(z.string()),
  tier: z.enum(customerTiers),
  tags: z.array(z.string()),
  attributes: z.record(z.string(), attributeValue),
  mergedInto: z.string().optional().describe('Set on a tombstone: the customer this one was merged into'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const searchCustomersQuery = z
  .object({
    phone: z.string().min(1).max(40).optional().describe('Exact phone number, any common spelling'),
    email: z.string().min(3).max(254).optional().describe('Exact email address, any case'),
    q: z.string().trim().min(1).max(100).optional().describe('Name, phone or email typed into a search box'),
    limit: z.coerce.number().int().min(1).max(50).default(20),
  })
  .refine((query) => query.phone !== undefined || query.email !== undefined || query.q !== undefined, {
    message: 'give phone, email or q',
    path: ['q'],
  });

export const createCustomerBody = z.object({
  name: z.string().trim().max(200).default(''),
  phones: z.array(z.string().min(1).max(40)).max(10).default([]),
  emails: z.array(z.string().min(3).max(254)).max(10).default([]),
  tier: z.enum(customerTiers).optional(),
  tags: z.array(tag).max(50).optional(),
  attributes: attributes.optional(),
});

export const updateCustomerBody = z
  .object({
    name: z.string().trim().max(200),
    tier: z.enum(customerTiers),
    tags: z.array(tag).max(50),
    attributes,
  })
  .partial()
  .refine((changes) => Object.keys(changes).length > 0, 'name at least one field to change');

export const addIdentifiersBody = z
  .object({
    phones: z.array(z.string().min(1).max(40)).max(10).default([]),
    emails: z.array(z.string().min(3).max(254)).max(10).default([]),
  })
  .refine((body) => body.phones.length + body.emails.length > 0, { message: 'give at least one phone or email', path: ['phones'] });

export const mergeBody = z.object({
  fromCustomerId: objectIdSchema.describe('The duplicate; it becomes a tombstone pointing at the survivor'),
});

export const customerIdParams = z.object({ id: objectIdSchema });

import { z } from 'zod';
import { roles, userRoles } from '../platform/http/principal';
import { objectIdSchema } from '../platform/validation';
import { minPasswordLength } from './auth.service';

export const loginBody = z.object({
  email: z.email(),
  password: z.string().min(1).max(200),
});

const locale = z.enum(['en', 'zh-CN']);

export const publicUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(roles),
  departmentId: z.string().optional(),
  active: z.boolean(),
  locale,
});

export const loginResponse = z.object({ token: z.string(), user: publicUserSchema });

export const createUserBody = z.object({
  email: z.email(),
  name: z.string().trim().min(1).max(120),
  role: z.enum(userRoles, { message: 'must be admin, supervisor, agent or department (integration is for API keys)' }),
  password: z.string().min(minPasswordLength).max(200),
  departmentId: objectIdSchema.optional(),
  locale: locale.optional(),
});

export const updateUserBody = z
  .object({
    name: z.string().trim().min(1).max(120),
    role: z.enum(userRoles, { message: 'must be admin, supervisor, agent or department (integration is for API keys)' }),
    departmentId: objectIdSchema,
    active: z.boolean(),
    locale,
    password: z.string().min(minPasswordLength).max(200),
  })
  .partial()
  .refine((changes) => Object.keys(changes).length > 0, 'name at least one field to change');

export const listUsersQuery = z.object({
  role: z.enum(roles).optional(),
  departmentId: objectIdSchema.optional(),
});

export const idParams = z.object({ id: objectIdSchema });

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(roles),
  departmentIds: z.array(z.string()).optional(),
  createdBy: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().optional(),
  revokedAt: z.string().optional(),
});

export const createApiKeyBody = z.object({
  name: z.string().trim().min(1).max(120),
  // No default: a key made without a thought for its role must not become an admin.
  role: z.enum(roles, { message: `is required: one of ${roles.join(', ')} (integration is for the ERP task API)` }),
  /** Limits the key to these departments; omit for no limit. */
  departmentIds: z.array(objectIdSchema).min(1).max(50).optional(),
}).refine((key) => !key.departmentIds || key.role === 'integration', {
  // Only the task API honours the limit; an agent or admin key "for one department" would read everything.
  path: ['departmentIds'],
  message: 'limits only integration keys (the task API); other roles read beyond tasks',
});

export const apiKeyParams = z.object({ id: z.string().regex(/^[a-f0-9]{16}$/, 'must be a 16-character key id') });

import { z } from 'zod';
import { objectIdSchema } from '../platform/validation';
import { erpStatuses } from './erp.service';
import { webhookEventNames } from './webhook-events';

export const subscriptionSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const subscriptionWithSecretSchema = z.object({
  subscription: subscriptionSchema,
  secret: z.string().describe('HMAC-SHA256 signing key; shown only now. Verify X-Switchboard-Signature = sha256=hex(HMAC(secret, "<X-Switchboard-Timestamp>.<raw body>"))'),
});

export const createSubscriptionBody = z.object({
  url: z
    .url({ message: 'must be an absolute URL' })
    .max(2000)
    .refine((url) => /^https?:$/.test(new URL(url).protocol), 'must be an http:// or https:// URL'),
  events: z
    .array(z.enum(webhookEventNames, { message: 'must be *, task_created, task_updated or task.<action> (e.g. task.resolved)' }))
    .min(1, 'name at least one event'),
  description: z.string().trim().max(500).optional(),
});

export const subscriptionParams = z.object({ id: objectIdSchema });

export const deliveryParams = z.object({ deliveryId: z.string().regex(/^[0-9a-f]{24}-[0-9a-f]{24}-\d+-[a-z_]+$/, 'must be a delivery id from the delivery log') });

export const deliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const deliverySchema = z.object({
  id: z.string(),
  subscriptionId: z.string(),
  taskId: z.string(),
  taskVersion: z.number(),
  event: z.string(),
  state: z.enum(['pending', 'retrying', 'delivered', 'failed', 'cancelled']),
  attempts: z.array(z.object({ at: z.string(), statusCode: z.number().optional(), error: z.string().optional(), durationMs: z.number() })),
  redeliveries: z.number(),
  deliveredAt: z.string().optional(),
  createdAt: z.string(),
});

export const referenceParams = z.object({ reference: z.string().regex(/^T-\d{6,}$/, 'must be a task reference like T-000123') });

export const erpStatusBody = z.object({
  status: z.enum(erpStatuses),
  comment: z.string().trim().min(1).max(5000).optional(),
  resolution: z.string().trim().min(1).max(5000).optional().describe('status resolved: what was done (may be sent to the customer)'),
  reason: z.string().trim().min(1).max(5000).optional().describe('status rejected: why'),
});

export const erpFeedbackBody = z.object({
  text: z.string().trim().min(1).max(5000),
  visibility: z.enum(['internal', 'customer']).default('internal'),
});

/** Documentation only: the task without its history. */
export const integrationTaskSchema = z.object({ id: z.string(), reference: z.string(), status: z.string(), version: z.number() }).loose();

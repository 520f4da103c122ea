import { z } from 'zod';
import { objectIdSchema } from '../platform/validation';
import { channels, directions, entryKinds, interactionStatuses } from './interaction.model';

export const entrySchema = z.object({
  id: z.string(),
  kind: z.enum(entryKinds),
  at: z.string(),
  direction: z.enum(directions).optional(),
  text: z.string().optional(),
  authorId: z.string().optional(),
  externalId: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  attachments: z
    .array(
      z.object({
        name: z.string().optional(),
        contentType: z.string(),
        size: z.number().optional(),
        url: z.string().optional(),
        sha256: z.string().optional(),
        flags: z.array(z.string()).optional(),
      }),
    )
    .optional(),
  flags: z.array(z.string()).optional(),
});

export const interactionSchema = z.object({
  id: z.string(),
  customerId: z.string(),
  channel: z.enum(channels),
  direction: z.enum(directions),
  status: z.enum(interactionStatuses),
  subject: z.string().optional(),
  queue: z.string().optional(),
  agentId: z.string().optional(),
  externalIds: z.array(z.string()),
  flags: z.array(z.string()),
  createdAt: z.string(),
  queuedAt: z.string().optional(),
  offeredAt: z.string().optional(),
  answeredAt: z.string().optional(),
  endedAt: z.string().optional(),
  lastActivityAt: z.string(),
  entryCount: z.number(),
  preview: z.string().optional().describe('Start of the last message (timeline summaries)'),
  entries: z.array(entrySchema).optional().describe('Oldest first; absent in list summaries'),
});

export const createInteractionBody = z.object({
  customerId: objectIdSchema,
  channel: z.enum(channels),
  direction: z.enum(directions),
  subject: z.string().trim().max(300).optional(),
  text: z.string().max(20_000).optional().describe('First message or description of the contact'),
  externalId: z
    .string()
    .min(1)
    .max(300)
    .optional()
    .describe('Your system\'s id for this contact; sending it again returns the same interaction instead of a copy'),
});

export const listInteractionsQuery = z.object({
  customerId: objectIdSchema.optional().describe('Same as the customer timeline'),
  status: z.enum(interactionStatuses).optional(),
  channel: z.enum(channels).optional(),
  before: z.coerce.date().optional().describe('Only interactions created before this time (ISO 8601)'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const timelineQuery = z.object({
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  channel: z.enum(channels).optional(),
  include: z.enum(['entries']).optional().describe('entries: return each interaction in full (slower); default: summaries with a preview'),
});

export const noteBody = z.object({ text: z.string().trim().min(1).max(10_000) });

export const interactionIdParams = z.object({ id: objectIdSchema });

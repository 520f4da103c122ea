import { z } from 'zod';
import { objectIdSchema } from '../platform/validation';
import { eventIdPattern } from './event-log.repository';

const id = z.string().min(1).max(100);

export const setStateSchema = z.object({
  state: z.enum(['available', 'away', 'offline'], { message: 'must be available, away or offline (busy and wrap_up follow from work)' }),
  reason: z.string().max(200).optional(),
});

export const reservationSchema = z.object({ reservationId: id });

export const completeWorkSchema = z.object({
  interactionId: id,
  disposition: z.string().min(1).max(100).optional(),
  notes: z.string().max(5000).optional(),
});

export const lastEventIdSchema = z.string().regex(eventIdPattern, 'must be an event id this server sent, e.g. 1767225600000-0');

export const syncSchema = z.object({ lastEventId: lastEventIdSchema });

export const queueRoomSchema = z.object({ queue: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a lowercase queue name like after-sales') });

export const transferWorkSchema = z
  .object({
    interactionId: id,
    toAgentId: id.optional(),
    toQueue: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a lowercase queue name like after-sales').optional(),
    note: z.string().trim().min(1).max(2000),
  })
  .refine((input) => (input.toAgentId === undefined) !== (input.toQueue === undefined), { message: 'give exactly one of toAgentId or toQueue', path: ['toAgentId'] });

export const replySchema = z.object({ interactionId: objectIdSchema, text: z.string().trim().min(1).max(10_000) });

import { Router } from 'express';
import { anyUserRole, frontLineRoles } from '../platform/http/principal';
import { z } from 'zod';
import type { CustomerService } from '../customers';
import { sendDownload } from '../platform/http/download';
import type { RouteRegistry } from '../platform/http/route';
import { objectIdSchema } from '../platform/validation';
import { EntryAttachments, type StoredFileReader } from './entry-attachments';
import type { InteractionService } from './interaction.service';
import {
  createInteractionBody,
  entrySchema,
  interactionIdParams,
  interactionSchema,
  listInteractionsQuery,
  noteBody,
  timelineQuery,
} from './interaction.schemas';

const timelinePage = z.object({ items: z.array(interactionSchema), nextCursor: z.string().nullable() });
const attachmentParams = z.object({ id: objectIdSchema, entryId: objectIdSchema, index: z.coerce.number().int().min(0).max(99) });

/** `files` is the attachment store the channels write customers' files to. */
export function interactionRoutes(registry: RouteRegistry, interactions: InteractionService, customers: CustomerService, files: StoredFileReader): Router {
  const router = Router();
  const tag = 'Interactions';

  registry.add(router, { method: 'get', path: '/api/customers/:id/timeline', summary: "A customer's interactions on every channel, newest first", tag, access: anyUserRole, params: interactionIdParams, query: timelineQuery, response: timelinePage },
    async ({ params, query }) => {
      // In parallel: the existence check (404 for an unknown customer) need not delay the page.
      const [, page] = await Promise.all([
        customers.getCustomer(params.id),
        interactions.getTimeline(params.id, { ...query, includeEntries: query.include === 'entries' }),
      ]);
      return page;
    });

  registry.add(router, { method: 'get', path: '/api/interactions', summary: 'List interactions (by customer, status or channel), newest first', tag, access: frontLineRoles, query: listInteractionsQuery, response: timelinePage },
    async ({ query }) => {
      if (query.customerId) return interactions.getTimeline(query.customerId, { ...query, includeEntries: false });
      return { items: await interactions.listInteractions(query), nextCursor: null };
    });

  registry.add(router, { method: 'post', path: '/api/interactions', summary: 'Record a contact (walk-in, letter, fax, or one from your system)', tag, access: frontLineRoles, body: createInteractionBody, response: interactionSchema, successStatus: 201 },
    async ({ body, principal }) => {
      await customers.getCustomer(body.customerId);
      const entry = body.text ? { kind: 'message' as const, direction: body.direction, text: body.text, authorId: principal.id } : undefined;
      if (body.externalId) {
        const recorded = await interactions.recordInboundEvent({
          externalId: `api:${principal.id}:${body.externalId}`,
          customerId: body.customerId,
          channel: body.channel,
          direction: body.direction,
          subject: body.subject,
          entry: entry ?? { kind: 'system', text: 'recorded through the API', authorId: principal.id },
        });
        return recorded.interaction;
      }
      return interactions.createInteraction({ ...body, firstEntry: entry });
    });

  registry.add(router, { method: 'get', path: '/api/interactions/:id', summary: 'One interaction with all its entries', tag, access: anyUserRole, params: interactionIdParams, response: interactionSchema },
    ({ params }) => interactions.getInteraction(params.id));

  registry.add(router, { method: 'post', path: '/api/interactions/:id/notes', summary: 'Append an internal note', tag, access: anyUserRole, params: interactionIdParams, body: noteBody, response: entrySchema, successStatus: 201 },
    ({ params, body, principal }) => interactions.addNote(params.id, { text: body.text, authorId: principal.id }));

  const attachments = new EntryAttachments(interactions, files);
  registry.add(router, { method: 'get', path: '/api/interactions/:id/entries/:entryId/attachments/:index', summary: 'Download a file the customer sent (email attachment, SMS/MMS media), by its position on the entry', tag, access: frontLineRoles, params: attachmentParams },
    async ({ params }, res) => {
      await sendDownload(res, await attachments.open(params.id, params.entryId, params.index));
      return undefined;
    });

  return router;
}

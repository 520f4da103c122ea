import { Router, type Response } from 'express';
import { z } from 'zod';
import { AppError } from '../platform/errors';
import type { Role } from '../platform/http/principal';
import type { RouteRegistry } from '../platform/http/route';
import type { ErpService } from './erp.service';
import type { IdempotencyStore, StoredResponse } from './idempotency.store';
import {
  createSubscriptionBody,
  deliveriesQuery,
  deliveryParams,
  deliverySchema,
  erpFeedbackBody,
  erpStatusBody,
  integrationTaskSchema,
  referenceParams,
  subscriptionParams,
  subscriptionSchema,
  subscriptionWithSecretSchema,
} from './integrations.schemas';
import type { WebhookService } from './webhook.service';

const tag = 'Integrations';
const integrationRoles: readonly Role[] = ['integration', 'admin'];

export function webhookRoutes(registry: RouteRegistry, webhooks: WebhookService): Router {
  const router = Router();

  registry.add(router, { method: 'post', path: '/api/webhooks', summary: 'Subscribe a URL to task events (the signing secret is shown once)', tag, access: ['admin'], body: createSubscriptionBody, response: subscriptionWithSecretSchema, successStatus: 201 },
    ({ body, principal }) => webhooks.createSubscription(body, principal));

  registry.add(router, { method: 'get', path: '/api/webhooks', summary: 'List webhook subscriptions', tag, access: ['admin'], response: z.object({ items: z.array(subscriptionSchema) }) },
    async () => ({ items: await webhooks.listSubscriptions() }));

  registry.add(router, { method: 'get', path: '/api/webhooks/:id', summary: 'One webhook subscription', tag, access: ['admin'], params: subscriptionParams, response: subscriptionSchema },
    ({ params }) => webhooks.getSubscription(params.id));

  registry.add(router, { method: 'delete', path: '/api/webhooks/:id', summary: 'Delete a webhook subscription (pending deliveries are cancelled)', tag, access: ['admin'], params: subscriptionParams, response: subscriptionSchema },
    ({ params }) => webhooks.deleteSubscription(params.id));

  registry.add(router, { method: 'post', path: '/api/webhooks/:id/rotate-secret', summary: 'Replace the signing secret (the new one is shown once)', tag, access: ['admin'], params: subscriptionParams, response: subscriptionWithSecretSchema },
    ({ params }) => webhooks.rotateSecret(params.id));

  registry.add(router, { method: 'get', path: '/api/webhooks/:id/deliveries', summary: 'Delivery log of a subscription, newest first', tag, access: ['admin'], params: subscriptionParams, query: deliveriesQuery, response: z.object({ items: z.array(deliverySchema) }) },
    async ({ params, query }) => ({ items: await webhooks.listDeliveries(params.id, query) }));

  registry.add(router, { method: 'post', path: '/api/webhooks/deliveries/:deliveryId/redeliver', summary: 'Send a finished delivery again (same id and body, new signature)', tag, access: ['admin'], params: deliveryParams, response: deliverySchema, successStatus: 202 },
    ({ params }) => webhooks.redeliver(params.deliveryId));

  return router;
}

/** The inbound API for an ERP: API keys with role `integration` (or an admin). `Idempotency-Key` makes a retry safe. */
export function erpRoutes(registry: RouteRegistry, erp: ErpService, idempotency: IdempotencyStore): Router {
  const router = Router();

  registry.add(router, { method: 'post', path: '/api/integrations/tasks/:reference/status', summary: 'Set a task status from an outside system (accepted, in_progress, resolved, rejected); honours Idempotency-Key', tag, access: integrationRoles, params: referenceParams, body: erpStatusBody, response: integrationTaskSchema },
    ({ params, body, principal }, res) => idempotent(idempotency, principal.id, res, body, async () => ({ status: 200, body: await erp.setStatus(params.reference, body, principal) })));

  registry.add(router, { method: 'post', path: '/api/integrations/tasks/:reference/feedback', summary: 'Post feedback on a task from an outside system; honours Idempotency-Key', tag, access: integrationRoles, params: referenceParams, body: erpFeedbackBody, response: integrationTaskSchema, successStatus: 201 },
    ({ params, body, principal }, res) => idempotent(idempotency, principal.id, res, body, async () => ({ status: 201, body: await erp.postFeedback(params.reference, body, principal) })));

  return router;
}

/** Runs `work` once per Idempotency-Key (when sent) and answers with the stored response on a repeat. */
async function idempotent(store: IdempotencyStore, callerId: string, res: Response, body: unknown, work: () => Promise<StoredResponse>): Promise<void> {
  const header = res.req.get('idempotency-key');
  let response: StoredResponse & { replayed?: boolean };
  if (header === undefined) response = await work();
  else {
    if (!/^[\x21-\x7e]{1,255}$/.test(header)) throw AppError.validation([{ field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters, e.g. a UUID' }]);
    response = await store.once(callerId, header, { method: res.req.method, path: res.req.path, body }, work);
    res.setHeader('Idempotent-Replayed', String(response.replayed));
  }
  res.status(response.status).json(response.body);
}

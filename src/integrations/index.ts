import type { Router } from 'express';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import type { Config } from '../platform/config';
import { durationMs } from '../platform/duration';
import type { RouteRegistry } from '../platform/http/route';
import type { Logger } from '../platform/logger';
import type { QueueFactory } from '../platform/queues';
import type { Repair } from '../platform/repair';
import type { TaskService } from '../tasks';
import { ErpService } from './erp.service';
import { IdempotencyStore } from './idempotency.store';
import { erpRoutes, webhookRoutes } from './integrations.routes';
import { startWebhookWorker, webhookQueue } from './webhook.jobs';
import { WebhookRepository } from './webhook.repository';
import { webhookRepair } from './webhook-repair';
import { WebhookService } from './webhook.service';

export { verifyWebhookSignature, signWebhook, signatureHeader, timestampHeader, eventHeader, deliveryHeader, defaultToleranceSeconds, type SignatureCheck } from './webhook-signature';
export { webhookEventNames, subscribedTo, type WebhookEventName } from './webhook-events';
export { WebhookService, type WebhookSubscription, type WebhookDelivery } from './webhook.service';
export { ErpService, erpStatuses, type ErpStatus } from './erp.service';

export interface IntegrationsModule {
  webhooks: WebhookService;
  erp: ErpService;
  routers(registry: RouteRegistry): Router[];
  /** Rebuild-from-MongoDB steps for the reconciler (issue 13): webhook deliveries still owed. */
  repairs: Repair[];
}

/**
 * Outbound webhooks on task events and the inbound ERP API. Subscribes to the task service's events
 * here; the delivery worker starts only in processes that run the worker role.
 */
export function createIntegrations(deps: { config: Config; log: Logger; mongo: Connection; redis: Redis; queues: QueueFactory; tasks: TaskService }): IntegrationsModule {
  const log = deps.log.child({ module: 'integrations' });
  const repository = new WebhookRepository(deps.mongo);
  const retry = { attempts: deps.config.WEBHOOK_ATTEMPTS, retryDelayMs: durationMs(deps.config.WEBHOOK_RETRY_DELAY) };
  const webhooks = new WebhookService({
    repository,
    queue: webhookQueue(deps.queues, retry),
    log,
    timeoutMs: durationMs(deps.config.WEBHOOK_TIMEOUT),
    policy: { httpsOnly: deps.config.NODE_ENV === 'production', allowPrivateTargets: deps.config.WEBHOOK_ALLOW_PRIVATE_TARGETS },
  });
  // Must-succeed: replayed from the task outbox; the delivery id (subscription, task, version, action) makes it one delivery.
  deps.tasks.onEvent((event) => webhooks.onTaskEvent(event), 'must-succeed', 'webhooks');
  startWebhookWorker(deps.queues, (deliveryId, attempt) => webhooks.deliver(deliveryId, attempt));
  const erp = new ErpService(deps.tasks, log);
  const idempotency = new IdempotencyStore(deps.redis, deps.config.REDIS_KEY_PREFIX);
  const repairs = [webhookRepair({ repository, queues: deps.queues, settings: retry, log })];
  return { webhooks, erp, repairs, routers: (registry) => [webhookRoutes(registry, webhooks), erpRoutes(registry, erp, idempotency)] };
}

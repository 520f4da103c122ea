import { Types } from 'mongoose';
import { AppError } from '../platform/errors';
import type { Principal } from '../platform/http/principal';
import type { Logger } from '../platform/logger';
import type { TaskEvent } from '../tasks';
import { eventName, isRetryableStatus, subscribedTo } from './webhook-events';
import { deliveryHeader, eventHeader, generateWebhookSecret, signWebhook, signatureHeader, timestampHeader } from './webhook-signature';
import type { AttemptOutcome, WebhookQueue } from './webhook.jobs';
import type { DeliveryAttempt, DeliveryDocument, DeliveryState, SubscriptionDocument } from './webhook.model';
import type { WebhookRepository } from './webhook.repository';
import { ForbiddenTargetError, postWebhook, webhookUrlProblem, type WebhookTargetPolicy } from './webhook-target';

export interface WebhookSubscription {
  id: string;
  url: string;
  events: string[];
  description: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookDelivery {
  id: string;
  subscriptionId: string;
  taskId: string;
  taskVersion: number;
  event: string;
  state: DeliveryState;
  attempts: Array<{ at: string; statusCode?: number; error?: string; durationMs: number }>;
  redeliveries: number;
  deliveredAt?: string;
  createdAt: string;
}

export interface WebhookServiceDeps {
  repository: WebhookRepository;
  queue: WebhookQueue;
  log: Logger;
  timeoutMs: number;
  /** https only in production; no loopback/private/metadata targets unless allowed (tests, development). */
  policy: WebhookTargetPolicy;
  /** How much of a receiver's answer is read at most (default 64 KB); the rest is cut off. */
  maxResponseBytes?: number;
  now?: () => Date;
}

const defaultMaxResponseBytes = 64 * 1024;

const finalStates: ReadonlySet<DeliveryState> = new Set(['delivered', 'failed', 'cancelled']);

/**
 * Outbound webhooks: admins subscribe a URL to task events; every matching `TaskEvent` becomes one
 * delivery (a document plus a BullMQ job with the same id), POSTed signed and retried with backoff,
 * every attempt written to the delivery log.
 */
export class WebhookService {
  private readonly now: () => Date;

  constructor(private readonly deps: WebhookServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The secret is returned here (and on rotation) only; store it on the receiving side. */
  async createSubscription(input: { url: string; events: string[]; description?: string }, principal: Principal): Promise<{ subscription: WebhookSubscription; secret: string }> {
    const problem = webhookUrlProblem(input.url, this.deps.policy);
    if (problem) throw AppError.validation([{ field: 'url', message: problem }]);
    const secret = generateWebhookSecret();
    const stored = await this.deps.repository.insertSubscription({
      _id: new Types.ObjectId().toHexString(),
      url: input.url,
      events: [...new Set(input.events)],
      description: input.description ?? '',
      secret,
      createdBy: principal.id,
    });
    this.deps.log.info({ subscriptionId: stored._id, events: stored.events, by: principal.id }, 'webhook subscription created');
    return { subscription: toSubscription(stored), secret };
  }

  async listSubscriptions(): Promise<WebhookSubscription[]> {
    return (await this.deps.repository.listSubscriptions()).map(toSubscription);
  }

  async getSubscription(id: string): Promise<WebhookSubscription> {
    return toSubscription(await this.subscription(id));
  }

  /** Pending deliveries of a deleted subscription are cancelled when their turn comes; the log stays. */
  async deleteSubscription(id: string): Promise<WebhookSubscription> {
    const deleted = await this.deps.repository.deleteSubscription(id);
    if (!deleted) throw AppError.notFound('Webhook subscription', id);
    this.deps.log.info({ subscriptionId: id }, 'webhook subscription deleted');
    return toSubscription(deleted);
  }

  /** A new secret takes effect at once, for retries of older deliveries too. */
  async rotateSecret(id: string): Promise<{ subscription: WebhookSubscription; secret: string }> {
    const secret = generateWebhookSecret();
    const updated = await this.deps.repository.setSecret(id, secret);
    if (!updated) throw AppError.notFound('Webhook subscription', id);
    this.deps.log.info({ subscriptionId: id }, 'webhook secret rotated');
    return { subscription: toSubscription(updated), secret };
  }

  /** The task event listener: one delivery per matching subscription, idempotent per (subscription, task, version, action). */
  async onTaskEvent(event: TaskEvent): Promise<void> {
    const subscriptions = (await this.deps.repository.listSubscriptions()).filter((subscription) => subscribedTo(subscription.events, event));
    // The version the change made: a redelivered event (task outbox) carries the task as it is now,
    // and must name the same delivery as the first publish did.
    const version = event.entry.version ?? event.task.version;
    for (const subscription of subscriptions) {
      // No ':' (BullMQ refuses it in job ids); every part is an id or a word.
      const deliveryId = `${subscription._id}-${event.task.id}-${version}-${event.action}`;
      const { history: _history, ...task } = event.task;
      const body = JSON.stringify({ id: deliveryId, type: event.type, action: event.action, occurredAt: event.entry.at, task, entry: event.entry });
      const inserted = await this.deps.repository.insertDelivery({
        _id: deliveryId,
        subscriptionId: subscription._id,
        taskId: event.task.id,
        taskVersion: version,
        event: eventName(event),
        body,
        state: 'pending',
        attempts: [],
        redeliveries: 0,
      });
      if (!inserted) {
        // A repeated event: queue again only if the first enqueue may have been lost (never tried yet).
        const existing = await this.deps.repository.findDelivery(deliveryId);
        if (!existing || existing.state !== 'pending' || existing.attempts.length > 0) continue;
      }
      await this.deps.queue.enqueue(deliveryId, deliveryId);
    }
  }

  /** One attempt (called by the worker): sign, POST, record. `final` says no retry follows a failure. */
  async deliver(deliveryId: string, attempt: { final: boolean }): Promise<AttemptOutcome> {
    const delivery = await this.deps.repository.findDelivery(deliveryId);
    if (!delivery || finalStates.has(delivery.state)) return 'skipped';
    const subscription = await this.deps.repository.findSubscription(delivery.subscriptionId);
    if (!subscription) {
      await this.deps.repository.setState(deliveryId, 'cancelled');
      this.deps.log.info({ deliveryId, subscriptionId: delivery.subscriptionId }, 'webhook delivery cancelled: subscription deleted');
      return 'skipped';
    }
    const at = this.now();
    const timestamp = Math.floor(at.getTime() / 1000);
    const started = performance.now();
    const result: DeliveryAttempt = { at, durationMs: 0 };
    let refused = false;
    try {
      // No redirects are followed: the admin registered this URL, so a 3xx is an answer, not a hop.
      const response = await postWebhook(subscription.url, {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Switchboard-Webhooks/1',
          [eventHeader]: delivery.event,
          [deliveryHeader]: delivery._id,
          [timestampHeader]: String(timestamp),
          [signatureHeader]: signWebhook(subscription.secret, timestamp, delivery.body),
        },
        body: delivery.body,
        timeoutMs: this.deps.timeoutMs,
        // The receiver's answer is not kept (it may hold anything); a little is read, the rest cut off.
        maxResponseBytes: this.deps.maxResponseBytes ?? defaultMaxResponseBytes,
      }, this.deps.policy);
      result.statusCode = response.statusCode;
    } catch (error) {
      // A target the policy refuses (http in production, a private address) will not get better by retrying.
      refused = error instanceof ForbiddenTargetError || (error as { cause?: unknown })?.cause instanceof ForbiddenTargetError;
      result.error = refused ? 'refused: the target is not allowed (https only in production; no loopback, private or metadata addresses)' : describeFailure(error, this.deps.timeoutMs);
    }
    result.durationMs = Math.round(performance.now() - started);

    const ok = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
    const retryable = !refused && (result.statusCode === undefined || isRetryableStatus(result.statusCode));
    const outcome: AttemptOutcome = ok ? 'delivered' : retryable && !attempt.final ? 'retry' : 'failed';
    const state: DeliveryState = outcome === 'retry' ? 'retrying' : outcome === 'delivered' ? 'delivered' : 'failed';
    await this.deps.repository.recordAttempt(deliveryId, result, state);
    const context = { deliveryId, subscriptionId: subscription._id, taskId: delivery.taskId, event: delivery.event, statusCode: result.statusCode, error: result.error, durationMs: result.durationMs, attempt: delivery.attempts.length + 1 };
    if (outcome === 'delivered') this.deps.log.info(context, 'webhook delivered');
    else if (outcome === 'retry') this.deps.log.info(context, 'webhook attempt failed; will retry');
    else this.deps.log.warn(context, 'webhook delivery failed');
    return outcome;
  }

  async listDeliveries(subscriptionId: string, page: { limit: number; offset: number }): Promise<WebhookDelivery[]> {
    await this.subscription(subscriptionId);
    return (await this.deps.repository.listDeliveries(subscriptionId, { limit: page.limit, skip: page.offset })).map(toDelivery);
  }

  async getDelivery(deliveryId: string): Promise<WebhookDelivery> {
    const delivery = await this.deps.repository.findDelivery(deliveryId);
    if (!delivery) throw AppError.notFound('Webhook delivery', deliveryId);
    return toDelivery(delivery);
  }

  /** Sends a finished delivery again, same id and body, new timestamp and signature; attempts add to its log. */
  async redeliver(deliveryId: string): Promise<WebhookDelivery> {
    const existing = await this.deps.repository.findDelivery(deliveryId);
    if (!existing) throw AppError.notFound('Webhook delivery', deliveryId);
    if (!finalStates.has(existing.state)) throw new AppError('conflict', `Delivery ${deliveryId} is still ${existing.state}; wait for it to finish`, { state: existing.state });
    await this.subscription(existing.subscriptionId);
    const marked = await this.deps.repository.markRedelivery(deliveryId);
    if (!marked) throw AppError.notFound('Webhook delivery', deliveryId);
    await this.deps.queue.enqueue(deliveryId, `${deliveryId}-r${marked.redeliveries}`);
    this.deps.log.info({ deliveryId, subscriptionId: marked.subscriptionId, redelivery: marked.redeliveries }, 'webhook redelivery queued');
    return toDelivery(marked);
  }

  private async subscription(id: string): Promise<SubscriptionDocument> {
    const stored = await this.deps.repository.findSubscription(id);
    if (!stored) throw AppError.notFound('Webhook subscription', id);
    return stored;
  }
}

/** A short cause without the URL's query or anything the receiver said. */
function describeFailure(error: unknown, timeoutMs: number): string {
  const failure = error as { name?: string; message?: string; code?: string; cause?: { code?: string } };
  if (failure?.name === 'TimeoutError' || failure?.name === 'AbortError') return `timeout after ${timeoutMs} ms`;
  return failure?.code ?? failure?.cause?.code ?? failure?.name ?? 'network error';
}

function toSubscription(stored: SubscriptionDocument): WebhookSubscription {
  return {
    id: stored._id,
    url: stored.url,
    events: stored.events,
    description: stored.description ?? '',
    createdBy: stored.createdBy,
    createdAt: new Date(stored.createdAt).toISOString(),
    updatedAt: new Date(stored.updatedAt).toISOString(),
  };
}

function toDelivery(stored: DeliveryDocument): WebhookDelivery {
  return {
    id: stored._id,
    subscriptionId: stored.subscriptionId,
    taskId: stored.taskId,
    taskVersion: stored.taskVersion,
    event: stored.event,
    state: stored.state,
    attempts: (stored.attempts ?? []).map((attempt) => ({
      at: new Date(attempt.at).toISOString(),
      ...(attempt.statusCode !== undefined ? { statusCode: attempt.statusCode } : {}),
      ...(attempt.error ? { error: attempt.error } : {}),
      durationMs: attempt.durationMs,
    })),
    redeliveries: stored.redeliveries ?? 0,
    ...(stored.deliveredAt ? { deliveredAt: new Date(stored.deliveredAt).toISOString() } : {}),
    createdAt: new Date(stored.createdAt).toISOString(),
  };
}

import type { Logger } from '../platform/logger';
import type { QueueFactory } from '../platform/queues';
import type { Repair } from '../platform/repair';
import { restoreJob } from '../platform/repair-jobs';
import { webhookDeliveryQueue, type WebhookDeliveryJob } from './webhook.jobs';
import type { DeliveryDocument } from './webhook.model';
import type { WebhookRepository } from './webhook.repository';

export interface DeliveryRetrySettings {
  /** WEBHOOK_ATTEMPTS: tries per delivery (per redelivery). */
  attempts: number;
  /** WEBHOOK_RETRY_DELAY: the first backoff, doubled after each failed try. */
  retryDelayMs: number;
}

/** The job a delivery still owed should have: its id, when it runs, and what is left of its retry budget. */
export interface DeliveryJobPlan {
  jobId: string;
  delayMs: number;
  attempts: number;
  backoffDelayMs: number;
}

/**
 * The job of a pending or retrying delivery, as the normal path would have it now. The id is the
 * delivery id (plus `-r<n>` after an admin's redelivery, as `redeliver` names it). The retry state
 * comes from the delivery log: the tries already made are taken off the budget, the next one waits
 * out the backoff after the last (retryDelay · 2^(tries−1)), and later ones keep doubling from there.
 */
export function deliveryJobPlan(delivery: Pick<DeliveryDocument, '_id' | 'state' | 'attempts' | 'redeliveries'>, settings: DeliveryRetrySettings, now: Date): DeliveryJobPlan | null {
  if (delivery.state !== 'pending' && delivery.state !== 'retrying') return null;
  const redeliveries = delivery.redeliveries ?? 0;
  const jobId = redeliveries > 0 ? `${delivery._id}-r${redeliveries}` : delivery._id;
  // A redelivery starts a fresh budget; its earlier tries are in the same log and cannot be told apart.
  const made = redeliveries > 0 || delivery.state === 'pending' ? 0 : (delivery.attempts ?? []).length;
  if (made === 0) return { jobId, delayMs: 0, attempts: settings.attempts, backoffDelayMs: settings.retryDelayMs };
  const last = delivery.attempts[delivery.attempts.length - 1];
  const nextAt = new Date(last.at).getTime() + settings.retryDelayMs * 2 ** (made - 1);
  return { jobId, delayMs: Math.max(0, nextAt - now.getTime()), attempts: Math.max(1, settings.attempts - made), backoffDelayMs: settings.retryDelayMs * 2 ** made };
}

/** The reconciler's repair for task webhooks: every delivery still owed gets its job back, retry state kept. */
export function webhookRepair(deps: { repository: Pick<WebhookRepository, 'unfinishedDeliveries'>; queues: QueueFactory; settings: DeliveryRetrySettings; log: Logger; now?: () => Date }): Repair {
  return {
    name: 'webhook-deliveries',
    async run() {
      const now = deps.now?.() ?? new Date();
      const queue = deps.queues.queue<WebhookDeliveryJob>(webhookDeliveryQueue);
      let restored = 0;
      for await (const delivery of deps.repository.unfinishedDeliveries()) {
        const plan = deliveryJobPlan(delivery, deps.settings, now);
        if (!plan) continue;
        const added = await restoreJob(queue, 'deliver', { deliveryId: delivery._id }, {
          jobId: plan.jobId,
          delay: plan.delayMs,
          attempts: plan.attempts,
          backoff: { type: 'exponential', delay: plan.backoffDelayMs },
        });
        if (added) deps.log.info({ deliveryId: delivery._id, tries: delivery.attempts?.length ?? 0, delayMs: plan.delayMs }, 'webhook delivery restored');
        restored += added;
      }
      return restored;
    },
  };
}

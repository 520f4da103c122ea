import type { Job } from 'bullmq';
import { AppError } from '../platform/errors';
import type { QueueFactory } from '../platform/queues';

export const webhookDeliveryQueue = 'webhook-delivery';

/** Ids only: the body and the receiver are read from the delivery log by the worker. */
export interface WebhookDeliveryJob {
  deliveryId: string;
}

export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'skipped';

export interface WebhookQueue {
  /** `jobId` is the delivery id (plus a redelivery suffix), so queueing one event twice sends it once. */
  enqueue(deliveryId: string, jobId: string): Promise<void>;
}

export function webhookQueue(queues: QueueFactory, settings: { attempts: number; retryDelayMs: number }): WebhookQueue {
  const queue = queues.queue<WebhookDeliveryJob>(webhookDeliveryQueue, {
    attempts: settings.attempts,
    // Doubling from the base delay: with 8 tries and 15 s, the last try comes ~30 min after the first.
    backoff: { type: 'exponential', delay: settings.retryDelayMs },
  });
  return {
    async enqueue(deliveryId, jobId) {
      await queue.add('deliver', { deliveryId }, { jobId });
    },
  };
}

/** Starts the worker in processes that run the worker role; a `retry` outcome makes BullMQ try again after the backoff. */
export function startWebhookWorker(queues: QueueFactory, deliver: (deliveryId: string, attempt: { final: boolean }) => Promise<AttemptOutcome>): void {
  queues.worker<WebhookDeliveryJob>(
    webhookDeliveryQueue,
    async (job: Job<WebhookDeliveryJob>) => {
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const outcome = await deliver(job.data.deliveryId, { final });
      if (outcome === 'retry') throw new AppError('unavailable', 'webhook receiver did not accept the delivery; retrying', { deliveryId: job.data.deliveryId });
      return outcome;
    },
    { concurrency: 8 },
  );
}

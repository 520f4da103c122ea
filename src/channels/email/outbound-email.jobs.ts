import { UnrecoverableError, type Job, type JobsOptions, type Queue, type Worker } from 'bullmq';
import type { QueueFactory } from '../../platform/queues';

/**
 * The outbound email queue. A job carries ids only (the address and text live on the entry), its
 * id is the entry id (enqueueing twice is harmless) and a retry re-reads the entry, whose recorded
 * send result keeps a retry from sending twice.
 */
export const outboundEmailQueueName = 'email-outbound';

export interface OutboundEmailJob {
  interactionId: string;
  entryId: string;
}

// Mail servers greylist for minutes; exponential backoff from 5 s spans about 2.5 minutes over 6 tries.
export const outboundEmailJobOptions: JobsOptions = { attempts: 6, backoff: { type: 'exponential', delay: 5_000 } };

export function outboundEmailQueue(queues: QueueFactory): Queue<OutboundEmailJob> {
  return queues.queue<OutboundEmailJob>(outboundEmailQueueName, outboundEmailJobOptions);
}

export async function enqueueOutboundEmail(queue: Queue<OutboundEmailJob>, job: OutboundEmailJob): Promise<void> {
  await queue.add('send', job, { jobId: job.entryId });
}

/** What the worker needs from the domain: deliver one entry, told whether this is the last try. */
export type DeliverOutboundEmail = (job: OutboundEmailJob, attempt: { number: number; last: boolean }) => Promise<{ permanentFailure?: string }>;

/** Starts the worker when this process runs the worker role; the processor stays this thin. */
export function startOutboundEmailWorker(queues: QueueFactory, deliver: DeliverOutboundEmail): Worker<OutboundEmailJob> | undefined {
  return queues.worker<OutboundEmailJob>(outboundEmailQueueName, async (job: Job<OutboundEmailJob>) => {
    const attempts = job.opts.attempts ?? 1;
    const result = await deliver(job.data, { number: job.attemptsMade + 1, last: job.attemptsMade + 1 >= attempts });
    // No retry can fix this (no server configured, a 5xx): fail the job now, the entry already says why.
    if (result.permanentFailure) throw new UnrecoverableError(result.permanentFailure);
  });
}

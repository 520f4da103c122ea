import type { Job } from 'bullmq';
import type { QueueFactory } from '../../platform/queues';
import { restoreJobReplacingFailed } from '../../platform/repair-jobs';

export const smsOutboundQueue = 'sms-outbound';

/** Ids only: the text and the number are read back from the store by the worker. */
export interface SmsOutboundJob {
  interactionId: string;
  entryId: string;
}

// Five tries over ~15 s (1, 2, 4, 8 s) ride out a Twilio blip or a network hiccup; anything
// longer is an outage, and the message is then marked failed for the agent to see.
const jobOptions = { attempts: 5, backoff: { type: 'exponential', delay: 1_000 } } as const;

/** Queues one send; the job id is the entry id, so queueing the same entry twice is harmless. */
export async function enqueueOutboundSms(queues: QueueFactory, job: SmsOutboundJob): Promise<void> {
  await queues.queue<SmsOutboundJob>(smsOutboundQueue, jobOptions).add('send', job, { jobId: job.entryId });
}

/**
 * Puts a send's job back when Redis lost it, or when it failed for good while the send is still open
 * (its tries fell inside a database outage); same id as `enqueueOutboundSms`. 1 when it was added.
 */
export function restoreOutboundSms(queues: QueueFactory, job: SmsOutboundJob): Promise<number> {
  return restoreJobReplacingFailed(queues.queue<SmsOutboundJob>(smsOutboundQueue, jobOptions), 'send', job, { jobId: job.entryId });
}

/** Starts the worker in processes that run the worker role. */
export function startOutboundSmsWorker(
  queues: QueueFactory,
  deliver: (job: SmsOutboundJob, attempt: { final: boolean }) => Promise<void>,
): void {
  queues.worker<SmsOutboundJob>(smsOutboundQueue, async (job: Job<SmsOutboundJob>) => {
    await deliver({ interactionId: job.data.interactionId, entryId: job.data.entryId }, { final: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) });
  });
}

export const smsMediaQueue = 'sms-media';

/** One media item of an inbound text: the entry it is attached to and its position there. */
export interface SmsMediaJob {
  interactionId: string;
  entryId: string;
  messageSid: string;
  index: number;
}

// Six tries over ~1 minute (2, 4, 8, 16, 32 s): Twilio may answer 404 for a moment right after the
// webhook, and a CDN blip should not cost the customer's photo.
const mediaJobOptions = { attempts: 6, backoff: { type: 'exponential', delay: 2_000 } } as const;

/**
 * Queues one media download. The job id is MessageSid + index, so a webhook Twilio delivers again
 * queues nothing new (and the processor skips media already stored, should the job be gone).
 */
export async function enqueueSmsMedia(queues: QueueFactory, job: SmsMediaJob): Promise<void> {
  await queues.queue<SmsMediaJob>(smsMediaQueue, mediaJobOptions).add('download', job, { jobId: `${job.messageSid}-media-${job.index}` });
}

export function startSmsMediaWorker(
  queues: QueueFactory,
  download: (job: SmsMediaJob, attempt: { final: boolean }) => Promise<void>,
): void {
  queues.worker<SmsMediaJob>(smsMediaQueue, async (job: Job<SmsMediaJob>) => {
    const { interactionId, entryId, messageSid, index } = job.data;
    await download({ interactionId, entryId, messageSid, index }, { final: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) });
  });
}

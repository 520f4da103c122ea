import type { Job } from 'bullmq';
import type { QueueFactory } from '../../platform/queues';

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

/** Starts the worker in processes that run the worker role. */
export function startOutboundSmsWorker(
  queues: QueueFactory,
  deliver: (job: SmsOutboundJob, attempt: { final: boolean }) => Promise<void>,
): void {
  queues.worker<SmsOutboundJob>(smsOutboundQueue, async (job: Job<SmsOutboundJob>) => {
    await deliver({ interactionId: job.data.interactionId, entryId: job.data.entryId }, { final: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) });
  });
}

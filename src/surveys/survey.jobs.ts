import type { Job, Queue } from 'bullmq';
import type { QueueFactory } from '../platform/queues';
import { restoreJob } from '../platform/repair-jobs';

export const csatQueue = 'csat-surveys';

/** Ids only: the customer's number or address is read back when the survey is sent. */
export type SurveyJob = { kind: 'send'; interactionId: string } | { kind: 'expire'; interactionId: string };

// A few tries ride out a store blip; the survey record makes a repeated send a no-op.
const jobOptions = { attempts: 4, backoff: { type: 'exponential', delay: 1_000 } } as const;

/**
 * The survey's timers as delayed jobs. Job ids are deterministic (`csat-<interactionId>`; BullMQ
 * forbids ':' in custom ids), so a repeated completion event cannot queue a second survey.
 */
export class SurveyJobs {
  private readonly queue: Queue<SurveyJob>;

  constructor(private readonly queues: QueueFactory) {
    this.queue = queues.queue<SurveyJob>(csatQueue, jobOptions);
  }

  async scheduleSend(interactionId: string, delayMs: number): Promise<void> {
    await this.queue.add('send', { kind: 'send', interactionId }, { jobId: `csat-${interactionId}`, delay: Math.max(0, delayMs) });
  }

  async scheduleExpiry(interactionId: string, delayMs: number): Promise<void> {
    await this.queue.add('expire', { kind: 'expire', interactionId }, { jobId: `csat-expire-${interactionId}`, delay: Math.max(0, delayMs) });
  }

  /** `scheduleSend` for the reconciler: 1 when the job was missing and is back, 0 when it was there. */
  restoreSend(interactionId: string, delayMs: number): Promise<number> {
    return restoreJob<SurveyJob>(this.queue as Queue<SurveyJob, unknown, string>, 'send', { kind: 'send', interactionId }, { jobId: `csat-${interactionId}`, delay: Math.max(0, delayMs) });
  }

  /** `scheduleExpiry` for the reconciler, likewise. */
  restoreExpiry(interactionId: string, delayMs: number): Promise<number> {
    return restoreJob<SurveyJob>(this.queue as Queue<SurveyJob, unknown, string>, 'expire', { kind: 'expire', interactionId }, { jobId: `csat-expire-${interactionId}`, delay: Math.max(0, delayMs) });
  }

  /** Starts the worker when this process runs the worker role. */
  startWorker(process: (job: SurveyJob) => Promise<void>): void {
    this.queues.worker<SurveyJob>(csatQueue, async (job: Job<SurveyJob>) => process(job.data));
  }
}

import type { Job } from 'bullmq';
import type { QueueFactory } from '../platform/queues';
import { restoreJob } from '../platform/repair-jobs';

export const taskNotifyQueue = 'task-notify';

export type TaskNotificationKind = 'created' | 'resolved' | 'update';

/** Ids only: the message is built from the task as stored when the job runs. */
export interface TaskNotifyJob {
  taskId: string;
  kind: TaskNotificationKind;
  /** The task version the event carried; with the kind it is the idempotency key of the message. */
  version: number;
  /** `update` only: the customer-visible comment's history entry. */
  entryId?: string;
}

// Sends are themselves queued by the channels; a retry here only covers a store hiccup.
const jobOptions = { attempts: 5, backoff: { type: 'exponential', delay: 1_000 } } as const;

/** The key a message is sent under: the same event queued twice sends one message. */
export function notificationKey(job: Pick<TaskNotifyJob, 'taskId' | 'kind' | 'version'>): string {
  return `task:${job.taskId}:${job.kind}:v${job.version}`;
}

/**
 * Queued rather than sent inside the task event: listeners run one after another, and a
 * `customer_notified` change written from inside the `resolved` event would reach later listeners
 * (the agent's socket) before the `resolved` itself.
 */
export async function enqueueTaskNotification(queues: QueueFactory, job: TaskNotifyJob): Promise<void> {
  await queues.queue<TaskNotifyJob>(taskNotifyQueue, jobOptions).add('notify', job, { jobId: notificationKey(job).replace(/:/g, '-') });
}

/** Puts a notification job back when Redis lost it (same job id as `enqueueTaskNotification`); 1 when it was missing. */
export function restoreTaskNotification(queues: QueueFactory, job: TaskNotifyJob): Promise<number> {
  return restoreJob(queues.queue<TaskNotifyJob>(taskNotifyQueue, jobOptions), 'notify', job, { jobId: notificationKey(job).replace(/:/g, '-') });
}

export function startTaskNotificationWorker(queues: QueueFactory, notify: (job: TaskNotifyJob) => Promise<void>): void {
  queues.worker<TaskNotifyJob>(taskNotifyQueue, async (job: Job<TaskNotifyJob>) => notify(job.data));
}

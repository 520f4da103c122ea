import type { Queue, Worker } from 'bullmq';
import type { QueueFactory } from '../platform/queues';

/**
 * Routing's timers as BullMQ delayed jobs, so they survive the death of the process that set them.
 * Payloads carry ids only; every processor re-checks the state it acts on, so a late or repeated
 * job changes nothing.
 */
export const routingTimersQueue = 'routing-timers';

export type RoutingTimerJob =
  | { kind: 'reservation-timeout'; reservationId: string }
  | { kind: 'wrap-up-end'; agentId: string; interactionId: string; reservationId: string }
  | { kind: 'presence-grace'; agentId: string; generation: number }
  | { kind: 'overflow'; interactionId: string; queue: string };

export class RoutingTimers {
  private readonly queue: Queue<RoutingTimerJob>;

  constructor(private readonly queues: QueueFactory) {
    this.queue = queues.queue<RoutingTimerJob>(routingTimersQueue, { removeOnComplete: { count: 1000 }, attempts: 3, backoff: { type: 'exponential', delay: 200 } });
  }

  // Job ids are deterministic (BullMQ ignores a second add with the same id) and avoid ':'.
  async reservationTimeout(reservationId: string, delayMs: number): Promise<void> {
    await this.queue.add('reservation-timeout', { kind: 'reservation-timeout', reservationId }, { jobId: `timeout-${reservationId}`, delay: Math.max(0, delayMs) });
  }

  async cancelReservationTimeout(reservationId: string): Promise<void> {
    await this.queue.remove(`timeout-${reservationId}`).catch(() => undefined);
  }

  async wrapUpEnd(job: { agentId: string; interactionId: string; reservationId: string }, delayMs: number): Promise<void> {
    await this.queue.add('wrap-up-end', { kind: 'wrap-up-end', ...job }, { jobId: `wrapup-${job.reservationId}`, delay: Math.max(0, delayMs) });
  }

  async presenceGrace(agentId: string, generation: number, delayMs: number): Promise<void> {
    await this.queue.add('presence-grace', { kind: 'presence-grace', agentId, generation }, { jobId: `presence-${agentId}-${generation}`, delay: delayMs });
  }

  /**
   * The max-wait check of one contact in one queue. Removed once done, so a contact that comes back
   * to the same queue later (an undone accept) gets a fresh check under the same id.
   */
  async overflowCheck(interactionId: string, queue: string, delayMs: number): Promise<void> {
    await this.queue.add('overflow', { kind: 'overflow', interactionId, queue }, { jobId: `overflow-${interactionId}-${queue}`, delay: Math.max(0, delayMs), removeOnComplete: true });
  }

  /** Starts the worker when this process runs the worker role. */
  startWorker(process: (job: RoutingTimerJob) => Promise<void>): Worker<RoutingTimerJob> | undefined {
    return this.queues.worker<RoutingTimerJob>(routingTimersQueue, (job) => process(job.data));
  }
}

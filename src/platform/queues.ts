import { Queue, Worker, type Job, type JobsOptions, type Processor, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { normalizeError } from './http/error-handler';
import type { Logger } from './logger';
import { createRedis } from './redis';

/**
 * One place that creates BullMQ queues and workers, so every queue shares the key prefix (tests run
 * side by side), workers get a blocking connection with `maxRetriesPerRequest: null` as BullMQ
 * requires, failed jobs are logged the same way, and everything closes on shutdown.
 */
export class QueueFactory {
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
  // BullMQ does not close connections it was handed, so we keep and close them ourselves.
  private readonly workerConnections: Redis[] = [];
  private producerConnection: Redis | undefined;
  private closed = false;

  constructor(
    private readonly redisUrl: string,
    private readonly keyPrefix: string,
    private readonly log: Logger,
    /** False in processes that only produce jobs (ROLES without worker): no workers start there. */
    readonly runsWorkers: boolean,
    /** Told of every failed job attempt (metrics); `final` when BullMQ will not retry it. */
    private readonly onJobFailed?: (queue: string, final: boolean) => void,
  ) {}

  private get prefix(): string {
    return `${this.keyPrefix}bull`;
  }

  queue<Data>(name: string, defaultJobOptions: JobsOptions = {}): Queue<Data> {
    let queue = this.queues.get(name);
    if (!queue) {
      this.producerConnection ??= createRedis(this.redisUrl, 'worker');
      queue = new Queue(name, {
        connection: this.producerConnection,
        prefix: this.prefix,
        defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 }, ...defaultJobOptions },
      });
      queue.on('error', (error) => this.log.warn({ err: error, queue: name }, 'queue error'));
      this.queues.set(name, queue);
    }
    return queue as Queue<Data>;
  }

  /** Starts a worker when this process runs the worker role; returns undefined otherwise. */
  worker<Data, Result = unknown>(name: string, processor: Processor<Data, Result>, options: Partial<WorkerOptions> = {}): Worker<Data, Result> | undefined {
    if (!this.runsWorkers || this.closed) return undefined;
    const connection = createRedis(this.redisUrl, 'worker');
    this.workerConnections.push(connection);
    const worker = new Worker<Data, Result>(name, processor, {
      connection,
      prefix: this.prefix,
      concurrency: 4,
      ...options,
    });
    worker.on('failed', (job: Job<Data, Result> | undefined, error: Error) => {
      const appError = normalizeError(error);
      const context = { queue: name, jobId: job?.id, attempt: job?.attemptsMade, code: appError.code };
      this.onJobFailed?.(name, !job || error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1));
      if (appError.operational) this.log.warn(context, 'job failed');
      else this.log.error({ ...context, err: error }, 'job failed');
    });
    worker.on('error', (error) => this.log.warn({ err: error, queue: name }, 'worker error'));
    this.workers.push(worker);
    return worker;
  }

  /** Workers first (they finish their current job), then queues and the shared connection. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((worker) => worker.close()));
    await Promise.all(this.workerConnections.map((connection) => connection.quit().catch(() => connection.disconnect())));
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    if (this.producerConnection) await this.producerConnection.quit().catch(() => this.producerConnection?.disconnect());
  }
}

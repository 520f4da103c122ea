import { Queue, Worker, type Job, type JobsOptions, type Processor, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { normalizeError } from './http/error-handler';
import type { Logger } from './logger';
import { createRedis } from './redis';
import { isRedisUnreachable } from './store-outage';

/**
 * A Queue whose adds reject fast while its connection is down. BullMQ waits for the connection to
 * be ready before its first command, whatever the offline queue setting, so a queue first used
 * during an outage would otherwise hold its caller until Redis returns. A connection still being
 * opened (start-up) gets a short wait instead: jobs scheduled while the app starts must not fail.
 */
class FailFastQueue<Data> extends Queue<Data> {
  constructor(
    private readonly producer: Redis,
    ...args: ConstructorParameters<typeof Queue<Data>>
  ) {
    super(...args);
  }

  override async add(...args: Parameters<Queue<Data>['add']>): ReturnType<Queue<Data>['add']> {
    await whenProducerReady(this.producer);
    return super.add(...args);
  }

  override async addBulk(...args: Parameters<Queue<Data>['addBulk']>): ReturnType<Queue<Data>['addBulk']> {
    await whenProducerReady(this.producer);
    return super.addBulk(...args);
  }
}

const workerCloseGraceMs = 5_000;

// Connections that have been ready once: after that, "not ready" means an outage, not start-up.
const everReady = new WeakSet<Redis>();
const startupWaitMs = 2_000;

async function whenProducerReady(producer: Redis): Promise<void> {
  if (producer.status === 'ready') return;
  if (!everReady.has(producer) && producer.status !== 'end') {
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), startupWaitMs);
      const onReady = () => done(true);
      function done(value: boolean) {
        clearTimeout(timer);
        producer.off('ready', onReady);
        resolve(value);
      }
      producer.once('ready', onReady);
    });
    if (ready) return;
  }
  throw new Error('Redis is unreachable: job not queued');
}

/**
 * One place that creates BullMQ queues and workers, so every queue shares the key prefix (tests run
 * side by side), workers get a blocking connection with `maxRetriesPerRequest: null` as BullMQ
 * requires, producers one shared fail-fast connection (no offline queue: an add during a Redis
 * outage rejects instead of hanging its request), failed jobs are logged the same way, and
 * everything closes on shutdown.
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
      // Producers run on request paths (webhooks, SMTP, API): their own fail-fast connection (no
      // offline queue), so `add` during a Redis outage rejects at once instead of hanging the request
      // (it used to share a `maxRetriesPerRequest: null` connection and waited for Redis forever).
      // Workers keep their blocking connections below.
      if (!this.producerConnection) {
        const producer = (this.producerConnection = createRedis(this.redisUrl, 'producer'));
        producer.on('ready', () => everReady.add(producer));
        // Reconnect errors are the outage itself; the command connection already reports it.
        producer.on('error', () => undefined);
      }
      queue = new FailFastQueue(this.producerConnection, name, {
        connection: this.producerConnection,
        prefix: this.prefix,
        defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 }, ...defaultJobOptions },
      });
      // An outage is reported once by the command connection, not by every queue on every reconnect attempt.
      queue.on('error', (error) => {
        if (!isRedisUnreachable(error)) this.log.warn({ err: error, queue: name }, 'queue error');
      });
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
      // After a failed fetch (Redis down) BullMQ waits this long before trying again, and that wait
      // is not cut short by close(): its default, 15 s, held jobs back for 15 s after Redis returned
      // and held a shutdown after an outage. A fetch a second is nothing for a Redis that is down.
      runRetryDelay: 1_000,
      ...options,
    });
    worker.on('failed', (job: Job<Data, Result> | undefined, error: Error) => {
      const appError = normalizeError(error);
      const context = { queue: name, jobId: job?.id, attempt: job?.attemptsMade, code: appError.code };
      this.onJobFailed?.(name, !job || error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1));
      if (appError.operational) this.log.warn(context, 'job failed');
      else this.log.error({ ...context, err: error }, 'job failed');
    });
    worker.on('error', (error) => {
      if (!isRedisUnreachable(error)) this.log.warn({ err: error, queue: name }, 'worker error');
    });
    this.workers.push(worker);
    return worker;
  }

  /**
   * Workers first (they finish their current job), then queues and the shared connection. A worker
   * gets `workerCloseGraceMs`: one closed while its blocking connection is still reconnecting (right
   * after a Redis outage) waits in BullMQ for an 'end' that does not come, and must not hold the
   * shutdown; its connection is cut below with the others.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.workers.map(async (worker) => {
        let timer: NodeJS.Timeout | undefined;
        const closed = await Promise.race([
          worker.close().then(() => true),
          new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), workerCloseGraceMs))),
        ]);
        clearTimeout(timer);
        if (!closed) this.log.warn({ queue: worker.name }, 'worker did not close in time: its connections are cut');
      }),
    );
    await Promise.all(this.workerConnections.map((connection) => connection.quit().catch(() => connection.disconnect())));
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    if (this.producerConnection) await this.producerConnection.quit().catch(() => this.producerConnection?.disconnect());
  }
}

import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from './logger';
import { addRun, Coalescer, emptyStats, parseRunId, resetKind, type ReconcilerStats, type RedisIdentity, type RepairOutcome } from './reconcile-rules';
import type { Repair } from './repair';

export type { ReconcilerStats } from './reconcile-rules';

/** How often every node looks for a Redis reset (one GET and one INFO). */
export const resetCheckIntervalMs = 2_000;

export interface ReconcilerDeps {
  /** The command connection: its generation key is checked, and its coming back after a loss triggers a run. */
  redis: Redis;
  redisKeyPrefix: string;
  log: Logger;
}

export interface ReconcilerOptions {
  /** How often the repairs run anyway (RECONCILE_INTERVAL). */
  intervalMs: number;
  /** See resetCheckIntervalMs. */
  resetCheckMs?: number;
}

/**
 * Makes Redis agree with MongoDB again (MongoDB is the system of record, Redis a rebuildable cache
 * of queues, timers and presence). Each module registers its repairs; one run runs them all, in
 * order of registration, each failure logged without stopping the others. Runs are triggered at
 * start, when Redis was reset (a generation key that vanished or changed, a changed run_id), when
 * the command connection is ready again after it was lost (what was stored meanwhile was never
 * queued), and every `intervalMs`. Runs on one node are coalesced (one in flight, one pending);
 * repairs are idempotent, so every node may run them at once.
 */
export class Reconciler {
  private readonly repairs: Repair[] = [];
  private readonly runs: Coalescer<RepairOutcome[]>;
  private statistics: ReconcilerStats = emptyStats();
  private known: RedisIdentity = { generation: null, runId: undefined };
  private intervalTimer: NodeJS.Timeout | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private connectionLost = false;
  private started = false;
  private stopped = false;
  private readonly onClose = () => {
    this.connectionLost = true;
  };
  private readonly onReady = () => {
    if (!this.connectionLost || this.stopped) return;
    this.connectionLost = false;
    this.deps.log.warn('redis connection is back: rebuilding what was stored meanwhile');
    // The check first: a Redis that came back empty is also a reset (new generation, counted).
    void this.checkForReset()
      .catch((error: unknown) => {
        this.deps.log.warn({ err: error }, 'redis reset check failed');
        return false;
      })
      .then((reset) => (reset ? undefined : this.request('reconnected')))
      .catch(() => undefined);
  };

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly options: ReconcilerOptions,
  ) {
    this.runs = new Coalescer((reasons) => this.runAll(reasons.join(',')));
  }

  private get generationKey(): string {
    return `${this.deps.redisKeyPrefix}generation`;
  }

  /** Adds repairs; they run in the order registered (routing's before modules that offer work to agents). */
  register(...repairs: Repair[]): void {
    this.repairs.push(...repairs);
  }

  /** Totals per repair since the start and the last run's outcome (for /metrics). */
  stats(): ReconcilerStats {
    return structuredClone(this.statistics);
  }

  /**
   * Claims or reads the generation, runs the repairs once (in the background: a large rebuild
   * does not hold the start), then keeps the checks and the interval going.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { redis, log } = this.deps;
    try {
      this.known = await this.claimGeneration();
    } catch (error) {
      // Redis down at start: the first check that reaches it sets the generation (and runs).
      log.warn({ err: error }, 'redis generation not read at start');
    }
    redis.on('close', this.onClose);
    redis.on('ready', this.onReady);
    void this.request('start').catch(() => undefined);
    this.checkTimer = setInterval(() => {
      this.checkForReset().catch((error: unknown) => log.debug({ err: error }, 'redis reset check failed'));
    }, this.options.resetCheckMs ?? resetCheckIntervalMs);
    this.checkTimer.unref();
    this.intervalTimer = setInterval(() => void this.request('interval').catch(() => undefined), this.options.intervalMs);
    this.intervalTimer.unref();
  }

  /** Stops the triggers and waits for the run in flight (and the pending one) to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.checkTimer);
    clearInterval(this.intervalTimer);
    this.deps.redis.off('close', this.onClose);
    this.deps.redis.off('ready', this.onReady);
    await this.runs.idle();
  }

  /** Runs every repair (coalesced with a run in flight); resolves with what each did. */
  request(trigger: string): Promise<RepairOutcome[]> {
    if (this.stopped) return Promise.resolve([]);
    return this.runs.request(trigger);
  }

  /**
   * One check: the generation key (GET) and the server's run id (INFO server). On a reset, logs
   * what happened, sets a new generation and runs the repairs; true then.
   */
  async checkForReset(): Promise<boolean> {
    if (this.checking || this.stopped) return false;
    this.checking = true;
    try {
      const { redis, log } = this.deps;
      const [generation, info] = await Promise.all([redis.get(this.generationKey), this.serverInfo()]);
      const observed: RedisIdentity = { generation, runId: parseRunId(info) };
      if (this.known.generation === null && this.known.runId === undefined) {
        // Not read at start (Redis was down): the first look, not a reset; the start's run may have
        // failed on the dead Redis, so once more now that it answers.
        this.known = generation === null ? await this.claimGeneration() : observed;
        void this.request('redis reached').catch(() => undefined);
        return false;
      }
      const kind = resetKind(this.known, observed);
      if (!kind) {
        this.known = { generation: observed.generation, runId: observed.runId ?? this.known.runId };
        return false;
      }
      log.warn({ what: kind, previousRunId: this.known.runId, runId: observed.runId }, 'redis was reset: rebuilding from MongoDB');
      this.known = kind === 'generation key vanished' ? await this.claimGeneration() : observed;
      this.statistics = { ...this.statistics, resets: this.statistics.resets + 1 };
      void this.request(`reset: ${kind}`).catch(() => undefined);
      return true;
    } finally {
      this.checking = false;
    }
  }

  /** Sets a new random generation unless a node set one first (SET NX); returns the one Redis holds. */
  private async claimGeneration(): Promise<RedisIdentity> {
    const { redis } = this.deps;
    await redis.set(this.generationKey, randomBytes(12).toString('hex'), 'NX');
    const [generation, info] = await Promise.all([redis.get(this.generationKey), this.serverInfo()]);
    return { generation, runId: parseRunId(info) };
  }

  /** `INFO server`, or nothing where it is refused (a managed Redis's ACL): the generation key alone decides then. */
  private serverInfo(): Promise<string> {
    return this.deps.redis.info('server').catch(() => '');
  }

  private async runAll(trigger: string): Promise<RepairOutcome[]> {
    const { log } = this.deps;
    const startedAt = new Date();
    const outcomes: RepairOutcome[] = [];
    for (const repair of this.repairs) {
      if (this.stopped) break;
      try {
        const repaired = await repair.run();
        outcomes.push({ name: repair.name, repaired });
        if (repaired) log.info({ repair: repair.name, repaired, trigger }, 'reconciler repaired');
      } catch (error) {
        outcomes.push({ name: repair.name, error: error instanceof Error ? error.message : String(error) });
        log.warn({ err: error, repair: repair.name, trigger }, 'reconciler repair failed');
      }
    }
    const durationMs = Date.now() - startedAt.getTime();
    this.statistics = addRun(this.statistics, { trigger, startedAt, durationMs, outcomes });
    const repaired = outcomes.reduce((sum, outcome) => sum + ('repaired' in outcome ? outcome.repaired : 0), 0);
    const failed = outcomes.filter((outcome) => 'error' in outcome).length;
    if (repaired || failed) log.info({ trigger, repaired, failed, durationMs }, 'reconciler run finished');
    else log.debug({ trigger, durationMs }, 'reconciler run finished');
    return outcomes;
  }
}

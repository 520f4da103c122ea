/**
 * The pure decisions of the reconciler (src/platform/reconciler.ts), apart so they are unit-tested
 * without a Redis: was Redis reset, and what one run of the repairs adds to the counts.
 */

/** What a node last saw of Redis: the generation it holds and the server's run id. */
export interface RedisIdentity {
  generation: string | null;
  runId: string | undefined;
}

export type ResetKind = 'generation key vanished' | 'generation changed' | 'run_id changed';

/**
 * Whether Redis lost (or may have lost) what it held since `known` was read:
 * - the generation key is gone: emptied (a restart without persistence, a failover to an empty
 *   replica, a FLUSHALL);
 * - another value: another node saw the loss first and set a new generation (this node still has
 *   its own share to put back: its agents' connections and states);
 * - the run id changed: a restart, maybe from an AOF a second behind; cheap to rebuild anyway.
 * Undefined when nothing says so. An unknown run id (INFO failed or was not read) decides nothing.
 */
export function resetKind(known: RedisIdentity, observed: RedisIdentity): ResetKind | undefined {
  if (observed.generation === null) return 'generation key vanished';
  if (known.generation !== null && observed.generation !== known.generation) return 'generation changed';
  if (known.runId !== undefined && observed.runId !== undefined && observed.runId !== known.runId) return 'run_id changed';
  return undefined;
}

/** The `run_id` line of an `INFO server` reply; undefined when absent. */
export function parseRunId(info: string): string | undefined {
  return /^run_id:([0-9a-f]+)\s*$/m.exec(info)?.[1];
}

/** One repair's outcome in one run. */
export type RepairOutcome = { name: string; repaired: number } | { name: string; error: string };

export interface ReconcilerStats {
  /** Runs finished since the start, whatever their outcome. */
  runs: number;
  /** Redis resets detected (see resetKind). */
  resets: number;
  /** Items put back since the start, per repair name. */
  repaired: Record<string, number>;
  /** Failed runs of each repair since the start. */
  failures: Record<string, number>;
  last?: {
    trigger: string;
    startedAt: string;
    durationMs: number;
    /** `ok` when every repair ran, `failed` when one or more threw (the others still ran). */
    result: 'ok' | 'failed';
    outcomes: RepairOutcome[];
  };
}

export const emptyStats = (): ReconcilerStats => ({ runs: 0, resets: 0, repaired: {}, failures: {} });

/** The stats after one run; `stats` is not changed. */
export function addRun(stats: ReconcilerStats, run: { trigger: string; startedAt: Date; durationMs: number; outcomes: RepairOutcome[] }): ReconcilerStats {
  const repaired = { ...stats.repaired };
  const failures = { ...stats.failures };
  for (const outcome of run.outcomes) {
    if ('error' in outcome) failures[outcome.name] = (failures[outcome.name] ?? 0) + 1;
    else repaired[outcome.name] = (repaired[outcome.name] ?? 0) + outcome.repaired;
  }
  return {
    ...stats,
    runs: stats.runs + 1,
    repaired,
    failures,
    last: {
      trigger: run.trigger,
      startedAt: run.startedAt.toISOString(),
      durationMs: run.durationMs,
      result: run.outcomes.some((outcome) => 'error' in outcome) ? 'failed' : 'ok',
      outcomes: run.outcomes,
    },
  };
}

/**
 * Runs of one task coalesced: at most one in flight and one pending. A request while one runs
 * marks the pending one (the change it reports may have come after the running one read MongoDB);
 * more requests meanwhile join that pending run. Every caller gets the run that covers its request.
 */
export class Coalescer<T> {
  private running: Promise<T> | undefined;
  private pending: Promise<T> | undefined;
  private pendingReasons: string[] = [];

  constructor(private readonly task: (reasons: string[]) => Promise<T>) {}

  request(reason: string): Promise<T> {
    if (!this.running) return this.start([reason]);
    this.pendingReasons.push(reason);
    this.pending ??= this.running.then(
      () => this.next(),
      () => this.next(),
    );
    return this.pending;
  }

  /** The run in flight and the pending one, if any, settled (their errors are the callers'). */
  async idle(): Promise<void> {
    while (this.running || this.pending) await Promise.allSettled([this.running, this.pending]);
  }

  private next(): Promise<T> {
    const reasons = this.pendingReasons;
    this.pendingReasons = [];
    this.pending = undefined;
    return this.start(reasons);
  }

  private start(reasons: string[]): Promise<T> {
    const run = (async () => this.task(reasons))();
    this.running = run;
    const clear = () => {
      if (this.running === run) this.running = undefined;
    };
    run.then(clear, clear);
    return run;
  }
}

import type { Redis } from 'ioredis';

/** Timer functions, injectable so tests drive time by hand. */
export interface ThrottleClock {
  now(): number;
  setTimeout(fire: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: ThrottleClock = {
  now: () => Date.now(),
  setTimeout: (fire, ms) => setTimeout(fire, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * At most one call of `fire(key)` per key per interval, leading and trailing: the first change is
 * sent at once, changes inside the interval collapse into one sent when it ends, so the last
 * change is never lost. `queue_changed` is only a nudge to refetch, so collapsing loses nothing.
 */
export class KeyedThrottle {
  private readonly lastFired = new Map<string, number>();
  private readonly pending = new Map<string, unknown>();

  constructor(
    private readonly intervalMs: number,
    private readonly fire: (key: string) => void,
    private readonly clock: ThrottleClock = systemClock,
  ) {}

  push(key: string): void {
    if (this.pending.has(key)) return;
    const last = this.lastFired.get(key);
    const wait = last === undefined ? 0 : last + this.intervalMs - this.clock.now();
    if (wait <= 0) {
      this.emit(key);
      return;
    }
    this.pending.set(
      key,
      this.clock.setTimeout(() => {
        this.pending.delete(key);
        this.emit(key);
      }, wait),
    );
  }

  /** Drops changes still waiting; used at shutdown. */
  close(): void {
    for (const handle of this.pending.values()) this.clock.clearTimeout(handle);
    this.pending.clear();
  }

  private emit(key: string): void {
    this.lastFired.set(key, this.clock.now());
    this.fire(key);
  }
}

// Takes the gate, or says how long it is still held (ms). KEYS: gate. ARGV: interval ms.
const gateScript = `
if redis.call('set', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
local ttl = redis.call('pttl', KEYS[1])
if ttl < 1 then return 1 end
return ttl`;

export interface QueueSnapshotGateDeps {
  redis: Redis;
  keyPrefix: string;
  intervalMs: number;
  /** Computes and sends the queue's snapshot; called only by the holder of the gate. */
  publish(queue: string): Promise<void>;
  onError(error: unknown, queue: string): void;
}

/**
 * At most one queue snapshot per queue per interval across ALL nodes: before computing one, a node
 * takes a Redis gate (`SET NX PX interval`). A node that finds the gate taken tries once more when
 * it expires (the trailing emit), so the last change still arrives; if the gate is taken again by
 * then, someone took it after our change and their snapshot, computed afterwards, already shows it.
 */
export class QueueSnapshotGate {
  private readonly trailing = new Map<string, unknown>();
  private closed = false;

  constructor(
    private readonly deps: QueueSnapshotGateDeps,
    private readonly clock: ThrottleClock = systemClock,
  ) {}

  push(queue: string): void {
    this.attempt(queue, false).catch((error: unknown) => this.deps.onError(error, queue));
  }

  close(): void {
    this.closed = true;
    for (const handle of this.trailing.values()) this.clock.clearTimeout(handle);
    this.trailing.clear();
  }

  private async attempt(queue: string, isTrailing: boolean): Promise<void> {
    if (this.closed) return;
    const heldForMs = Number(await this.deps.redis.eval(gateScript, 1, `${this.deps.keyPrefix}realtime:snapshot-gate:${queue}`, String(this.deps.intervalMs)));
    if (heldForMs === 0) return this.deps.publish(queue);
    if (isTrailing || this.trailing.has(queue) || this.closed) return;
    this.trailing.set(
      queue,
      this.clock.setTimeout(() => {
        this.trailing.delete(queue);
        this.attempt(queue, true).catch((error: unknown) => this.deps.onError(error, queue));
      }, heldForMs + 5),
    );
  }
}

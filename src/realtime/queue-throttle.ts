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

import type { Redis } from 'ioredis';
import { statsDay, statsTimeZone } from './queue-kpis';

export const counterFields = ['offered', 'answered', 'answered_in_sl', 'abandoned', 'overflowed'] as const;
export type CounterField = (typeof counterFields)[number];
export type DayCounters = Record<CounterField, number>;

// A week of days stays readable for a "yesterday" view; older days belong to the reporting store.
export const counterTtlSeconds = 8 * 86_400;

/**
 * Today's per-queue counters, so the wallboard reads one hash instead of scanning interactions.
 * Written by the RoutingStore script that makes each event happen (enqueue, accept, abandon,
 * overflow), in the same atomic step: a count can be neither lost to a crash nor doubled by a retry.
 * Key: `<prefix>routing:stats:<queue>:<YYYY-MM-DD>` HASH of counterFields, the day in `timeZone`.
 */
export class QueueCounters {
  private readonly p: string;

  constructor(
    private readonly redis: Redis,
    redisKeyPrefix: string,
    private readonly timeZone = statsTimeZone,
  ) {
    this.p = `${redisKeyPrefix}routing:stats:`;
  }

  /** The day hash of `queue` for the stats day `at` falls in (the scripts are given this key). */
  key(queue: string, at: Date): string {
    return `${this.p}${queue}:${statsDay(at, this.timeZone)}`;
  }

  async read(queue: string, at = new Date()): Promise<DayCounters & { day: string; timeZone: string }> {
    const raw = await this.redis.hgetall(this.key(queue, at));
    const counts = Object.fromEntries(counterFields.map((field) => [field, Number(raw[field] ?? 0)])) as DayCounters;
    return { ...counts, day: statsDay(at, this.timeZone), timeZone: this.timeZone };
  }
}

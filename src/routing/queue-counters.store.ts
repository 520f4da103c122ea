import type { Redis } from 'ioredis';
import { statsDay, statsTimeZone } from './queue-kpis';

export const counterFields = ['offered', 'answered', 'answered_in_sl', 'abandoned', 'overflowed'] as const;
export type CounterField = (typeof counterFields)[number];
export type DayCounters = Record<CounterField, number>;

// A week of days stays readable for a "yesterday" view; older days belong to the reporting store.
const counterTtlSeconds = 8 * 86_400;

/**
 * Today's per-queue counters, written as events happen (enqueue, accept, abandon, overflow) with
 * HINCRBY, so the wallboard reads one hash instead of scanning interactions.
 * Key: `<prefix>routing:stats:<queue>:<YYYY-MM-DD>` HASH of counterFields.
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

  key(queue: string, at: Date): string {
    return `${this.p}${queue}:${statsDay(at, this.timeZone)}`;
  }

  async add(queue: string, counts: Partial<DayCounters>, at = new Date()): Promise<void> {
    const key = this.key(queue, at);
    const multi = this.redis.multi();
    for (const [field, by] of Object.entries(counts)) if (by) multi.hincrby(key, field, by);
    await multi.expire(key, counterTtlSeconds).exec();
  }

  async read(queue: string, at = new Date()): Promise<DayCounters & { day: string; timeZone: string }> {
    const raw = await this.redis.hgetall(this.key(queue, at));
    const counts = Object.fromEntries(counterFields.map((field) => [field, Number(raw[field] ?? 0)])) as DayCounters;
    return { ...counts, day: statsDay(at, this.timeZone), timeZone: this.timeZone };
  }
}

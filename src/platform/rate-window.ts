import type { Redis } from 'ioredis';
import { redisScript } from './redis';

/** INCR with the window's expiry set in the same step, so a counter can never outlive its window. */
const countInWindowLua = `
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

/**
 * Counts one event under `key` in a fixed window (atomic, so it holds across nodes); returns the
 * count including this one. Used for per-sender and per-address limits at the edges.
 */
export async function countInWindow(redis: Redis, key: string, windowMs: number): Promise<number> {
  return Number(await redisScript(redis, countInWindowLua)([key], [windowMs]));
}

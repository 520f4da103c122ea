import type { Redis } from 'ioredis';

/** INCR with the window's expiry set in the same step, so a counter can never outlive its window. */
const countInWindowScript = `
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

/** Counts one event under `key` in a fixed window; returns the count including this one. */
export async function countInWindow(redis: Redis, key: string, windowMs: number): Promise<number> {
  return Number(await redis.eval(countInWindowScript, 1, key, windowMs));
}

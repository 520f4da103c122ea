import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from './errors';
import { redisScript } from './redis';

// Deletes the lock only if we still own it, so a slow holder never frees someone else's lock.
const releaseScript = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface LockOptions {
  /** How long the lock lives if its holder dies. Longer than the guarded work ever takes. */
  ttlMs: number;
  /** How long to wait for a lock held by someone else before giving up with 503. */
  waitMs: number;
}

/**
 * Runs `work` while holding a Redis lock named `key`, across every Switchboard process. Used to
 * serialize the handling of one external event (a Twilio retry arriving while the first delivery is
 * still being processed), not for long work.
 */
export async function withLock<T>(redis: Redis, key: string, options: LockOptions, work: () => Promise<T>): Promise<T> {
  const token = randomUUID();
  const deadline = Date.now() + options.waitMs;
  let delay = 5;
  while ((await redis.set(key, token, 'PX', options.ttlMs, 'NX')) !== 'OK') {
    if (Date.now() >= deadline) {
      throw new AppError('unavailable', 'The same event is being processed right now; retry shortly');
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await work();
  } finally {
    await redisScript(redis, releaseScript)([key], [token]);
  }
}

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from './errors';
import { redisScript } from './redis';
import { isRedisUnreachable, outageError, redisReady } from './store-outage';

// Deletes the lock only if we still own it, so a slow holder never frees someone else's lock.
const releaseScript = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface LockOptions {
  /** How long the lock lives if its holder dies. Longer than the guarded work ever takes. */
  ttlMs: number;
  /** How long to wait for a lock held by someone else before giving up with 503. */
  waitMs: number;
  /**
   * What to do when Redis cannot be reached. `refuse` (default): a retryable 503. `proceed`: run the
   * work without the lock (`held` false); only for work whose outcome MongoDB already guarantees
   * (a durable claim, a conditional write), which then decides what to do without the lock.
   */
  whenRedisDown?: 'refuse' | 'proceed';
}

/**
 * Runs `work` while holding a Redis lock named `key`, across every Switchboard process. Used to
 * serialize the handling of one external event (a Twilio retry arriving while the first delivery is
 * still being processed), not for long work.
 */
export async function withLock<T>(redis: Redis, key: string, options: LockOptions, work: (held: boolean) => Promise<T>): Promise<T> {
  const token = randomUUID();
  const deadline = Date.now() + options.waitMs;
  let delay = 5;
  for (;;) {
    let taken: boolean;
    try {
      // Not even tried while the connection is down: the answer would only come when ioredis gives up.
      if (!redisReady(redis)) throw new Error('Redis is unreachable');
      taken = (await redis.set(key, token, 'PX', options.ttlMs, 'NX')) === 'OK';
    } catch (error) {
      if (!isRedisUnreachable(error)) throw error;
      if (options.whenRedisDown === 'proceed') return work(false);
      throw outageError(error)!;
    }
    if (taken) break;
    if (Date.now() >= deadline) {
      throw new AppError('unavailable', 'The same event is being processed right now; retry shortly');
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await work(true);
  } finally {
    // The work is done (and stored): a release that fails because Redis just went away must not turn
    // that into a failure. The lock then ends with its TTL.
    await redisScript(redis, releaseScript)([key], [token]).catch((error: unknown) => {
      if (!isRedisUnreachable(error)) throw error;
    });
  }
}

import { Redis, type RedisOptions } from 'ioredis';

/**
 * Two flavours: commands for request paths fail fast (a webhook should not hang on a dead Redis),
 * while BullMQ workers need `maxRetriesPerRequest: null` to block and reconnect forever.
 */
export function createRedis(url: string, purpose: 'command' | 'worker' = 'command'): Redis {
  const options: RedisOptions =
    purpose === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: false }
      : { maxRetriesPerRequest: 1, connectTimeout: 2_000, enableOfflineQueue: true };
  return new Redis(url, { lazyConnect: false, ...options });
}

export async function pingRedis(redis: Redis, timeoutMs = 1_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('redis ping timed out')), timeoutMs);
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

import mongoose from 'mongoose';
import { createRedis } from '../src/platform/redis';

/** Deletes every Redis key under `prefix` (SCAN, not KEYS, so a shared server is not blocked). */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = createRedis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** Drops the database named in `mongoUri` and deletes the Redis keys under `redisPrefix`: a bench group's fresh start. */
export async function resetStores(mongoUri: string, redisUrl: string, redisPrefix: string): Promise<void> {
  const connection = mongoose.createConnection(mongoUri, { serverSelectionTimeoutMS: 5_000, bufferCommands: false });
  try {
    await connection.asPromise();
    await connection.dropDatabase();
  } finally {
    await connection.close();
  }
  await deleteRedisKeys(redisUrl, redisPrefix);
}

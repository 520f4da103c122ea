import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * Two flavours: commands for request paths fail fast (a webhook should not hang on a dead Redis),
 * while BullMQ workers need `maxRetriesPerRequest: null` to block and reconnect forever.
 * Command connections pipeline automatically: commands issued in the same tick leave in one socket
 * write (many small writes cost Node more CPU than the commands themselves). Not for BullMQ's
 * connections, whose blocking commands must not wait behind others.
 */
export function createRedis(url: string, purpose: 'command' | 'worker' = 'command'): Redis {
  const options: RedisOptions =
    purpose === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: false }
      : {
          maxRetriesPerRequest: 1, connectTimeout: 2_000, enableOfflineQueue: true, enableAutoPipelining: true,
          // ioredis's own exclusion list misspells punsubscribe: the Socket.IO adapter's punsubscribe at
          // close would otherwise leave in a pipeline after the connection's QUIT, and reject unhandled.
          autoPipeliningIgnoredCommands: ['punsubscribe', 'ssubscribe', 'sunsubscribe'],
        };
  return new Redis(url, { lazyConnect: false, ...options });
}

// Scripts are few and fixed; callers that bind one per call (a lock release) should not hash it each time.
const shas = new Map<string, string>();
function shaOf(lua: string): string {
  let sha = shas.get(lua);
  if (!sha) shas.set(lua, (sha = createHash('sha1').update(lua).digest('hex')));
  return sha;
}

/** Runs a Lua script by its SHA (the text is sent only when Redis does not have it yet). */
export type RedisScript = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

/**
 * A caller for `lua` that sends EVALSHA, and EVAL once when Redis answers NOSCRIPT (first use, a
 * restart, SCRIPT FLUSH); a script that was not found did not run, so sending it again is safe.
 * Not ioredis `defineCommand`: its commands are copied onto an auto-pipeline when that opens, so a
 * script defined while one is open in the same tick fails with "pipeline[name] is not a function".
 */
export function redisScript(redis: Redis, lua: string): RedisScript {
  const sha = shaOf(lua);
  return async (keys, args) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(lua, keys.length, ...keys, ...args);
    }
  };
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

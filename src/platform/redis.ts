import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { isSentinelUrl, parseSentinelUrl, sentinelRedisOptions } from './redis-url';

// Reconnect attempts during an outage: at most this far apart. With `maxRetriesPerRequest: 1`,
// ioredis rejects what waits in its offline queue after every second failed attempt, so a command
// issued while Redis is down fails within about twice this (ioredis's default grows to 2 s, which
// held a webhook for up to 4 s). A refused connect costs nothing, so trying often is cheap.
const maxReconnectDelayMs = 500;
const reconnectDelay = (attempt: number) => Math.min(attempt * 50, maxReconnectDelayMs);

/**
 * Three flavours. `command`: request paths; fails fast during an outage (see above), but keeps the
 * offline queue, because start-up issues commands before the connection is ready, and a command
 * issued during a reconnect should wait for it. `commandTimeout` bounds a command sent into a
 * socket that went silent (a partition, no RST): the offline queue never sees that one.
 * `producer`: BullMQ Queue instances on request paths (`queue.add`); no offline queue at all, so an
 * add during an outage rejects at once instead of holding the HTTP/SMTP request (BullMQ's "failing
 * fast when Redis is down" pattern; BullMQ requires `maxRetriesPerRequest: null` only of the blocking
 * connections of workers). `worker`: BullMQ workers, which must block and reconnect forever.
 * Command connections pipeline automatically: commands issued in the same tick leave in one socket
 * write (many small writes cost Node more CPU than the commands themselves). Not for BullMQ's
 * connections, whose blocking commands must not wait behind others.
 */
export function createRedis(url: string, purpose: 'command' | 'producer' | 'worker' = 'command'): Redis {
  const options: RedisOptions =
    purpose === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: false, retryStrategy: reconnectDelay }
      : purpose === 'producer'
        ? { maxRetriesPerRequest: 1, connectTimeout: 2_000, enableOfflineQueue: false, retryStrategy: reconnectDelay }
        : {
            maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 5_000, enableOfflineQueue: true, enableAutoPipelining: true, retryStrategy: reconnectDelay,
            // ioredis's own exclusion list misspells punsubscribe: the Socket.IO adapter's punsubscribe at
            // close would otherwise leave in a pipeline after the connection's QUIT, and reject unhandled.
            autoPipeliningIgnoredCommands: ['punsubscribe', 'ssubscribe', 'sunsubscribe'],
          };
  if (!isSentinelUrl(url)) return new Redis(url, { lazyConnect: false, ...options });
  // On every (re)connect ioredis asks the Sentinels, in turn, for the master's address, so after a
  // failover the next reconnect (`retryStrategy`) reaches the promoted replica; Sentinel kills the
  // clients of a master it demotes, so none stays on it. `sentinelRetryStrategy` must retry: when it
  // gives up, ioredis ends the client for good (status `end`, no `retryStrategy`), which the failover
  // test showed. A reconnect can emit "All sentinels are unreachable" even though one answers: ioredis
  // resumes its round of the Sentinels past the one that answered last, and reports each round's end.
  return new Redis({ lazyConnect: false, ...sentinelRedisOptions(parseSentinelUrl(url)), sentinelRetryStrategy: reconnectDelay, ...options });
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
  // Known down: no need to wait for ioredis to give up on a PING queued for a reconnect.
  if (redis.status !== 'ready') throw new Error(`redis ping: connection ${redis.status}`);
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

import type { Redis } from 'ioredis';
import { AppError } from './errors';
import type { Logger } from './logger';

/**
 * What a store outage looks like from here, and what the edges do about it. MongoDB is the record:
 * without it nothing is accepted (senders retry). Redis is rebuilt from MongoDB: without it the
 * edges still record and answer, and what needed Redis either fails open (limits), runs without it
 * where MongoDB already guarantees the outcome (inbound locks), or answers a retryable 503.
 */

/** Seconds a client is told to wait before retrying while a store is unreachable (Retry-After). */
export const outageRetryAfterSeconds = 5;

const redisConnectionMessages = [
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Command timed out',
  'redis ping timed out',
  'Redis is unreachable',
  // ioredis, on each pass through the Sentinel list while the master is being failed over.
  'All sentinels are unreachable',
];
const socketErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTCONN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

interface ErrorLike {
  name: string;
  message: string;
  code?: unknown;
}

// Duck-typed, not `instanceof Error`: errors made by Node's own sockets come from another realm
// under test runners (jest's vm context), where instanceof says no.
function asError(error: unknown): ErrorLike | null {
  if (typeof error !== 'object' || error === null) return null;
  const { name, message } = error as Partial<ErrorLike>;
  return typeof name === 'string' && typeof message === 'string' ? (error as ErrorLike) : null;
}

/** Whether `error` means Redis could not be reached (not a script error or a wrong key type). */
export function isRedisUnreachable(error: unknown): boolean {
  const candidate = asError(error);
  if (!candidate || candidate.name.startsWith('Mongo')) return false;
  if (candidate.name === 'MaxRetriesPerRequestError' || candidate.name === 'ConnectionClosedError') return true;
  if (typeof candidate.code === 'string' && socketErrorCodes.has(candidate.code)) return true;
  return redisConnectionMessages.some((message) => candidate.message.startsWith(message));
}

/** Whether `error` means MongoDB could not be reached (no server selected, connection lost), not a rejected write. */
export function isMongoUnreachable(error: unknown): boolean {
  const candidate = asError(error);
  return candidate !== null && /^Mongo(ServerSelection|Network|NetworkTimeout|NotConnected|TopologyClosed|PoolCleared)Error$/.test(candidate.name);
}

/** The retryable 503 for a store outage, or null when `error` is something else. */
export function outageError(error: unknown): AppError | null {
  if (isMongoUnreachable(error)) {
    return new AppError('unavailable', `The database is unreachable right now; nothing was stored. Retry in ${outageRetryAfterSeconds} s`, { retryAfterSeconds: outageRetryAfterSeconds, store: 'mongodb' }, true, { cause: error });
  }
  if (isRedisUnreachable(error)) {
    return new AppError('unavailable', `Routing and queue state (Redis) is unreachable right now; retry in ${outageRetryAfterSeconds} s`, { retryAfterSeconds: outageRetryAfterSeconds, store: 'redis' }, true, { cause: error });
  }
  return null;
}

/**
 * Whether the connection is up now. Checked before a best-effort Redis step on an edge, so that step
 * is skipped at once during an outage instead of waiting for ioredis to give up on the command.
 */
export function redisReady(redis: Redis): boolean {
  return redis.status === 'ready';
}

// Uses that already warned in the current outage of each connection; emptied when it is ready again.
const warned = new WeakMap<Redis, Set<string>>();

/**
 * Logs once per outage (not per request) that `use` (e.g. 'smtp connection limit') went on without
 * Redis. The next outage warns again: the set is cleared when the connection is ready.
 */
export function warnFailedOpen(redis: Redis, log: Logger, use: string, error?: unknown): void {
  let uses = warned.get(redis);
  if (!uses) {
    const fresh = new Set<string>();
    warned.set(redis, (uses = fresh));
    redis.on('ready', () => fresh.clear());
  }
  if (uses.has(use)) return;
  uses.add(use);
  log.warn({ use, reason: asError(error)?.message ?? 'redis not connected' }, 'redis unreachable: going on without it until it returns');
}

/**
 * Runs a Redis-backed limit or counter and fails open when Redis is unreachable: answers
 * `whenDown` (one warning per outage). Any other error still throws.
 */
export async function failOpen<T>(redis: Redis, log: Logger, use: string, whenDown: T, work: () => Promise<T>): Promise<T> {
  if (!redisReady(redis)) {
    warnFailedOpen(redis, log, use);
    return whenDown;
  }
  try {
    return await work();
  } catch (error) {
    if (!isRedisUnreachable(error)) throw error;
    warnFailedOpen(redis, log, use, error);
    return whenDown;
  }
}

/**
 * Logs a Redis outage as two lines (down, back) instead of one warning per reconnect attempt
 * (every half second while it lasts). Errors that are not about reaching Redis are logged as they come.
 */
export function reportRedisOutages(redis: Redis, log: Logger, name = 'redis'): void {
  let down = false;
  let since = 0;
  redis.on('error', (error: unknown) => {
    if (!isRedisUnreachable(error)) {
      log.warn({ err: error, connection: name }, 'redis error');
      return;
    }
    if (down) return;
    down = true;
    since = Date.now();
    log.warn({ connection: name, reason: asError(error)?.message ?? String(error) }, 'redis unreachable');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ connection: name, downMs: Date.now() - since }, 'redis reachable again');
  });
}

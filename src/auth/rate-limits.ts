import type { Redis } from 'ioredis';
import { durationMs } from '../platform/duration';
import { AppError } from '../platform/errors';
import type { Principal } from '../platform/http/principal';
import type { Logger } from '../platform/logger';
import { redisScript, type RedisScript } from '../platform/redis';
import { failOpen } from '../platform/store-outage';

/** `points` per `windowMs` (a fixed window that starts with the first point). */
export interface RateLimit {
  points: number;
  windowMs: number;
  /** As configured, e.g. `600/60s`, for messages. */
  text: string;
}

/** Parses `600/60s` (validated by the config schema); `off` is no limit. */
export function parseRateLimit(text: string): RateLimit | null {
  if (text === 'off') return null;
  const [points, window] = text.split('/');
  return { points: Number(points), windowMs: durationMs(window), text };
}

export interface Counter {
  key: string;
  limit: RateLimit;
}

export type Verdict = { allowed: true } | { allowed: false; retryAfterMs: number };

// Checks every counter, then takes one point from each, in one script: concurrent callers cannot
// all read "under the limit" before any of them counts (the login limiter's old race). A refused
// call takes no point, so hammering a closed door does not push the other counters up.
// ARGV: limit and window (ms) per key, in KEYS order. Returns {1, 0} or {0, ms until the door opens}.
const consumeLua = `
local wait = 0
for i = 1, #KEYS do
  if tonumber(redis.call('get', KEYS[i]) or '0') >= tonumber(ARGV[2 * i - 1]) then
    local ttl = redis.call('pttl', KEYS[i])
    if ttl < 0 then ttl = tonumber(ARGV[2 * i]) end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return {0, wait} end
for i = 1, #KEYS do
  if redis.call('incr', KEYS[i]) == 1 or redis.call('pttl', KEYS[i]) < 0 then
    redis.call('pexpire', KEYS[i], ARGV[2 * i])
  end
end
return {1, 0}
`;

// Gives a point back to each counter that still holds one (the window and its expiry stay).
const refundLua = `
for i = 1, #KEYS do
  if tonumber(redis.call('get', KEYS[i]) or '0') > 0 then redis.call('decr', KEYS[i]) end
end
return 1
`;

/**
 * Fixed-window counters in Redis, taken atomically by one Lua script. Our own rather than
 * rate-limiter-flexible: its RateLimiterRedis registers its script with ioredis `defineCommand`,
 * which fails ("pipeline[functionName] is not a function", then an uncaught error in ioredis) on
 * our auto-pipelined connections; and it takes one key per call, where a login needs three
 * counters checked and taken together. All counters of one call must share a Redis Cluster hash
 * slot (the callers put a `{tag}` in their keys).
 */
export class RateCounters {
  private readonly consumeScript: RedisScript;
  private readonly refundScript: RedisScript;

  constructor(private readonly redis: Redis) {
    this.consumeScript = redisScript(redis, consumeLua);
    this.refundScript = redisScript(redis, refundLua);
  }

  /** Takes one point from every counter, or none when any of them is at its limit. */
  async consume(counters: readonly Counter[]): Promise<Verdict> {
    const args = counters.flatMap((counter) => [counter.limit.points, counter.limit.windowMs]);
    const [allowed, wait] = (await this.consumeScript(
      counters.map((counter) => counter.key),
      args,
    )) as [number, number];
    return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterMs: Math.max(Number(wait), 1) };
  }

  /** Gives back the point `consume` took (an attempt that, in the end, should not count). */
  async refund(keys: readonly string[]): Promise<void> {
    if (keys.length) await this.refundScript(keys, []);
  }

  async reset(keys: readonly string[]): Promise<void> {
    if (keys.length) await this.redis.del(...keys);
  }
}

/** Whole seconds for a Retry-After header: never 0, which would invite an immediate retry. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * The per-caller limit on the authenticated API (API_RATE_LIMIT), for the RouteRegistry: each
 * signed-in user and each API key has its own counter, shared by every node through Redis.
 */
export function apiRateLimiter(redis: Redis, keyPrefix: string, limit: RateLimit | null, log: Logger): ((principal: Principal) => Promise<void>) | undefined {
  if (!limit) return undefined;
  const counters = new RateCounters(redis);
  const allowed: Verdict = { allowed: true };
  return async (principal) => {
    // Fails open while Redis is down (one warning per outage): a capacity guard for signed-in callers
    // must not take the whole API down with it. The sign-in limits (LoginGuard) fail closed instead:
    // they are what stands between a password and a guessing flood.
    const verdict = await failOpen(redis, log, 'api rate limit', allowed, () => counters.consume([{ key: `${keyPrefix}rate:api:${principal.kind}:${principal.id}`, limit }]));
    if (verdict.allowed) return;
    const seconds = retryAfterSeconds(verdict.retryAfterMs);
    throw new AppError('rate_limited', `Too many requests: the limit is ${limit.text} per ${principal.kind === 'api_key' ? 'API key' : 'user'}; retry in ${seconds} s`, {
      retryAfterSeconds: seconds,
    });
  };
}

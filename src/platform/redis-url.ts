import type { RedisOptions } from 'ioredis';

/**
 * REDIS_URL forms. `redis://` and `rediss://` go to ioredis unchanged. A Redis behind Sentinel has
 * no standard URL (ioredis takes `{ sentinels, name }` options, not a string), so we accept the
 * convention of Python's redis-sentinel-url, also used by Prefect/docket and RedisVL:
 *
 *   redis+sentinel://[[username]:password@]host1[:port][,host2[:port]…]/masterName[/db][?sentinel_password=…]
 *   rediss+sentinel://…   TLS to the Sentinels and to the master
 *
 * Sentinel port defaults to 26379. The userinfo is the master's (data node's) credentials; the
 * Sentinels' own are the `sentinel_username` / `sentinel_password` query options.
 */

export const sentinelUrlForm = 'redis+sentinel://[:password@]host1:26379[,host2:26379…]/masterName[/db]';

export interface SentinelTarget {
  sentinels: { host: string; port: number }[];
  /** The master group name the Sentinels monitor (`sentinel monitor <name> …`). */
  name: string;
  db?: number;
  username?: string;
  password?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
  tls: boolean;
}

export class RedisUrlError extends Error {}

const sentinelScheme = /^(rediss?)\+sentinel:\/\//i;
const queryOptions: Record<string, 'sentinelUsername' | 'sentinelPassword'> = {
  sentinel_username: 'sentinelUsername',
  sentinelUsername: 'sentinelUsername',
  sentinel_password: 'sentinelPassword',
  sentinelPassword: 'sentinelPassword',
};

export function isSentinelUrl(url: string): boolean {
  return sentinelScheme.test(url);
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RedisUrlError(`has a malformed ${what} (percent-encode special characters)`);
  }
}

function parseHost(entry: string): { host: string; port: number } {
  // `[::1]:26379`, `host:26379`, `host`
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(entry);
  if (!match) throw new RedisUrlError(`has a malformed Sentinel address "${entry}"; expected host or host:port`);
  const port = match[3] === undefined ? 26379 : Number(match[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RedisUrlError(`has an invalid Sentinel port in "${entry}"`);
  return { host: match[1] ?? match[2]!, port };
}

/** Parses a `redis+sentinel://` / `rediss+sentinel://` URL; throws RedisUrlError saying what is wrong. */
export function parseSentinelUrl(url: string): SentinelTarget {
  const scheme = sentinelScheme.exec(url);
  if (!scheme) throw new RedisUrlError(`must start with redis+sentinel:// or rediss+sentinel://`);
  const rest = url.slice(scheme[0].length);
  const queryAt = rest.indexOf('?');
  const beforeQuery = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const query = queryAt === -1 ? '' : rest.slice(queryAt + 1);
  const slash = beforeQuery.indexOf('/');
  const authority = slash === -1 ? beforeQuery : beforeQuery.slice(0, slash);
  const path = slash === -1 ? '' : beforeQuery.slice(slash + 1);

  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? undefined : authority.slice(0, at);
  const hostList = at === -1 ? authority : authority.slice(at + 1);
  if (!hostList) throw new RedisUrlError(`names no Sentinel; use ${sentinelUrlForm}`);
  const sentinels = hostList.split(',').map(parseHost);

  const [name, db, ...extra] = path.split('/');
  if (!name) throw new RedisUrlError(`names no master; put the master name Sentinel monitors after the hosts: ${sentinelUrlForm}`);
  if (extra.some((part) => part !== '') || (db !== undefined && db !== '' && !/^\d+$/.test(db))) {
    throw new RedisUrlError(`has a path other than /masterName[/db] (db is a number); use ${sentinelUrlForm}`);
  }

  const target: SentinelTarget = { sentinels, name: decode(name, 'master name'), tls: scheme[1]!.toLowerCase() === 'rediss' };
  if (db) target.db = Number(db);
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const username = decode(colon === -1 ? userinfo : userinfo.slice(0, colon), 'username');
    const password = colon === -1 ? '' : decode(userinfo.slice(colon + 1), 'password');
    // `user@` alone is read as a password, as ioredis reads redis://secret@host.
    if (colon === -1) {
      if (username) target.password = username;
    } else {
      if (username) target.username = username;
      if (password) target.password = password;
    }
  }
  for (const [key, value] of new URLSearchParams(query)) {
    const option = queryOptions[key];
    if (!option) throw new RedisUrlError(`has an unknown option "${key}"; known: sentinel_username, sentinel_password`);
    if (value) target[option] = value;
  }
  return target;
}

/** Why `url` is not a REDIS_URL we can use, or undefined when it is (for config validation). */
export function redisUrlProblem(url: string): string | undefined {
  if (isSentinelUrl(url)) {
    try {
      parseSentinelUrl(url);
      return undefined;
    } catch (error) {
      if (error instanceof RedisUrlError) return `is a Sentinel URL that ${error.message}`;
      throw error;
    }
  }
  if (/^rediss?:\/\/.+/.test(url)) return undefined;
  return `must be a redis:// or rediss:// URL, or ${sentinelUrlForm} for a Redis behind Sentinel`;
}

/** ioredis connection options for the master that `target`'s Sentinels name (purpose options are added by createRedis). */
export function sentinelRedisOptions(target: SentinelTarget): RedisOptions {
  return {
    sentinels: target.sentinels,
    name: target.name,
    ...(target.db !== undefined && { db: target.db }),
    ...(target.username !== undefined && { username: target.username }),
    ...(target.password !== undefined && { password: target.password }),
    ...(target.sentinelUsername !== undefined && { sentinelUsername: target.sentinelUsername }),
    ...(target.sentinelPassword !== undefined && { sentinelPassword: target.sentinelPassword }),
    // TLS to the master (tls + enableTLSForSentinelMode) and to the Sentinels (sentinelTLS).
    ...(target.tls && { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true }),
  };
}

import type { Redis } from 'ioredis';
import type { Logger } from './logger';

/** The Redis settings that decide whether queues and timers survive memory pressure and a restart. */
export interface RedisSettings {
  maxmemoryPolicy: string;
  /** `yes` / `no` */
  appendonly: string;
  /** RDB snapshot rules, e.g. `3600 1 300 100 60 10000`; empty when snapshots are off. */
  save: string;
}

export interface RedisSettingsWarning {
  setting: 'maxmemory-policy' | 'persistence';
  message: string;
}

/**
 * What is wrong with these settings for Switchboard, and why it matters (empty: nothing).
 * Redis holds the waiting queues, reservations and every BullMQ timer, so evicting a key or
 * restarting empty loses work that nothing else remembers yet.
 */
export function redisSettingsWarnings(settings: RedisSettings): RedisSettingsWarning[] {
  const warnings: RedisSettingsWarning[] = [];
  if (settings.maxmemoryPolicy !== 'noeviction') {
    warnings.push({
      setting: 'maxmemory-policy',
      message: `Redis maxmemory-policy is ${settings.maxmemoryPolicy || '(empty)'}, not noeviction: when Redis fills up it deletes keys, and a deleted BullMQ job is an offer timeout, SLA timer or send that never happens. Set maxmemory-policy noeviction (BullMQ requires it)`,
    });
  }
  if (settings.appendonly !== 'yes' && settings.save.trim() === '') {
    warnings.push({
      setting: 'persistence',
      message: 'Redis persists nothing (appendonly no, no RDB save rules): a Redis restart or crash empties every waiting queue and timer. Turn on AOF (appendonly yes, appendfsync everysec)',
    });
  }
  return warnings;
}

async function configValue(redis: Redis, name: string): Promise<string> {
  // CONFIG GET answers [name, value]; an empty answer (a proxy that hides the setting) is not a value.
  const reply = (await redis.config('GET', name)) as unknown;
  if (!Array.isArray(reply) || typeof reply[1] !== 'string') throw new Error(`CONFIG GET ${name} returned no value`);
  return reply[1];
}

/**
 * Reads the connected Redis's eviction and persistence settings and logs a warning for each
 * problem. Never throws: a managed Redis that refuses CONFIG (or a Redis that is down) gets one
 * line saying the settings could not be checked, and Switchboard starts anyway.
 * Returns the settings read, or undefined when they could not be read.
 */
export async function checkRedisSettings(redis: Redis, log: Logger, timeoutMs = 2_000): Promise<RedisSettings | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('CONFIG GET timed out')), timeoutMs);
  });
  let settings: RedisSettings;
  try {
    const read = Promise.all([configValue(redis, 'maxmemory-policy'), configValue(redis, 'appendonly'), configValue(redis, 'save')]);
    read.catch(() => undefined); // after a timeout, a late rejection is not unhandled
    const [maxmemoryPolicy, appendonly, save] = await Promise.race([read, timeout]);
    settings = { maxmemoryPolicy, appendonly, save };
  } catch (error) {
    log.warn({ err: error }, 'redis settings could not be checked (CONFIG GET refused or failed): make sure maxmemory-policy is noeviction and persistence (AOF) is on');
    return undefined;
  } finally {
    clearTimeout(timer);
  }
  log.info({ maxmemoryPolicy: settings.maxmemoryPolicy, appendonly: settings.appendonly, save: settings.save }, 'redis settings checked');
  for (const warning of redisSettingsWarnings(settings)) {
    log.warn({ setting: warning.setting, maxmemoryPolicy: settings.maxmemoryPolicy, appendonly: settings.appendonly, save: settings.save }, warning.message);
  }
  return settings;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { startSwitchboard } from '../../src/app';
import { createRedis } from '../../src/platform/redis';
import { checkRedisSettings, redisSettingsWarnings } from '../../src/platform/redis-settings';
import { dropTestStores, testConfig } from '../support/test-app';

function captureLog(): { log: pino.Logger; lines: () => Array<{ level: number; msg: string; setting?: string; [field: string]: unknown }> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines: () => lines.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line)) };
}

/**
 * A private redis-server on a unix socket in a temp dir (nothing shared is touched), started with
 * `flags`, e.g. an evicting policy or CONFIG renamed away as managed Redis services do.
 */
async function privateRedis(flags: string[]): Promise<{ redis: Redis; stop: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-redis-'));
  const socket = path.join(dir, 'redis.sock');
  const server: ChildProcess = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--dir', dir, '--daemonize', 'no', ...flags], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const redis = new Redis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  const stop = async () => {
    redis.disconnect();
    if (server.exitCode === null) server.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // redis-server creates the socket once it listens; wait for it (5 s at most) before connecting.
    for (let waited = 0; !existsSync(socket); waited += 50) {
      if (waited > 5_000 || server.exitCode !== null) throw new Error(`redis-server ${flags.join(' ')} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await redis.connect();
  } catch (error) {
    await stop();
    throw error;
  }
  return { redis, stop };
}

describe('redis settings check', () => {
  it('when the shared local Redis is checked, then the check returns its current settings and warns exactly as the rules say', async () => {
    const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const { log, lines } = captureLog();
    try {
      const settings = await checkRedisSettings(redis, log);
      const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
      const [, appendonly] = (await redis.config('GET', 'appendonly')) as string[];
      const [, save] = (await redis.config('GET', 'save')) as string[];
      expect(settings).toEqual({ maxmemoryPolicy: policy, appendonly, save });
      const warned = lines().filter((line) => line.level === 40).map((line) => line.setting);
      expect(warned).toEqual(redisSettingsWarnings(settings!).map((warning) => warning.setting));
    } finally {
      await redis.quit();
    }
  });

  it('when a Redis evicts keys and persists nothing, then both problems are warned about', async () => {
    const server = await privateRedis(['--maxmemory-policy', 'allkeys-lru', '--appendonly', 'no', '--save', '']);
    const { log, lines } = captureLog();
    try {
      const settings = await checkRedisSettings(server.redis, log);
      expect(settings).toEqual({ maxmemoryPolicy: 'allkeys-lru', appendonly: 'no', save: '' });
      const warnings = lines().filter((line) => line.level === 40);
      expect(warnings.map((line) => line.setting)).toEqual(['maxmemory-policy', 'persistence']);
      expect(warnings[0]!.msg).toContain('allkeys-lru');
    } finally {
      await server.stop();
    }
  });

  it('when a Redis runs as scripts/services.sh starts it, then nothing is warned about', async () => {
    const server = await privateRedis(['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction']);
    const { log, lines } = captureLog();
    try {
      expect(await checkRedisSettings(server.redis, log)).toEqual({ maxmemoryPolicy: 'noeviction', appendonly: 'yes', save: '' });
      expect(lines().filter((line) => line.level >= 40)).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('when a managed Redis refuses CONFIG, then one line says the settings could not be checked and nothing throws', async () => {
    const server = await privateRedis(['--rename-command', 'CONFIG', '']);
    const { log, lines } = captureLog();
    try {
      expect(await checkRedisSettings(server.redis, log)).toBeUndefined();
      const warnings = lines().filter((line) => line.level === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.msg).toContain('could not be checked');
    } finally {
      await server.stop();
    }
  });

  it('when Switchboard starts, then it checks the Redis it connects to and logs what it found', async () => {
    const { log, lines } = captureLog();
    const config = testConfig({ LOG_LEVEL: 'info' });
    const app = await startSwitchboard(config, { log });
    try {
      const [, policy] = (await app.redis.config('GET', 'maxmemory-policy')) as string[];
      const [, appendonly] = (await app.redis.config('GET', 'appendonly')) as string[];
      const [, save] = (await app.redis.config('GET', 'save')) as string[];
      const expected = redisSettingsWarnings({ maxmemoryPolicy: policy!, appendonly: appendonly!, save: save! }).map((warning) => warning.message);
      const logged = lines().filter((line) => line.level === 40 && line.setting).map((line) => line.msg);
      expect(logged).toEqual(expected);
      expect(lines().find((line) => line.msg === 'redis settings checked')).toMatchObject({ maxmemoryPolicy: policy, appendonly, save });
      expect(lines().some((line) => line.msg.includes('could not be checked'))).toBe(false);
    } finally {
      await app.close();
      await dropTestStores(config);
    }
  });
});

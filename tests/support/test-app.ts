import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { startSwitchboard, type StartOptions, type Switchboard } from '../../src/app';
import { loadConfig, type Config } from '../../src/platform/config';
import { createLogger } from '../../src/platform/logger';
import { createRedis } from '../../src/platform/redis';
import type { Role } from '../../src/platform/http/principal';

export interface TestApp extends Switchboard {
  url: string;
  /** Stops the app, drops its database and deletes its Redis keys. */
  destroy(): Promise<void>;
}

/**
 * Drops a test's database and deletes its Redis keys, after its app closed. Never before: FerretDB
 * (SQLite) deletes a dropped database's files, and a write still in flight from a running app (a
 * job, a listener) then hit a vanished WAL index and crashed the whole server (SIGBUS).
 */
export async function dropTestStores(config: Config): Promise<void> {
  const connection = mongoose.createConnection(config.MONGODB_URI, { serverSelectionTimeoutMS: 5_000 });
  try {
    await connection.asPromise();
    await connection.dropDatabase();
  } catch {
    // A store that is gone has nothing left to clean.
  } finally {
    await connection.close().catch(() => undefined);
  }
  const redis = createRedis(config.REDIS_URL);
  try {
    const keys = await redis.keys(`${config.REDIS_KEY_PREFIX}*`);
    if (keys.length) await redis.del(...keys);
  } catch {
    // As above.
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** A unique suffix so every test file has its own database and Redis key prefix. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export function testConfig(overrides: Record<string, string | number> = {}): Config {
  const name = uniqueName('sbtest');
  const baseMongo = (process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/switchboard').replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  return loadConfig(process.env, {
    NODE_ENV: 'test',
    PORT: 0,
    // Every test app runs the SMTP listener too; port 0 keeps parallel test files apart.
    SMTP_PORT: 0,
    // Many apps run in one test process: each metrics listener on a free port.
    METRICS_PORT: 0,
    HOST: '127.0.0.1',
    MONGODB_URI: baseMongo,
    REDIS_KEY_PREFIX: `${name}:`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    AUTH_TOKEN_SECRET: randomBytes(32).toString('hex'),
    // Tests poll the API every 20 ms as one user; the per-user limit has its own tests (tests/security).
    API_RATE_LIMIT: '100000/60s',
    ...overrides,
  });
}

export async function startTestApp(overrides: Record<string, string | number> = {}, options: Omit<StartOptions, 'log'> = {}): Promise<TestApp> {
  const config = testConfig(overrides);
  const app = await startSwitchboard(config, { ...options, log: createLogger(config.LOG_LEVEL) });
  const destroy = async () => {
    await app.close();
    await dropTestStores(config);
  };
  return { ...app, url: app.url!, destroy };
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
}

/** Creates a user through the service and logs in through HTTP, as a client would. */
export async function createUserAndLogin(app: TestApp, role: Role, extra: { departmentId?: string } = {}): Promise<TestUser> {
  const email = `${uniqueName(role)}@test.switchboard.local`;
  const password = randomBytes(12).toString('hex');
  const user = await app.services.auth.createUser({ email, password, role, name: `Test ${role}`, ...extra });
  const response = await request(app, 'POST', '/api/auth/login', { body: { email, password } });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { id: user.id, email, password, token: (response.body as { token: string }).token };
}

export interface TestResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Real HTTP against the app under test. */
export async function request<T = any>(
  app: { url: string },
  method: string,
  path: string,
  options: { body?: unknown; token?: string; apiKey?: string; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<TestResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.apiKey) headers['x-api-key'] = options.apiKey;
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers,
    body: options.rawBody ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // keep text
  }
  return { status: response.status, body: body as T, headers: response.headers };
}

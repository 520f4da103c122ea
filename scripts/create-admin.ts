/**
 * Creates the first admin (or resets an existing admin's password) from ADMIN_EMAIL and
 * ADMIN_PASSWORD. There is no default admin password anywhere in the code: this is the way in.
 *
 *   ADMIN_EMAIL=ops@example.com ADMIN_PASSWORD='…12+ chars…' npm run admin:create
 */
import { buildServices } from '../src/app';
import { ConfigError, loadConfig } from '../src/platform/config';
import { createLogger } from '../src/platform/logger';
import { closeMongo, connectMongo } from '../src/platform/mongo';
import { createRedis } from '../src/platform/redis';

async function main(): Promise<void> {
  // The token secret is irrelevant here (no tokens are issued), so a missing one must not block.
  const config = loadConfig(process.env, { NODE_ENV: process.env.NODE_ENV === 'production' ? 'production' : 'development', AUTH_TOKEN_SECRET: process.env.AUTH_TOKEN_SECRET ?? 'x'.repeat(32) });
  if (!config.ADMIN_EMAIL || !config.ADMIN_PASSWORD) {
    throw new ConfigError([
      ...(config.ADMIN_EMAIL ? [] : [{ variable: 'ADMIN_EMAIL', message: 'is required' }]),
      ...(config.ADMIN_PASSWORD ? [] : [{ variable: 'ADMIN_PASSWORD', message: 'is required (12+ characters)' }]),
    ]);
  }
  const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const mongo = await connectMongo(config.MONGODB_URI, log);
  const redis = createRedis(config.REDIS_URL);
  try {
    const services = buildServices(config, { mongo, redis, log });
    await Promise.all(Object.values(mongo.models).map((model) => model.init()));
    const { user, created } = await services.auth.ensureAdmin({ email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD, name: config.ADMIN_NAME ?? 'Administrator' });
    process.stdout.write(`${created ? 'Created' : 'Updated the password of'} admin ${user.email} (id ${user.id}).\n`);
  } finally {
    await redis.quit().catch(() => redis.disconnect());
    await closeMongo(mongo);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : `admin:create failed: ${(error as Error).message}`}\n`);
  process.exit(1);
});

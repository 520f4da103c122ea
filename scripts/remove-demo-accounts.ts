/**
 * Deletes the demo seed's accounts (*@demo.switchboard.local, published passwords) from the
 * configured database, so that a server outside demo mode agrees to start on it. Their tokens and
 * sockets end on every running node. Demo customers and history stay (they are data, not a way in).
 *
 *   MONGODB_URI=… npm run demo:remove-accounts
 */
import { buildServices } from '../src/app';
import { demoEmailDomain } from '../src/auth';
import { loadConfig } from '../src/platform/config';
import { createLogger } from '../src/platform/logger';
import { closeMongo, connectMongo } from '../src/platform/mongo';
import { createRedis } from '../src/platform/redis';

async function main(): Promise<void> {
  // No tokens are issued here, so a missing secret must not block the clean-up.
  const config = loadConfig(process.env, { NODE_ENV: process.env.NODE_ENV === 'production' ? 'production' : 'development', AUTH_TOKEN_SECRET: process.env.AUTH_TOKEN_SECRET ?? 'x'.repeat(32), DEMO: 'false' });
  const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const mongo = await connectMongo(config.MONGODB_URI, log);
  const redis = createRedis(config.REDIS_URL);
  try {
    const services = buildServices(config, { mongo, redis, log });
    const removed = await services.auth.removeDemoAccounts();
    process.stdout.write(removed ? `Removed ${removed} demo accounts (*@${demoEmailDomain}).\n` : `No demo accounts (*@${demoEmailDomain}) in this database.\n`);
  } finally {
    await redis.quit().catch(() => redis.disconnect());
    await closeMongo(mongo);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo:remove-accounts failed: ${(error as Error).message}\n`);
  process.exit(1);
});

/**
 * Recomputes the report rollups of whole local days (REPORTS_TIME_ZONE) from the raw log:
 * interactions, tasks, CSAT answers and agent states. Run it for closed days, e.g. after a fix or a
 * changed definition; the result equals what the live listeners count.
 *
 *   npm run reports:rebuild -- --from 2026-11-01 --to 2026-11-30
 */
import path from 'node:path';
import { buildServices } from '../src/app';
import { ConfigError, loadConfig, projectRoot, type Config } from '../src/platform/config';
import { createLogger } from '../src/platform/logger';
import { closeMongo, connectMongo } from '../src/platform/mongo';
import { createRedis } from '../src/platform/redis';
import { createReports, type RebuildResult } from '../src/reports';
import { loadQueuesConfig, type QueuesConfig } from '../src/routing';

const dayPattern = /^\d{4}-\d{2}-\d{2}$/;

/** `--from` and `--to` (local days, both included) from the command line. */
export function parseRebuildArgs(argv: string[]): { fromDay: string; toDay: string } {
  const value = (name: string) => {
    const index = argv.indexOf(`--${name}`);
    const found = index >= 0 ? argv[index + 1] : argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
    if (!found || !dayPattern.test(found)) throw new Error(`--${name} YYYY-MM-DD is required (a local day in REPORTS_TIME_ZONE)`);
    return found;
  };
  const fromDay = value('from');
  const toDay = value('to');
  if (toDay < fromDay) throw new Error('--to must not be before --from');
  return { fromDay, toDay };
}

/** Runs one rebuild against the stores `config` names, printing progress lines to `out`. */
export async function runRebuild(input: { config: Config; fromDay: string; toDay: string; queuesConfig?: QueuesConfig; out: (line: string) => void }): Promise<RebuildResult> {
  const { config } = input;
  const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const queuesConfig = input.queuesConfig ?? loadQueuesConfig(path.join(projectRoot(), 'config', 'queues.json'));
  const mongo = await connectMongo(config.MONGODB_URI, log);
  const redis = createRedis(config.REDIS_URL);
  try {
    const services = buildServices(config, { mongo, redis, log });
    const reports = createReports({ config, log, mongo, redis, interactions: services.interactions, queues: () => queuesConfig });
    const started = Date.now();
    const result = await reports.rebuild.rebuild({ fromDay: input.fromDay, toDay: input.toDay }, input.out);
    input.out(`rebuilt ${result.buckets} buckets from ${result.facts} facts in ${Date.now() - started} ms`);
    return result;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
    await closeMongo(mongo);
  }
}

async function main(): Promise<void> {
  const range = parseRebuildArgs(process.argv.slice(2));
  // No tokens are issued here, so a missing token secret must not block.
  const config = loadConfig(process.env, { NODE_ENV: process.env.NODE_ENV === 'production' ? 'production' : 'development', AUTH_TOKEN_SECRET: process.env.AUTH_TOKEN_SECRET ?? 'x'.repeat(32) });
  await runRebuild({ config, ...range, out: (line) => process.stdout.write(`${line}\n`) });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `reports:rebuild failed: ${(error as Error).message}`}\n`);
    process.exit(1);
  });
}

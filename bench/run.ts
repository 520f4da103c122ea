import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import mongoose, { type Connection } from 'mongoose';
import { buildServices, startSwitchboard } from '../src/app';
import { loadConfig, projectRoot, type Config } from '../src/platform/config';
import { createLogger } from '../src/platform/logger';
import { connectMongo } from '../src/platform/mongo';
import { createRedis } from '../src/platform/redis';
import { datasetSize, type DatasetSize } from './dataset';
import { abuseTargets, defaultAbuse, runAbuse, type AbuseResult } from './abuse';
import { defaultIngestion, runIngestion, type IngestionResult } from './ingestion';
import { ensureDataset, type DatasetMarker } from './load';
import { defaultRealtime, runRealtime, type RealtimeResult } from './realtime';
import { datasetSummary, describeMachine, toMarkdown, writeResults, type BenchGroup, type BenchResult, type ScenarioResult } from './report';
import { floorScenarios, httpClient, httpScenarios, serviceScenarios, type Scenario } from './scenarios';
import { measure, summarize } from './stats';

/**
 * `npm run bench`: loads (once) a dataset of 100,000 customers and 1,000,000 interaction entries
 * into its own database, then measures customer lookup by phone and the timeline's first page
 * through the real services and over real HTTP; then (bench/ingestion.ts) inbound SMS webhooks and
 * SMTP email per second against the whole app in a fresh database; then (bench/realtime.ts) screen-pop
 * latency over Socket.IO and routing decision time; then (bench/abuse.ts) whether the app stays responsive
 * while attackers send hostile email and wrong passwords. Writes bench/results/latest.{json,md}.
 */

const fullCustomers = 100_000;
const mongoPoolSize = 20; // src/platform/mongo.ts; reported, not changed here
const usage = `usage: npm run bench -- [options]

  --customers N   dataset size in customers, a multiple of 100 (default ${fullCustomers.toLocaleString('en-US')}; env BENCH_CUSTOMERS)
                  interactions = 2 × customers, entries = 10 × customers
  --samples N     timed samples per scenario (default 2000; env BENCH_SAMPLES)
  --warmup N      untimed iterations before them (default 200; env BENCH_WARMUP)
  --max-seconds N time budget per scenario, warm-up included (default 45); fewer samples if it runs out
  --reload        drop and reload the dataset even if it is already there
  --batch N       customers per insert batch while loading (default 1000)
  --db NAME       database (default switchboard_bench, or switchboard_bench_<customers> for other sizes)
  --no-http       skip the HTTP scenarios
  --only GROUP    run one group: lookup, ingestion, realtime or abuse (results then go to latest-GROUP.* unless --tag)
  --no-ingestion  skip the ingestion group (inbound SMS webhooks and SMTP email per second)
  --sms N         distinct texts per SMS ingestion row (default ${defaultIngestion.sms})
  --emails N      emails in the email ingestion row (default ${defaultIngestion.emails})
  --ingest-seconds N  time budget per ingestion row (default ${defaultIngestion.maxSeconds}); no new request starts after it
  --pop-rates R   screen-pop rows as calls-per-second:seconds, comma-separated (default ${defaultRealtime.rates.map((rate) => `${rate.perSecond}:${rate.seconds}`).join(',')})
  --no-realtime   skip the realtime group (screen-pop latency over Socket.IO, routing decision time; ~2 minutes)
  --no-abuse      skip the abuse group (/healthz and event-loop delay under hostile email and login floods; ~1.5 minutes)
  --abuse-runs N  floor + attack runs in the abuse group, the worst is judged (default ${defaultAbuse.runs})
  --abuse-seconds N  seconds of attack per abuse run (default ${defaultAbuse.attackSeconds})
  --tag NAME      write bench/results/latest-NAME.* instead of latest.* (for experiments)
  --note TEXT     add a line to the report's notes (what was different about this run)

MONGODB_URI and REDIS_URL name the servers (the database part of MONGODB_URI is replaced).`;

interface Options {
  customers: number;
  samples: number;
  warmup: number;
  maxSeconds: number;
  reload: boolean;
  batch: number;
  db?: string;
  tag?: string;
  notes: string[];
  http: boolean;
  groups: BenchGroup[];
  sms: number;
  emails: number;
  ingestSeconds: number;
  popRates: { perSecond: number; seconds: number }[];
  abuseRuns: number;
  abuseSeconds: number;
}

/** `20:15,100:5` → [{ perSecond: 20, seconds: 15 }, { perSecond: 100, seconds: 5 }] */
function popRates(raw: string): { perSecond: number; seconds: number }[] {
  return raw.split(',').map((part) => {
    const [perSecond, seconds] = part.split(':').map(Number);
    if (!(perSecond > 0) || !(seconds > 0)) throw new UsageError(`--pop-rates takes calls-per-second:seconds pairs such as 20:15, got ${part}`);
    return { perSecond, seconds };
  });
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const options: Options = {
    customers: Number(env.BENCH_CUSTOMERS ?? fullCustomers),
    samples: Number(env.BENCH_SAMPLES ?? 2000),
    warmup: Number(env.BENCH_WARMUP ?? 200),
    maxSeconds: Number(env.BENCH_MAX_SECONDS ?? 45),
    reload: false,
    batch: 1000,
    notes: [],
    http: true,
    groups: ['lookup', 'ingestion', 'realtime', 'abuse'],
    sms: defaultIngestion.sms,
    emails: defaultIngestion.emails,
    ingestSeconds: defaultIngestion.maxSeconds,
    popRates: defaultRealtime.rates,
    abuseRuns: defaultAbuse.runs,
    abuseSeconds: defaultAbuse.attackSeconds,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    const count = () => {
      const raw = value();
      const parsed = Number(raw.replace(/[_,]/g, ''));
      if (!Number.isInteger(parsed) || parsed < 0) throw new UsageError(`${flag} must be a whole number, got ${raw}`);
      return parsed;
    };
    switch (flag) {
      case '--customers': options.customers = count(); break;
      case '--samples': options.samples = count(); break;
      case '--warmup': options.warmup = count(); break;
      case '--max-seconds': options.maxSeconds = Math.max(1, count()); break;
      case '--batch': options.batch = Math.max(1, count()); break;
      case '--reload': options.reload = true; break;
      case '--db': options.db = value(); break;
      case '--no-http': options.http = false; break;
      case '--only': {
        const group = value();
        if (group !== 'lookup' && group !== 'ingestion' && group !== 'realtime' && group !== 'abuse') throw new UsageError(`--only takes lookup, ingestion, realtime or abuse, got ${group}`);
        options.groups = [group];
        break;
      }
      case '--no-ingestion': options.groups = options.groups.filter((group) => group !== 'ingestion'); break;
      case '--no-realtime': options.groups = options.groups.filter((group) => group !== 'realtime'); break;
      case '--sms': options.sms = Math.max(1, count()); break;
      case '--emails': options.emails = Math.max(1, count()); break;
      case '--ingest-seconds': options.ingestSeconds = Math.max(1, count()); break;
      case '--pop-rates': options.popRates = popRates(value()); break;
      case '--no-abuse': options.groups = options.groups.filter((group) => group !== 'abuse'); break;
      case '--abuse-runs': options.abuseRuns = Math.max(1, count()); break;
      case '--abuse-seconds': options.abuseSeconds = Math.max(1, count()); break;
      case '--note': options.notes.push(value()); break;
      case '--tag': options.tag = value().replace(/[^A-Za-z0-9_-]/g, '-'); break;
      case '--help': case '-h': process.stdout.write(`${usage}\n`); process.exit(0); break;
      default: throw new UsageError(`unknown option ${flag}`);
    }
  }
  if (options.samples < 1) throw new UsageError('--samples must be at least 1');
  if (options.groups.length === 0) throw new UsageError('nothing to run (--only lookup with --no-ingestion?)');
  return options;
}

class UsageError extends Error {}

const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** The configured server with another database, as the tests do it. */
function withDatabase(uri: string, database: string): string {
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/[^/?]+)(\/[^?]*)?/, `$1/${database}`);
}

function benchConfig(database: string, overrides: Record<string, string | number> = {}): Config {
  const quiet = { NODE_ENV: 'test', LOG_LEVEL: 'silent' };
  const base = loadConfig(process.env, quiet);
  return loadConfig(process.env, {
    ...quiet,
    MONGODB_URI: withDatabase(base.MONGODB_URI, database),
    REDIS_KEY_PREFIX: 'sbbench:',
    HOST: '127.0.0.1',
    PORT: 0,
    AUTH_TOKEN_SECRET: randomBytes(32).toString('hex'),
    // The HTTP rows measure throughput through one signed-in user, far past the per-user limit.
    API_RATE_LIMIT: 'off',
    ...overrides,
  });
}

async function runScenarios(scenarios: Scenario[], transport: ScenarioResult['transport'] | ((scenario: Scenario) => ScenarioResult['transport']), options: Options): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const began = Date.now();
    const measured = await measure(scenario.operation, { warmup: options.warmup, samples: options.samples, maxSeconds: options.maxSeconds });
    const summary = summarize(measured.durationsMs);
    results.push({
      id: scenario.id,
      title: scenario.title,
      does: scenario.does,
      transport: typeof transport === 'function' ? transport(scenario) : transport,
      ...summary,
      truncated: measured.truncated,
      ...(scenario.targetP99Ms !== undefined ? { targetP99Ms: scenario.targetP99Ms, pass: summary.p99Ms < scenario.targetP99Ms } : {}),
    });
    progress(`${scenario.id.padEnd(24)} p50 ${summary.p50Ms.toFixed(2).padStart(7)} ms  p99 ${summary.p99Ms.toFixed(2).padStart(7)} ms  ${String(summary.samples).padStart(5)} samples${measured.truncated ? ' (time budget hit)' : ''}  (${((Date.now() - began) / 1000).toFixed(1)} s)`);
  }
  return results;
}

async function openLoaderConnection(uri: string): Promise<Connection> {
  // autoIndex off: the loader builds secondary indexes once, after the bulk insert.
  const connection = mongoose.createConnection(uri, { autoIndex: false, maxPoolSize: 4, serverSelectionTimeoutMS: 5_000, bufferCommands: false });
  try {
    await connection.asPromise();
  } catch (error) {
    throw new Error(`cannot reach MongoDB/FerretDB at ${uri.replace(/\/\/[^@/]*@/, '//***@')}: ${(error as Error).message}\n  start the local servers with: bash scripts/services.sh start`);
  }
  return connection;
}

function notesFor(results: ScenarioResult[], size: DatasetSize): string[] {
  const byId = new Map(results.map((row) => [row.id, row]));
  const notes: string[] = [];
  const verdict = (label: string, ids: string[]) => {
    const rows = ids.flatMap((id) => byId.get(id) ?? []);
    if (rows.length === 0) return;
    const target = rows[0].targetP99Ms;
    const parts = rows.map((row) => `${row.transport} ${ms(row.p99Ms)} ms ${row.pass ? 'pass' : 'FAIL'}`);
    notes.push(`**${label}** p99 (target < ${target} ms): ${parts.join(', ')}.`);
  };
  verdict('Lookup by phone', ['lookup.service', 'lookup.http']);
  verdict('Timeline first page, full (worst case)', ['timeline.service.full', 'timeline.http.full']);
  verdict('Timeline first page, random customer', ['timeline.service.any', 'timeline.http.any']);
  const findById = byId.get('floor.driver.findById');
  const ping = byId.get('floor.driver.ping');
  if (findById && findById.p50Ms > 1) {
    notes.push(
      `**A primary-key read takes ${ms(findById.p50Ms)} ms (p50), where an index lookup takes ~0.1–0.3 ms: the store is scanning.** ` +
        "FerretDB v1.24's SQLite backend pushes `{_id: <string>}` down as `WHERE _ferretdb_sjson->'$._id' = ?`, but its unique index is on " +
        "`_ferretdb_sjson->\"_id\"`; SQLite does not match the two expressions, so every by-id read, update and delete scans the table (see bench/README.md).",
    );
  }
  if (findById && ping) {
    notes.push(
      `Store floor: a bare round trip (ping) costs p50 ${ms(ping.p50Ms)} ms and one primary-key read p50 ${ms(findById.p50Ms)} ms on ` +
        `${size.customers.toLocaleString('en-US')} identities. A lookup is 2 such reads in sequence (identity, customer); a full timeline page is 1 + 20 ` +
        '(the timeline document, then 20 findById in parallel over the pool); HTTP adds 1 read for the token\'s user, and the timeline route 1 for the customer.',
    );
  }
  return notes;
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const size = datasetSize(options.customers);
  const fullSize = options.customers === fullCustomers;
  const database = options.db ?? (fullSize ? 'switchboard_bench' : `switchboard_bench_${options.customers}`);
  const config = benchConfig(database);
  const startedAt = new Date().toISOString();
  const log = createLogger(config.LOG_LEVEL);
  const results: ScenarioResult[] = [];
  let machine: BenchResult['machine'] | undefined;
  let loadStart: number | undefined;
  let lookup: { load: { marker: DatasetMarker; loaded: boolean }; storageBytes: number | null } | undefined;
  let ingestion: IngestionResult | null = null;
  let realtime: RealtimeResult | null = null;
  let abuse: AbuseResult | null = null;

  if (options.groups.includes('lookup')) {
    // 1. The dataset.
    const loader = await openLoaderConnection(config.MONGODB_URI);
    const load = await ensureDataset(loader, { size, reload: options.reload, batchCustomers: options.batch, progress });
    if (!load.loaded) progress(`dataset already loaded in ${database} (${size.customers.toLocaleString('en-US')} customers); --reload to load again`);
    const stats = (await loader.db!.command({ dbStats: 1 }).catch(() => null)) as { totalSize?: number; storageSize?: number } | null;
    await loader.close();
    lookup = { load, storageBytes: stats?.totalSize ?? stats?.storageSize ?? null };

    // 2. In-process, through the services the app builds.
    const mongo = await connectMongo(config.MONGODB_URI, log);
    const redis = createRedis(config.REDIS_URL);
    const created: string[] = [];
    try {
      const services = buildServices(config, { mongo, redis, log });
      // The repositories register their models; let their index checks finish before timing.
      await Promise.all(Object.values(mongo.models).map((model) => model.init()));
      machine = await describeMachine(mongo, redis, config.MONGODB_URI);
      loadStart = os.loadavg()[0];
      progress(`measuring: ${options.warmup} warm-up + ${options.samples} samples per scenario`);
      results.push(...(await runScenarios(floorScenarios(mongo, size), 'driver', options)));
      results.push(...(await runScenarios(serviceScenarios(services, size, created), 'service', options)));
    } finally {
      // New callers created by the create-path scenario are removed, so the dataset stays as loaded.
      for (const id of created) {
        const customer = await mongo.collection('customers').findOne({ _id: id as never });
        for (const phone of (customer?.phones as { value: string }[] | undefined) ?? []) {
          await mongo.collection('customer_identities').deleteOne({ _id: `phone:${phone.value}` as never });
        }
        await mongo.collection('customers').deleteOne({ _id: id as never });
      }
      await redis.quit().catch(() => redis.disconnect());
      await mongo.close();
    }

    // 3. Over HTTP, through the whole app.
    if (options.http) {
      const app = await startSwitchboard(config, { log });
      const email = `bench-agent-${Date.now().toString(36)}@bench.switchboard.local`;
      const password = randomBytes(16).toString('hex');
      const user = await app.services.auth.createUser({ email, password, role: 'agent', name: 'Bench Agent' });
      const client = httpClient(app.url!);
      try {
        const login = await client.post('/api/auth/login', { email, password });
        if (login.status !== 200) throw new Error(`bench login failed: HTTP ${login.status} ${login.body}`);
        client.authorize((JSON.parse(login.body) as { token: string }).token);
        results.push(...(await runScenarios(httpScenarios(client, size), 'http', options)));
      } finally {
        client.close();
        await app.mongo.collection('users').deleteOne({ _id: user.id as never }).catch(() => undefined);
        await app.close();
      }
    }
  }

  // 4. Ingestion: inbound SMS webhooks and SMTP email per second, in a database of its own.
  if (options.groups.includes('ingestion')) {
    progress(`ingestion: ${options.sms} texts per SMS row, ${options.emails} emails, ${options.ingestSeconds} s budget per row`);
    const measured = await runIngestion(
      { ...defaultIngestion, database: 'switchboard_bench_ingest', sms: options.sms, emails: options.emails, maxSeconds: options.ingestSeconds, progress },
      benchConfig,
      log,
    );
    ingestion = measured.result;
    machine ??= measured.machine;
    loadStart ??= ingestion.loadAverage.start;
  }

  // 5. Realtime: screen-pop latency over Socket.IO and routing decision time, in a database of its own.
  if (options.groups.includes('realtime')) {
    const measured = await runRealtime({ ...defaultRealtime, rates: options.popRates, database: 'switchboard_bench_realtime', progress }, benchConfig, log);
    realtime = measured.result;
    machine ??= measured.machine;
    loadStart ??= realtime.loadAverage.start;
  }

  // 6. Abuse: responsiveness under hostile email and password guessing, in a database of its own.
  if (options.groups.includes('abuse')) {
    // Behind an MX every email comes from the relay's address, so production raises the per-IP mail
    // limit for it: hostile mail then arrives at full rate, which is the case worth measuring.
    const measured = await runAbuse({ ...defaultAbuse, runs: options.abuseRuns, attackSeconds: options.abuseSeconds, database: 'switchboard_bench_abuse', progress }, benchConfig, log, { SMTP_MAX_MESSAGES_PER_IP: 1_000_000 });
    abuse = measured.result;
    machine ??= measured.machine;
    loadStart ??= abuse.loadAverage.start;
  }

  // 7. The report.
  if (!machine || loadStart === undefined) throw new Error('machine description missing');
  const result: BenchResult = {
    benchmark: options.groups[0] === 'lookup' ? 'customer-lookup-and-timeline' : options.groups[0],
    groups: options.groups,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    database: lookup ? database : null,
    dataset: lookup ? datasetSummary(lookup.load.marker, lookup.load.loaded, lookup.storageBytes) : null,
    method: lookup ? { warmup: options.warmup, samples: options.samples, maxSecondsPerScenario: options.maxSeconds, concurrency: 1, clock: 'process.hrtime.bigint', mongoPoolSize } : null,
    loadAverage: { start: loadStart, end: os.loadavg()[0] },
    scenarios: results,
    ingestion,
    realtime,
    abuse,
    notes: [...options.notes, ...(lookup ? notesFor(results, size) : [])],
  };
  // latest.* is the full run of every group; a partial run writes beside it (latest-<groups>.*) instead of over it.
  const partial = options.groups.length < 4 ? options.groups.join('-') : undefined;
  const tag = options.tag ?? (!options.groups.includes('lookup') ? partial : !fullSize ? String(options.customers) : partial);
  const files = writeResults(path.join(projectRoot(), 'bench', 'results'), result, tag);
  process.stdout.write(toMarkdown(result));
  progress(`wrote ${files.map((file) => path.relative(projectRoot(), file)).join(', ')}`);
  const failed = results.filter((row) => row.pass === false);
  if (failed.length > 0) progress(`targets missed: ${failed.map((row) => row.id).join(', ')}`);
  const unverified = ingestion?.rows.filter((row) => !row.verification.ok) ?? [];
  if (unverified.length > 0) {
    progress(`ingestion rows that did not store every message exactly once: ${unverified.map((row) => row.id).join(', ')}`);
    process.exitCode = 1;
  }
  if (abuse && !abuse.worst.pass) {
    progress(`abuse targets missed (healthz p99 < ${abuseTargets.healthzP99Ms} ms, event-loop delay < ${abuseTargets.eventLoopDelayMaxMs} ms): worst ${abuse.worst.healthzP99Ms} / ${abuse.worst.eventLoopDelayMaxMs} ms`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] ${error instanceof UsageError ? `${error.message}\n\n${usage}` : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

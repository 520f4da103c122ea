import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { projectRoot } from '../src/platform/config';
import type { DatasetSize } from './dataset';
import type { AbuseResult } from './abuse';
import type { IngestionResult } from './ingestion';
import type { RealtimeResult } from './realtime';
import type { DatasetMarker } from './load';
import type { LatencySummary } from './stats';

export interface Machine {
  cpuModel: string;
  cores: number;
  ramGiB: number;
  os: string;
  node: string;
  ferretdb: string | null;
  /** Build recipe of the local FerretDB started by scripts/services.sh (e.g. with its _id patch), if that is the server. */
  ferretdbLocalBuild: string | null;
  /** The MongoDB version the server claims to speak. */
  wireVersion: string;
  redis: string | null;
}

/** Reads the build id scripts/services.sh writes beside the FerretDB it started; null for other servers. */
function localFerretdbBuild(uri: string): string | null {
  if (!/^mongodb:\/\/(127\.0\.0\.1|localhost)(:27017)?\//.test(uri)) return null;
  try {
    return fs.readFileSync(path.join(projectRoot(), '.data', 'ferretdb', 'ferretdb.build'), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export async function describeMachine(connection: Connection, redis: Redis, uri: string): Promise<Machine> {
  if (!connection.db) throw new Error('mongo not connected');
  const build = (await connection.db.admin().command({ buildInfo: 1 })) as { version: string; ferretdbVersion?: string };
  const redisInfo = await redis.info('server').catch(() => '');
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    ferretdb: build.ferretdbVersion ?? null,
    ferretdbLocalBuild: build.ferretdbVersion ? localFerretdbBuild(uri) : null,
    wireVersion: build.version,
    redis: /redis_version:(\S+)/.exec(redisInfo)?.[1] ?? null,
  };
}

export interface ScenarioResult extends LatencySummary {
  id: string;
  title: string;
  does: string;
  transport: 'service' | 'http' | 'driver';
  /** The time budget ran out before all samples were taken. */
  truncated: boolean;
  targetP99Ms?: number;
  pass?: boolean;
}

export type BenchGroup = 'lookup' | 'ingestion' | 'realtime' | 'abuse';

export interface BenchResult {
  /** The first group that ran (the lookup group keeps its historical name). */
  benchmark: 'customer-lookup-and-timeline' | 'ingestion' | 'realtime' | 'abuse';
  /** The groups this run measured. */
  groups: BenchGroup[];
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  /** The lookup group's database and dataset; null when it was skipped. */
  database: string | null;
  dataset: {
    size: DatasetSize;
    version: number;
    loadedThisRun: boolean;
    loadSeconds: number | null;
    indexSeconds: number | null;
    loadedAt: string | null;
    storageBytes: number | null;
  } | null;
  method: { warmup: number; samples: number; maxSecondsPerScenario: number; concurrency: 1; clock: 'process.hrtime.bigint'; mongoPoolSize: number } | null;
  /** 1-minute load average when measuring began and ended: other work on the machine skews results. */
  loadAverage: { start: number; end: number };
  /** The lookup group's rows (empty when it was skipped). */
  scenarios: ScenarioResult[];
  /** Throughput of inbound SMS webhooks and SMTP email; null when the group was skipped. */
  ingestion: IngestionResult | null;
  /** Screen-pop latency over Socket.IO and routing decision time; null (or absent in older reports) when skipped. */
  realtime?: RealtimeResult | null;
  /** Responsiveness under hostile email and login floods; null (or absent in older reports) when skipped. */
  abuse?: AbuseResult | null;
  notes: string[];
}

export function datasetSummary(marker: DatasetMarker, loadedThisRun: boolean, storageBytes: number | null): BenchResult['dataset'] {
  return {
    size: marker.size,
    version: marker.version,
    loadedThisRun,
    loadSeconds: marker.loadSeconds ?? null,
    indexSeconds: marker.indexSeconds ?? null,
    loadedAt: marker.completedAt ? new Date(marker.completedAt).toISOString() : null,
    storageBytes,
  };
}

const groupTitles: Record<BenchGroup, string> = { lookup: 'customer lookup and timeline', ingestion: 'ingestion', realtime: 'screen pop and routing', abuse: 'abuse' };

const n = (value: number) => value.toLocaleString('en-US');
const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

export function toMarkdown(result: BenchResult): string {
  const { machine, dataset, method } = result;
  const lines = [
    `# Benchmark: ${result.groups.map((group) => groupTitles[group]).join(', ')}`,
    '',
    `${result.startedAt.slice(0, 16).replace('T', ' ')} UTC · \`npm run bench\``,
    '',
  ];
  if (dataset) {
    const loaded = dataset.loadedThisRun
      ? `loaded by this run in ${dataset.loadSeconds?.toFixed(0)} s (+ ${dataset.indexSeconds?.toFixed(0)} s indexes)`
      : `reused (loaded ${dataset.loadedAt?.slice(0, 16).replace('T', ' ')} UTC in ${dataset.loadSeconds?.toFixed(0)} s)`;
    const storage = dataset.storageBytes ? `, ${(dataset.storageBytes / 2 ** 30).toFixed(2)} GiB stored` : '';
    lines.push(
      `- **Dataset**: ${n(dataset.size.customers)} customers, ${n(dataset.size.interactions)} interactions, ${n(dataset.size.entries)} entries ` +
        `in \`${result.database}\`${storage}; ${loaded}.`,
    );
  }
  lines.push(
    `- **Machine**: ${machine.cpuModel}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, ${machine.os}; Node ${machine.node}; ` +
      `FerretDB ${machine.ferretdb ?? 'n/a (not FerretDB)'}${machine.ferretdbLocalBuild ? ` (local build ${machine.ferretdbLocalBuild})` : ''} (wire ${machine.wireVersion}); Redis ${machine.redis ?? 'n/a'}. Client and servers on the same machine; ` +
      `load average ${result.loadAverage.start.toFixed(1)} when measuring began, ${result.loadAverage.end.toFixed(1)} at the end.`,
  );
  if (method && result.scenarios.length > 0) {
    lines.push(
      `- **Method**: one operation at a time; ${n(method.warmup)} warm-up then ${n(method.samples)} timed samples per row, ` +
        `or fewer when a row's ${method.maxSecondsPerScenario} s budget runs out (column n; * = cut short); process.hrtime.bigint; every answer checked; ` +
        `mongoose pool ${method.mongoPoolSize}. Times in ms.`,
      '',
      '| scenario | p50 | p99 | target p99 | | n | min | p90 | max | mean | ops/s |',
      '|---|---:|---:|---:|:-:|---:|---:|---:|---:|---:|---:|',
      ...result.scenarios.map(
        (row) =>
          `| ${row.title} | ${ms(row.p50Ms)} | **${ms(row.p99Ms)}** | ${row.targetP99Ms !== undefined ? `< ${row.targetP99Ms}` : ''} | ` +
          `${row.pass === undefined ? '' : row.pass ? 'pass' : '**FAIL**'} | ${n(row.samples)}${row.truncated ? '*' : ''} | ${ms(row.minMs)} | ${ms(row.p90Ms)} | ${ms(row.maxMs)} | ${ms(row.meanMs)} | ${n(row.opsPerSec)} |`,
      ),
      '',
      ...result.notes.map((note) => `- ${note}`),
      '',
      'What each row does:',
      '',
      ...result.scenarios.map((row) => `- *${row.title}*: ${row.does}.`),
      '',
    );
  } else {
    lines.push('', ...result.notes.map((note) => `- ${note}`), ...(result.notes.length ? [''] : []));
  }
  if (result.ingestion) lines.push(...ingestionMarkdown(result.ingestion));
  if (result.realtime) lines.push(...realtimeMarkdown(result.realtime));
  if (result.abuse) lines.push(...abuseMarkdown(result.abuse));
  return lines.join('\n');
}

function ingestionMarkdown(ingestion: IngestionResult): string[] {
  const { setup } = ingestion;
  return [
    '## Ingestion',
    '',
    `- **Method**: the whole app in-process (\`startSwitchboard\`, all roles, mongoose pool ${setup.mongoPoolSize}) on a fresh database \`${ingestion.database}\` (dropped first), ` +
      `with the Twilio stand-in and an SMTP sink instead of the network; ${n(setup.smsCustomers)} texting customers and ${n(setup.emailSenders)} email senders created before timing; ` +
      `${setup.warmup} untimed warm-up texts; email acknowledgements ${setup.emailAcknowledge ? 'on' : 'off (the default)'}. ` +
      `Requests are sent with a fixed number in flight; latency per request (ms), throughput = accepted / wall time of the row; ` +
      `no new request after ${setup.maxSecondsPerRow} s (n column, * = cut short). After each row the store is read back: every message must be recorded exactly once. ` +
      `Load average ${ingestion.loadAverage.start.toFixed(1)} when the group began, ${ingestion.loadAverage.end.toFixed(1)} at the end.`,
    '',
    '| row | in flight | n | throughput /s | p50 | p90 | p99 | max | wall s | stored |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|:-:|',
    ...ingestion.rows.map(
      (row) =>
        `| ${row.title} | ${row.concurrency} | ${n(row.accepted)}${row.accepted < row.sent ? ` of ${n(row.sent)}` : ''}${row.truncated ? '*' : ''} | **${row.throughputPerSec.toFixed(1)}** | ` +
        `${ms(row.p50Ms)} | ${ms(row.p90Ms)} | **${ms(row.p99Ms)}** | ${ms(row.maxMs)} | ${row.wallSeconds.toFixed(1)} | ${row.verification.ok ? 'ok' : '**FAIL**'} |`,
    ),
    '',
    ...ingestion.notes.map((note) => `- ${note}`),
    ...(ingestion.notes.length ? [''] : []),
    'What each row does, and what the store held afterwards:',
    '',
    ...ingestion.rows.map((row) => `- *${row.title}*: ${row.does}. Stored: ${row.verification.detail}.`),
    '',
  ];
}

function abuseMarkdown(abuse: AbuseResult): string[] {
  const { setup, targets, worst } = abuse;
  const statuses = (counts: Record<string, number>) => Object.entries(counts).map(([status, times]) => `${status}×${n(times)}`).join(' ') || '–';
  return [
    '## Abuse: responsiveness under hostile email and password guessing',
    '',
    `- **Method**: the whole app in-process on a fresh database \`${abuse.database}\`. Per run: ${setup.floorSeconds} s floor (GET /healthz from a probe process every ${setup.probeIntervalMs} ms, nothing else), ` +
      `then ${setup.attackSeconds} s attack: ${setup.mailClients} SMTP clients (one connection each, no auth) loop over the hostile corpus below while ${setup.loginClients} HTTP clients send logins ` +
      `with wrong passwords for ${setup.loginAccounts} real accounts, from a process of their own; the probe keeps timing /healthz. Event-loop delay of the app's process by \`monitorEventLoopDelay\` (10 ms resolution). ` +
      `${setup.runs} runs; the worst is judged. Load average ${abuse.loadAverage.start.toFixed(1)} when the group began, ${abuse.loadAverage.end.toFixed(1)} at the end.`,
    `- **Targets**: /healthz p99 < ${targets.healthzP99Ms} ms and event-loop delay max < ${targets.eventLoopDelayMaxMs} ms during the attack. ` +
      `**Worst of ${abuse.runs.length}: /healthz p99 ${ms(worst.healthzP99Ms)} ms (floor ${ms(worst.floorHealthzP99Ms)}), event-loop delay max ${ms(worst.eventLoopDelayMaxMs)} ms — ${worst.pass ? 'pass' : '**FAIL**'}.**`,
    '',
    '| run | floor /healthz p50 / p99 | attack /healthz p50 / p99 / max | event-loop delay p99 / max | emails accepted / sent (refused) | email p50 / p99 | logins by status | login p50 / p99 | |',
    '|---|---:|---:|---:|---:|---:|---|---:|:-:|',
    ...abuse.runs.map((run, index) => {
      const { attack, floor } = run;
      return (
        `| ${index + 1} | ${floor.healthz ? `${ms(floor.healthz.p50Ms)} / ${ms(floor.healthz.p99Ms)}` : '–'} | ` +
        `${attack.healthz ? `${ms(attack.healthz.p50Ms)} / **${ms(attack.healthz.p99Ms)}** / ${ms(attack.healthz.maxMs)}` : '–'}${attack.healthzFailures ? ` (${attack.healthzFailures} failed)` : ''} | ` +
        `${ms(attack.eventLoopDelay.p99Ms)} / **${ms(attack.eventLoopDelay.maxMs)}** | ${n(attack.mails.accepted)} / ${n(attack.mails.sent)} (${statuses(attack.mails.refused)}) | ` +
        `${attack.mails.latency ? `${ms(attack.mails.latency.p50Ms)} / ${ms(attack.mails.latency.p99Ms)}` : '–'} | ${statuses(attack.logins.byStatus)} | ` +
        `${attack.logins.latency ? `${ms(attack.logins.latency.p50Ms)} / ${ms(attack.logins.latency.p99Ms)}` : '–'} | ${run.pass ? 'pass' : '**FAIL**'} |`
      );
    }),
    '',
    ...abuse.notes.map((note) => `- ${note}`),
    ...(abuse.notes.length ? [''] : []),
    'The hostile corpus (scripts/abuse/hostile-emails.ts):',
    '',
    ...setup.corpus.map((email) => `- *${email.kind}* (${n(email.bytes)} bytes): ${email.attacks}.`),
    '',
  ];
}

function realtimeMarkdown(realtime: RealtimeResult): string[] {
  return [
    '## Screen pop and routing',
    '',
    `- **Method**: see bench/realtime.ts and bench/README.md. ${n(realtime.setup.agents)} agent sockets for the screen-pop rows; ` +
      `${n(realtime.setup.matchAgents)} available agents and ${n(realtime.setup.matchBacklog)} waiting contacts for the routing rows; offers expire after ${realtime.setup.reservationTimeoutSeconds} s. ` +
      `Times in ms (n column, * = cut short or contacts missing). Load average ${realtime.loadAverage.start.toFixed(1)} when the group began, ${realtime.loadAverage.end.toFixed(1)} at the end.`,
    '',
    '| row | p50 | p99 | target p99 | | n | min | p90 | max | mean |',
    '|---|---:|---:|---:|:-:|---:|---:|---:|---:|---:|',
    ...realtime.rows.map(
      (row) =>
        `| ${row.title} | ${ms(row.p50Ms)} | **${ms(row.p99Ms)}** | ${row.targetP99Ms !== undefined ? `< ${row.targetP99Ms}` : ''} | ` +
        `${row.pass === undefined ? '' : row.pass ? 'pass' : '**FAIL**'} | ${n(row.samples)}${row.sent !== undefined && row.received !== row.sent ? ` of ${n(row.sent)}` : ''}${row.truncated ? '*' : ''} | ` +
        `${ms(row.minMs)} | ${ms(row.p90Ms)} | ${ms(row.maxMs)} | ${ms(row.meanMs)} |`,
    ),
    '',
    ...costLines(realtime),
    ...realtime.notes.map((note) => `- ${note}`),
    ...(realtime.notes.length ? [''] : []),
    'What each row does:',
    '',
    ...realtime.rows.map((row) => `- *${row.title}*: ${row.does}.`),
    '',
  ];
}

/** What each screen-pop contact cost the stores and the CPUs while its row ran. */
function costLines(realtime: RealtimeResult): string[] {
  const rows = realtime.rows.filter((row) => row.costs);
  if (!rows.length) return [];
  const cpu = (value: number | undefined) => (value === undefined ? '–' : value.toFixed(1));
  return [
    'Per contact, while the row ran (MongoDB commands the app sent, Redis commands the server ran, CPU ms by process):',
    '',
    '| row | MongoDB | Redis | CPU Node | CPU FerretDB | CPU Redis | most frequent MongoDB commands | most frequent Redis commands |',
    '|---|---:|---:|---:|---:|---:|---|---|',
    ...rows.map(({ title, costs }) =>
      `| ${title} | ${costs!.mongoCommandsPerContact} | ${costs!.redisCommandsPerContact} | ${cpu(costs!.cpuMsPerContact.node)} | ${cpu(costs!.cpuMsPerContact.ferretdb)} | ${cpu(costs!.cpuMsPerContact.redis)} | ` +
      `${costs!.topMongo.slice(0, 6).map(([command, count]) => `${command} ${count}`).join(', ')} | ${costs!.topRedis.slice(0, 6).map(([command, count]) => `${command} ${count}`).join(', ')} |`,
    ),
    '',
  ];
}

/** Writes through a temporary file and a rename, so a crashed run never leaves half a report. */
function writeAtomically(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, content);
  fs.renameSync(temporary, file);
}

/** `latest.*`, or `latest-<tag>.*` for smaller sizes and experiments, plus a dated JSON of every run. */
export function writeResults(resultsDir: string, result: BenchResult, tag?: string): string[] {
  const base = tag ? `latest-${tag}` : 'latest';
  const stamp = result.startedAt.replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
  const files = [
    path.join(resultsDir, `${base}.json`),
    path.join(resultsDir, `${base}.md`),
    path.join(resultsDir, 'runs', `${stamp}-${[...(result.dataset ? [`c${result.dataset.size.customers}`] : []), ...(result.ingestion ? ['ingestion'] : []), ...(result.realtime ? ['realtime'] : []), ...(result.abuse ? ['abuse'] : [])].join('-')}.json`),
  ];
  const json = `${JSON.stringify(result, null, 2)}\n`;
  writeAtomically(files[0], json);
  writeAtomically(files[1], toMarkdown(result));
  writeAtomically(files[2], json);
  return files;
}

import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { startSwitchboard, type Switchboard } from '../src/app';
import type { EmailChannel } from '../src/channels/email';
import type { Config } from '../src/platform/config';
import type { Logger } from '../src/platform/logger';
import { hostileEmails } from '../scripts/abuse/hostile-emails';
import { startSmtpSink, type SmtpSink } from '../scripts/standins/smtp-sink';
import type { AbuseReply, AbuseRequest, AttackResult, ProbeResult } from './abuse-client';
import { describeMachine, type Machine } from './report';
import { deleteRedisKeys, resetStores } from './stores';
import { summarize, type LatencySummary } from './stats';

/**
 * The abuse group of `npm run bench` (issue 12): does the app stay responsive while outsiders send
 * it the worst they can? The whole app runs in this process (all roles); attackers run in a child
 * process (4 SMTP clients looping over the hostile email corpus, 4 HTTP clients sending logins with
 * wrong passwords for real accounts) and `/healthz` is timed from a second child. This process's
 * event-loop delay is sampled with `perf_hooks.monitorEventLoopDelay`: its maximum is the longest
 * time any request, webhook or socket on the node would have waited.
 *
 * Each run first measures the floor (the same probe with no attack), then the attack. Targets:
 * `/healthz` p99 < 50 ms and the largest event-loop delay < 100 ms during the attack.
 */

export interface AbuseOptions {
  database: string;
  /** Seconds of the quiet floor, then of the attack. */
  floorSeconds: number;
  attackSeconds: number;
  mailClients: number;
  loginClients: number;
  /** How often the probe sends GET /healthz (ms between one answer and the next request). */
  probeIntervalMs: number;
  /** Runs of floor + attack; the report keeps each and judges the worst. */
  runs: number;
  progress(line: string): void;
}

export const defaultAbuse: Omit<AbuseOptions, 'database' | 'progress'> = {
  floorSeconds: 5,
  attackSeconds: 20,
  mailClients: 4,
  loginClients: 4,
  probeIntervalMs: 10,
  runs: 3,
};

export const abuseTargets = { healthzP99Ms: 50, eventLoopDelayMaxMs: 100 };

export interface AbusePhase {
  healthz: LatencySummary | null;
  healthzFailures: number;
  /** Event-loop delay of the app's process over the phase, ms (histogram: p50, p99, max). */
  eventLoopDelay: { p50Ms: number; p99Ms: number; maxMs: number };
}

export interface AbuseRun {
  floor: AbusePhase;
  attack: AbusePhase & {
    mails: { sent: number; accepted: number; refused: Record<string, number>; latency: LatencySummary | null };
    logins: { sent: number; byStatus: Record<string, number>; latency: LatencySummary | null };
  };
  pass: boolean;
}

export interface AbuseResult {
  database: string;
  startedAt: string;
  finishedAt: string;
  loadAverage: { start: number; end: number };
  setup: Omit<AbuseOptions, 'database' | 'progress'> & { corpus: { kind: string; bytes: number; attacks: string }[]; loginAccounts: number };
  targets: typeof abuseTargets;
  runs: AbuseRun[];
  /** The worst of the runs, judged against the targets. */
  worst: { healthzP99Ms: number; eventLoopDelayMaxMs: number; floorHealthzP99Ms: number; pass: boolean };
  notes: string[];
}

const redisPrefix = 'sbbench-abuse:';
const loginAccounts = 8;
const round = (value: number) => Math.round(value * 1000) / 1000;

function forkClient(request: AbuseRequest): Promise<AttackResult | ProbeResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'abuse-client.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    child.once('message', (reply: AbuseReply) => {
      settled = true;
      if (reply.type === 'result') resolve(reply.result);
      else reject(new Error(`abuse client failed: ${reply.message}`));
    });
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`abuse client exited with ${code} before answering`));
    });
    child.send(request);
  });
}

async function phase(
  seconds: number,
  baseUrl: string,
  intervalMs: number,
  attack?: () => Promise<AttackResult>,
): Promise<{ phase: AbusePhase; attack?: AttackResult }> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  try {
    const [probe, attacked] = await Promise.all([
      forkClient({ type: 'probe', seconds, baseUrl, intervalMs }) as Promise<ProbeResult>,
      attack ? attack() : Promise.resolve(undefined),
    ]);
    delay.disable();
    return {
      phase: {
        healthz: probe.durationsMs.length ? summarize(Float64Array.from(probe.durationsMs)) : null,
        healthzFailures: probe.failures,
        // The histogram counts nanoseconds.
        eventLoopDelay: { p50Ms: round(delay.percentile(50) / 1e6), p99Ms: round(delay.percentile(99) / 1e6), maxMs: round(delay.max / 1e6) },
      },
      attack: attacked,
    };
  } finally {
    delay.disable();
  }
}


/**
 * Runs the abuse group. `overrides` are the settings the attack is measured under: by default the
 * app's own defaults, except that the limits which would simply refuse a single attacking address
 * are raised (see the notes), so the corpus is parsed and the passwords are hashed as they would be
 * for an attacker with many addresses.
 */
export async function runAbuse(
  options: AbuseOptions,
  configFor: (database: string, overrides: Record<string, string | number>) => Config,
  log: Logger,
  overrides: Record<string, string | number> = {},
): Promise<{ result: AbuseResult; machine: Machine }> {
  const { progress } = options;
  const startedAt = new Date().toISOString();
  const loadStart = os.loadavg()[0];
  const attachments = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-bench-abuse-'));
  let sink: SmtpSink | undefined;
  let app: Switchboard | undefined;
  try {
    sink = await startSmtpSink();
    const config = configFor(options.database, { SMTP_PORT: 0, SMTP_OUT_URL: sink.url, ATTACHMENTS_DIR: attachments, REDIS_KEY_PREFIX: redisPrefix, ...overrides });
    progress(`abuse: dropping ${options.database} and ${redisPrefix}* keys`);
    await resetStores(config.MONGODB_URI, config.REDIS_URL, redisPrefix);
    app = await startSwitchboard(config, { log });
    const smtpPort = (app.channels.find((channel) => channel.name === 'email') as EmailChannel | undefined)?.smtpPort();
    if (!app.url || !smtpPort) throw new Error('abuse: the app did not start its HTTP server and SMTP listener (ROLES?)');
    const machine = await describeMachine(app.mongo, app.redis, config.MONGODB_URI);

    // Real accounts, so every wrong password is checked against a real hash.
    const loginEmails: string[] = [];
    for (let index = 0; index < loginAccounts; index += 1) {
      const email = `abuse-target-${index}@bench.switchboard.local`;
      await app.services.auth.createUser({ email, password: randomBytes(16).toString('hex'), role: 'agent', name: `Abuse Target ${index}` });
      loginEmails.push(email);
    }

    const runs: AbuseRun[] = [];
    for (let index = 0; index < options.runs; index += 1) {
      const run = randomBytes(4).toString('hex');
      progress(`abuse run ${index + 1}/${options.runs}: floor ${options.floorSeconds} s`);
      const floor = await phase(options.floorSeconds, app.url, options.probeIntervalMs);
      // Each attack starts with the login counters empty, so every run pays for its first hashes
      // rather than meeting the previous run's 429s.
      await deleteRedisKeys(config.REDIS_URL, `${redisPrefix}{login}`);
      progress(`abuse run ${index + 1}/${options.runs}: attack ${options.attackSeconds} s (${options.mailClients} mail + ${options.loginClients} login clients)`);
      const attacked = await phase(options.attackSeconds, app.url, options.probeIntervalMs, () =>
        forkClient({
          type: 'attack',
          seconds: options.attackSeconds,
          smtpPort,
          baseUrl: app!.url!,
          mailClients: options.mailClients,
          loginClients: options.loginClients,
          loginEmails,
          run,
        }) as Promise<AttackResult>,
      );
      const attack = attacked.attack!;
      const healthzP99 = attacked.phase.healthz?.p99Ms ?? Number.POSITIVE_INFINITY;
      const done: AbuseRun = {
        floor: floor.phase,
        attack: {
          ...attacked.phase,
          mails: { sent: attack.mails.sent, accepted: attack.mails.accepted, refused: attack.mails.refused, latency: attack.mails.durationsMs.length ? summarize(Float64Array.from(attack.mails.durationsMs)) : null },
          logins: { sent: attack.logins.sent, byStatus: attack.logins.byStatus, latency: attack.logins.durationsMs.length ? summarize(Float64Array.from(attack.logins.durationsMs)) : null },
        },
        pass: healthzP99 < abuseTargets.healthzP99Ms && attacked.phase.eventLoopDelay.maxMs < abuseTargets.eventLoopDelayMaxMs && attacked.phase.healthzFailures === 0,
      };
      runs.push(done);
      progress(
        `abuse run ${index + 1}: healthz p99 ${healthzP99.toFixed(1)} ms (floor ${floor.phase.healthz?.p99Ms.toFixed(1)}), event-loop delay max ${done.attack.eventLoopDelay.maxMs.toFixed(1)} ms; ` +
          `mails ${attack.mails.accepted}/${attack.mails.sent} accepted, logins ${JSON.stringify(attack.logins.byStatus)} ${done.pass ? 'pass' : 'FAIL'}`,
      );
    }

    const worstHealthz = Math.max(...runs.map((run) => run.attack.healthz?.p99Ms ?? Number.POSITIVE_INFINITY));
    const worstDelay = Math.max(...runs.map((run) => run.attack.eventLoopDelay.maxMs));
    const result: AbuseResult = {
      database: options.database,
      startedAt,
      finishedAt: new Date().toISOString(),
      loadAverage: { start: loadStart, end: os.loadavg()[0] },
      setup: {
        floorSeconds: options.floorSeconds,
        attackSeconds: options.attackSeconds,
        mailClients: options.mailClients,
        loginClients: options.loginClients,
        probeIntervalMs: options.probeIntervalMs,
        runs: options.runs,
        corpus: hostileEmails.map((email) => ({ kind: email.kind, bytes: email.build('x@y', 'a@b', 'c@d').length, attacks: email.attacks })),
        loginAccounts,
      },
      targets: abuseTargets,
      runs,
      worst: {
        healthzP99Ms: worstHealthz,
        eventLoopDelayMaxMs: worstDelay,
        floorHealthzP99Ms: Math.max(...runs.map((run) => run.floor.healthz?.p99Ms ?? Number.POSITIVE_INFINITY)),
        pass: runs.every((run) => run.pass),
      },
      notes: Object.keys(overrides).length ? [`Measured with ${Object.entries(overrides).map(([key, value]) => `${key}=${value}`).join(', ')}.`] : [],
    };
    return { result, machine };
  } finally {
    await app?.close().catch((error: unknown) => log.warn({ err: error }, 'abuse: app close failed'));
    await sink?.close().catch(() => undefined);
    fs.rmSync(attachments, { recursive: true, force: true });
  }
}

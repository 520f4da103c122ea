import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { buildServices } from '../../src/app';
import { loadConfig } from '../../src/platform/config';
import { createLogger } from '../../src/platform/logger';
import { createRedis } from '../../src/platform/redis';
import { freePort } from '../../scripts/standins/free-port';
import { startPrivateFerretDb, startPrivateRedis, type PrivateStore } from '../../scripts/standins/private-stores';
import { startSmtpSink, type SmtpSink } from '../../scripts/standins/smtp-sink';
import { standinCredentials, startTwilioStandin, type TwilioStandin } from '../../scripts/standins/twilio-standin';
import { ApiClient } from './api-client';
import { appNode, isReady, sleep, type AppNode } from './app-node';
import { missingNotices, readSla, readStore, readWaiting, waitingLimit, type SlaFindings, type StoreFindings } from './checks';
import { deliver, newDelivery, type ContactKind, type Delivery, type DeliveryOptions, type EdgeTarget } from './deliveries';
import { compareRollups, type RollupComparison } from './rollups';
import { runTaskOp, type TaskOp } from './task-ops';
import { faultNames, faultTitles, judgeRun, type Check, type FaultName, type PhaseResult, type PhaseWindow, type Totals, ms } from './verdict';

export { faultNames, faultTitles };
export type { Check, FaultName, PhaseResult };

export interface ChaosOptions {
  /** Operations started per second: contacts (voice, SMS, email) and, one in seven, a task change. */
  rate: number;
  /** Traffic before the first fault. */
  baselineSeconds: number;
  /** How long each store or node stays dead, traffic flowing. */
  outageSeconds: number;
  /** Traffic after each restart, before the next fault. */
  afterSeconds: number;
  faults: FaultName[];
  /** After the last phase: no new contacts; refused deliveries keep being retried this long at most. */
  drainSeconds: number;
  /** Checks are repeated until they pass or this long has passed (the system may still be repairing). */
  settleSeconds: number;
  /** A fault not recovered (ready and a new contact queued) within this is a failed check. */
  recoveryTimeoutSeconds: number;
  /** SLA of the chaos task type, in minutes (business hours around the clock). */
  slaMinutes: number;
  /** SLA_TIME_SCALE of the app nodes: job delays multiplied by it. */
  slaScale: number;
  /** A due breach timer may fire this late. */
  slaGraceSeconds: number;
  /** Keep the run's temp dir (node logs) even when every check passes. */
  keepLogs?: boolean;
  progress?: (line: string) => void;
}

export const defaultChaos: ChaosOptions = {
  rate: 5,
  baselineSeconds: 15,
  outageSeconds: 10,
  afterSeconds: 20,
  faults: [...faultNames],
  drainSeconds: 60,
  // A job a killed node held is run again by BullMQ's stalled-job check once its lock (30 s) expires.
  settleSeconds: 45,
  recoveryTimeoutSeconds: 60,
  slaMinutes: 1,
  slaScale: 0.25,
  slaGraceSeconds: 10,
};

export interface ChaosResult {
  benchmark: 'chaos';
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; platform: string; node: string; loadAverage: { start: number; end: number } };
  options: Omit<ChaosOptions, 'progress' | 'keepLogs'>;
  setup: string[];
  phases: PhaseResult[];
  totals: Totals;
  /** Live report rollups against a rebuild from the raw log, after both nodes stopped. */
  rollups: RollupComparison;
  checks: Check[];
  pass: boolean;
  /** Node logs, kept when a check failed. */
  logsDir: string | null;
  unexpectedNodeExits: number;
}

const contactCycle: Array<ContactKind | 'task'> = ['sms', 'voice', 'email', 'sms', 'voice', 'email', 'task'];

/**
 * `npm run chaos` and the short version in `npm test`: a private Redis (append-only file, as
 * production) and FerretDB, two app nodes as child processes, the Twilio and SMTP stand-ins; traffic
 * at a fixed rate through the real edges while Redis, FerretDB and one node are killed in turn; then
 * the checks. Never touches the shared stores.
 */
export async function runChaos(input: Partial<ChaosOptions> = {}): Promise<ChaosResult> {
  const options: ChaosOptions = { ...defaultChaos, ...input };
  const progress = options.progress ?? (() => undefined);
  const startedAt = new Date();
  const loadStart = os.loadavg()[0];
  const run = randomBytes(4).toString('hex');
  const runDir = mkdtempSync(path.join(os.tmpdir(), `sb-chaos-${run}-`));
  const setup: string[] = [];
  let redis: PrivateStore | undefined;
  let ferret: PrivateStore | undefined;
  let twilio: TwilioStandin | undefined;
  let sink: SmtpSink | undefined;
  const nodes: AppNode[] = [];
  let unexpectedNodeExits = 0;
  let pass = false;
  try {
    redis = await startPrivateRedis({ persist: true });
    ferret = await startPrivateFerretDb(`chaos_${run}`);
    const credentials = standinCredentials();
    twilio = await startTwilioStandin({ ...credentials, callbackDelayMs: 20 });
    sink = await startSmtpSink();
    const [port0, port1, smtp0, smtp1] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const publicBaseUrl = `http://127.0.0.1:${port0}`;
    const ourNumber = '+862159999999';
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      ROLES: 'all',
      HOST: '127.0.0.1',
      MONGODB_URI: ferret.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `chaos${run}:`,
      PUBLIC_BASE_URL: publicBaseUrl,
      LOG_LEVEL: 'warn',
      AUTH_TOKEN_SECRET: randomBytes(32).toString('hex'),
      API_RATE_LIMIT: 'off',
      TWILIO_ACCOUNT_SID: credentials.accountSid,
      TWILIO_AUTH_TOKEN: credentials.authToken,
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_NUMBERS: '+862150000000',
      SMTP_OUT_URL: sink.url,
      SUPPORT_EMAIL: 'support@switchboard.local',
      EMAIL_ACKNOWLEDGE: '1',
      CSAT_ENABLED: 'false',
      SLA_TIME_SCALE: String(options.slaScale),
      // A task event a killed node left owed is replayed after the grace; production's 30 s + 10 s
      // would outlast a short run's drain. 5 s is still far longer than a normal publish.
      TASK_OUTBOX_GRACE: '5s',
      TASK_OUTBOX_INTERVAL: '2s',
      // Behind an MX every email comes from the relay's address; production raises these for it.
      SMTP_MAX_MESSAGES_PER_IP: '1000000',
      SMTP_MAX_CONNECTIONS_PER_IP: '10000',
      ATTACHMENTS_DIR: path.join(runDir, 'attachments'),
      DEMO: 'false',
    };
    nodes.push(
      appNode({ name: 'node-a', port: port0, smtpPort: smtp0, env, logFile: path.join(runDir, 'node-a.log') }),
      appNode({ name: 'node-b', port: port1, smtpPort: smtp1, env, logFile: path.join(runDir, 'node-b.log') }),
    );
    for (const node of nodes) await node.start();
    progress(`stores and two nodes up (${nodes.map((node) => node.url).join(', ')}); logs in ${runDir}`);
    setup.push(
      `Private redis-server (appendonly yes, appendfsync everysec) on ${redis.url}; private FerretDB on port ${ferret.port}.`,
      `Two app nodes as child processes (ROLES=all), HTTP ${port0}/${port1}, SMTP ${smtp0}/${smtp1}; PUBLIC_BASE_URL is node-a (the node that is never killed), webhooks are posted to either node.`,
      'Twilio REST stand-in (records every outbound SMS) and an SMTP sink (records every outbound email) in the harness process.',
      `Traffic: ${options.rate} operations/s in the cycle ${contactCycle.join(', ')}; each contact from a new customer; EMAIL_ACKNOWLEDGE on; tasks of a type with a ${options.slaMinutes}-minute SLA around the clock, customer notified on filing, every other task accepted, started and resolved (notified again); SLA_TIME_SCALE ${options.slaScale}.`,
      'No agents are signed in: every contact waits in its queue, so "waiting again or handled" is checked against the waiting lists.',
    );

    // People and a department, through the services on the private stores (as the tests set them up).
    const setupConfig = loadConfig(process.env, { ...env, PORT: '0', SMTP_PORT: '0', LOG_LEVEL: 'silent' });
    const setupMongo = await mongoose.createConnection(ferret.url, { serverSelectionTimeoutMS: 10_000 }).asPromise();
    const setupRedis = createRedis(redis.url);
    let departmentId: string;
    const password = randomBytes(12).toString('hex');
    const email = `chaos-supervisor-${run}@chaos.switchboard.test`;
    try {
      const services = buildServices(setupConfig, { mongo: setupMongo, redis: setupRedis, log: createLogger('silent') });
      await services.auth.createUser({ email, password, role: 'supervisor', name: 'Chaos Supervisor' });
      const allDay = [{ start: '00:00', end: '24:00' }];
      const department = await services.departments.create({
        code: `chaos-${run}`, name: 'Chaos Parts', timezone: 'UTC',
        businessHours: { weekly: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay }, holidays: [] },
        taskTypes: [{ code: 'chaos', name: 'Chaos follow-up', slaMinutes: options.slaMinutes, defaultPriority: 'normal', fields: [], checklist: [], notifyCustomerOnCreate: true, templates: {} }],
      });
      departmentId = department.id;
    } finally {
      await setupRedis.quit().catch(() => setupRedis.disconnect());
      await setupMongo.close();
    }

    const targets = (): EdgeTarget[] => nodes.map((node) => ({ name: node.name, url: node.url, smtpPort: node.smtpPort }));
    const api = new ApiClient(targets, 10_000);
    const login = await api.retrying<{ token: string }>('POST', '/api/auth/login', { email, password }, Date.now() + 20_000, (status) => status === 200);
    if (login.status !== 200) throw new Error(`supervisor login failed: ${login.status} ${JSON.stringify(login.body)}`);
    api.token = login.body.token;

    // The traffic.
    let phase = 'baseline';
    let acceptingNew = true;
    let retryUntil = Number.POSITIVE_INFINITY;
    const deliveries: Delivery[] = [];
    const taskOps: TaskOp[] = [];
    const inFlight = new Set<Promise<void>>();
    const deliveryOptions: DeliveryOptions = {
      publicBaseUrl, authToken: credentials.authToken, accountSid: credentials.accountSid, ourNumber, supportEmail: env.SUPPORT_EMAIL,
      timeoutMs: 15_000, retryUntil: () => retryUntil, targets,
    };
    // Customers a task can be filed for: acknowledged a second ago or more, oldest first.
    const taskCustomers: Delivery[] = [];
    const track = (work: Promise<void>) => {
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    };
    let turn = 0;
    const startDelivery = (delivery: Delivery) => {
      deliveries.push(delivery);
      track(
        deliver(delivery, deliveryOptions, turn++).then(() => {
          if (delivery.ackedAt !== undefined && !delivery.probe) setTimeout(() => taskCustomers.push(delivery), 1_000).unref();
        }),
      );
    };
    let cycle = 0;
    const ticker = setInterval(() => {
      if (!acceptingNew) return;
      const kind = contactCycle[cycle++ % contactCycle.length];
      if (kind === 'task') {
        const op: TaskOp = { phase, customer: '', startedAt: Date.now(), resolve: taskOps.length % 2 === 1, transitionFailures: [] };
        taskOps.push(op);
        track(runTaskOp(op, { api, departmentId, typeCode: 'chaos', retryUntil: () => retryUntil }, taskCustomers));
      } else {
        startDelivery(newDelivery(kind, phase, run));
      }
    }, 1000 / options.rate);

    // A node that dies on its own is a finding; it is started again so the run goes on.
    const deliberatelyDown = new Set<AppNode>();
    const watchdog = setInterval(() => {
      for (const node of nodes) {
        if (!node.running() && !deliberatelyDown.has(node)) {
          unexpectedNodeExits += 1;
          deliberatelyDown.add(node);
          progress(`${node.name} exited on its own; starting it again`);
          void node.start().catch((error: Error) => progress(`${node.name} did not start again: ${error.message}`)).finally(() => deliberatelyDown.delete(node));
        }
      }
    }, 500);

    /** Restart → every node ready; restart → a new text acknowledged, stored and listed as waiting. */
    const measureRecovery = async (restartedAt: number): Promise<NonNullable<PhaseResult['recovery']>> => {
      const deadline = restartedAt + options.recoveryTimeoutSeconds * 1000;
      const ready = (async () => {
        while (Date.now() < deadline) {
          const states = await Promise.all(nodes.map((node) => isReady(node.url)));
          if (states.every(Boolean)) return Date.now() - restartedAt;
          await sleep(100);
        }
        return null;
      })();
      const queued = (async () => {
        const probe = { ...newDelivery('sms', phase, run), probe: true };
        deliveries.push(probe);
        await deliver(probe, { ...deliveryOptions, retryUntil: () => deadline }, turn++);
        if (probe.ackedAt === undefined) return null;
        while (Date.now() < deadline) {
          const found = await api.call<{ items?: { id: string }[] }>('GET', `/api/customers?phone=${encodeURIComponent(probe.from)}`);
          const customerId = found.status === 200 ? found.body.items?.[0]?.id : undefined;
          if (customerId) {
            const waiting = await api.call<{ items?: { customerId: string }[] }>('GET', `/api/routing/queues/sms/waiting?limit=${waitingLimit}`);
            if (waiting.status === 200 && waiting.body.items?.some((item) => item.customerId === customerId)) return Date.now() - restartedAt;
          }
          await sleep(200);
        }
        return null;
      })();
      const [readyMs, contactQueuedMs] = await Promise.all([ready, queued]);
      return { readyMs, contactQueuedMs };
    };

    const windows: PhaseWindow[] = [];
    const window = (name: string, fault: FaultName | null): PhaseWindow => {
      const entry: PhaseWindow = { name, fault, start: Date.now(), end: 0, recovery: null, waitingAtEnd: { expected: 0, missing: 0 } };
      windows.push(entry);
      phase = name;
      return entry;
    };

    /** Contacts stored 3 s ago or earlier that should wait, against routing's waiting lists now. */
    const waitingSnapshot = async (): Promise<PhaseResult['waitingAtEnd']> => {
      const before = Date.now() - 3_000;
      const connection = mongoose.createConnection(ferret!.url, { serverSelectionTimeoutMS: 5_000 });
      try {
        await connection.asPromise();
        const store = await readStore(connection);
        const waiting = await readWaiting(api);
        const expected = store.shouldWait.filter((interaction) => new Date(interaction.createdAt).getTime() <= before);
        const missing = expected.filter((interaction) => !waiting.ids.has(interaction._id)).length;
        return { expected: expected.length, missing, ...(waiting.error ? { error: waiting.error } : waiting.truncated.length ? { error: `${waiting.truncated.join(', ')} at the list limit` } : {}) };
      } catch (error) {
        return { expected: 0, missing: 0, error: (error as Error).message };
      } finally {
        await connection.close().catch(() => undefined);
      }
    };
    const endPhase = async (entry: PhaseWindow) => {
      entry.end = Date.now();
      entry.waitingAtEnd = await waitingSnapshot();
      progress(`${entry.name}: at its end ${entry.waitingAtEnd.expected} stored contacts should wait, ${entry.waitingAtEnd.missing} are in no queue${entry.waitingAtEnd.error ? ` (${entry.waitingAtEnd.error})` : ''}`);
    };

    // Baseline, then each fault: kill, outage with traffic, restart, recovery, traffic.
    let current = window('baseline', null);
    progress(`baseline: ${options.baselineSeconds} s at ${options.rate} operations/s`);
    await sleep(options.baselineSeconds * 1000);
    for (const fault of options.faults) {
      await endPhase(current);
      current = window(fault, fault);
      progress(`${fault}: ${faultTitles[fault]}`);
      const node = nodes[1];
      if (fault === 'redis' || fault === 'redis-empty') await redis.kill('SIGKILL');
      else if (fault === 'ferretdb') await ferret.kill('SIGKILL');
      else {
        deliberatelyDown.add(node);
        await node.kill();
      }
      await sleep(options.outageSeconds * 1000);
      const restartedAt = Date.now();
      const recovery = measureRecovery(restartedAt);
      if (fault === 'redis') await redis.start();
      else if (fault === 'redis-empty') await redis.start({ empty: true });
      else if (fault === 'ferretdb') await ferret.start();
      else {
        await node.start().catch((error: Error) => progress(`${node.name} did not start again: ${error.message}`));
        deliberatelyDown.delete(node);
      }
      current.recovery = await recovery;
      progress(`${fault}: ready after ${ms(current.recovery.readyMs)}, a new text queued after ${ms(current.recovery.contactQueuedMs)}`);
      const restUntil = restartedAt + options.afterSeconds * 1000;
      if (Date.now() < restUntil) await sleep(restUntil - Date.now());
    }
    await endPhase(current);

    // Drain: no new contacts; refused ones are retried until acknowledged or the drain ends.
    acceptingNew = false;
    clearInterval(ticker);
    retryUntil = Date.now() + options.drainSeconds * 1000;
    progress(`draining: ${inFlight.size} deliveries and task changes still in flight (retried for ${options.drainSeconds} s at most)`);
    while (inFlight.size) await Promise.race([...inFlight]);
    clearInterval(watchdog);

    // Checks, repeated until they pass or the settle time is over.
    progress('checking');
    const checkMongo = await mongoose.createConnection(ferret.url, { serverSelectionTimeoutMS: 10_000 }).asPromise();
    let store: StoreFindings;
    let waiting: Awaited<ReturnType<typeof readWaiting>>;
    let sla: SlaFindings;
    let missingWaiting: StoreFindings['shouldWait'];
    const settleUntil = Date.now() + options.settleSeconds * 1000;
    const scaleGraceMs = options.slaGraceSeconds * 1000;
    try {
      for (;;) {
        store = await readStore(checkMongo);
        waiting = await readWaiting(api);
        sla = await readSla(checkMongo, options.slaScale, scaleGraceMs, Date.now());
        missingWaiting = store.shouldWait.filter((interaction) => !waiting.ids.has(interaction._id));
        const noticesMissing = missingNotices(deliveries, taskOps, twilio.messages, sink.messages).missing.length;
        // Work still owed in MongoDB (task events not yet fanned out, report batches not yet written)
        // is done by the outbox dispatcher and the reconciler: the run settles once none is left.
        const owed = (await checkMongo.collection('task_outbox').countDocuments()) + (await checkMongo.collection('report_batches').countDocuments());
        const settled = !waiting.error && missingWaiting.length === 0 && sla.notFired.length === 0 && noticesMissing === 0 && sla.notYetDue === 0 && owed === 0;
        if (settled || Date.now() > settleUntil) break;
        await sleep(1_000);
      }
    } finally {
      await checkMongo.close();
    }

    // Both nodes stop (SIGTERM: their report batches are flushed), then the rollups are compared with a rebuild.
    await Promise.all(nodes.map((node) => node.stop()));
    const rollups = await compareRollups(setupConfig, startedAt, new Date());
    progress(`rollups: ${rollups.error ? `not compared (${rollups.error})` : `${rollups.buckets} buckets, ${rollups.differences.length} fields differ from the rebuild`}`);

    const { phases, totals, checks } = judgeRun({
      windows, deliveries, taskOps, store, waiting, missingWaiting, sla, rollups, smsMessages: twilio.messages, emailMessages: sink.messages, unexpectedNodeExits, recoveryTimeoutSeconds: options.recoveryTimeoutSeconds,
    });
    pass = checks.every((entry) => entry.pass);

    return {
      benchmark: 'chaos',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}`, node: process.version, loadAverage: { start: loadStart, end: os.loadavg()[0] } },
      options: { rate: options.rate, baselineSeconds: options.baselineSeconds, outageSeconds: options.outageSeconds, afterSeconds: options.afterSeconds, faults: options.faults, drainSeconds: options.drainSeconds, settleSeconds: options.settleSeconds, recoveryTimeoutSeconds: options.recoveryTimeoutSeconds, slaMinutes: options.slaMinutes, slaScale: options.slaScale, slaGraceSeconds: options.slaGraceSeconds },
      setup,
      phases,
      rollups,
      totals,
      checks,
      pass,
      logsDir: pass && !options.keepLogs ? null : runDir,
      unexpectedNodeExits,
    };
  } finally {
    await Promise.all(nodes.map((node) => node.stop().catch(() => undefined)));
    await twilio?.close().catch(() => undefined);
    await sink?.close().catch(() => undefined);
    await redis?.destroy().catch(() => undefined);
    await ferret?.destroy().catch(() => undefined);
    if (pass && !options.keepLogs) rmSync(runDir, { recursive: true, force: true });
  }
}


/** Error lines of the node logs (pino JSON, level 50+), for the report when a check failed. */
export function nodeErrors(logsDir: string): string[] {
  const lines: string[] = [];
  for (const name of ['node-a.log', 'node-b.log']) {
    try {
      for (const line of readFileSync(path.join(logsDir, name), 'utf8').split('\n')) {
        if (/"level":(50|60)/.test(line)) lines.push(`${name}: ${line.slice(0, 300)}`);
      }
    } catch {
      // no log
    }
  }
  return lines;
}

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
import { emailsSentTwice, judgeDeliveries, missingNotices, readSla, readStore, readWaiting, smsSentTwice, waitingLimit, type SlaFindings, type StoreFindings } from './checks';
import { deliver, newDelivery, type ContactKind, type Delivery, type DeliveryOptions, type EdgeTarget } from './deliveries';
import { compareRollups, type RollupComparison } from './rollups';
import { runTaskOp, type TaskOp } from './task-ops';

/** The faults the run injects, in order. */
export const faultNames = ['redis', 'ferretdb', 'node', 'redis-empty'] as const;
export type FaultName = (typeof faultNames)[number];

export const faultTitles: Record<FaultName, string> = {
  redis: 'Redis killed (SIGKILL), restarted from its append-only file',
  ferretdb: 'FerretDB killed (SIGKILL), restarted',
  node: 'One app node killed (SIGKILL), restarted',
  'redis-empty': 'Redis killed (SIGKILL), restarted EMPTY (failover to an empty replica)',
};

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

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

export interface PhaseResult {
  phase: string;
  fault: FaultName | null;
  title: string;
  startedAt: string;
  endedAt: string;
  contacts: { sent: number; acknowledged: number; stored: number; lost: number; duplicated: number; unacknowledged: number; refusedPermanently: number; retried: number };
  /**
   * At the end of the phase (just before the next fault), over every contact stored so far (3 s
   * old or more): how many should wait for an agent (open/queued in MongoDB) and how many of them
   * routing does not list as waiting. So each fault is judged before the next one hides it.
   */
  waitingAtEnd: { expected: number; missing: number; error?: string };
  /** After the run: stored contacts first sent in this phase that should wait, and those not waiting. */
  waitingFinal: { expected: number; missing: number };
  tasks: { started: number; filed: number; fileFailed: number; resolved: number; slaDue: number; slaNotFired: number };
  sentTwice: { sms: number; email: number };
  /** Messages contacts and tasks of this phase must cause (email acknowledgements, task notices), and those never sent. */
  notices: { expected: number; missing: number };
  /** Restart → every node's /readyz ready; restart → a new text stored and listed as waiting. Null for the baseline. */
  recovery: { readyMs: number | null; contactQueuedMs: number | null } | null;
}

export interface ChaosResult {
  benchmark: 'chaos';
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; platform: string; node: string; loadAverage: { start: number; end: number } };
  options: Omit<ChaosOptions, 'progress' | 'keepLogs'>;
  setup: string[];
  phases: PhaseResult[];
  totals: PhaseResult['contacts'] & { noticesExpected: number; noticesMissing: number; waitingExpected: number; waitingMissing: number; handled: number; smsSent: number; emailsSent: number; smsSentTwice: number; emailsSentTwice: number; tasksFiled: number; slaDue: number; slaNotFired: number; slaNotYetDue: number };
  /** Live report rollups against a rebuild from the raw log, after both nodes stopped. */
  rollups: RollupComparison;
  checks: Check[];
  pass: boolean;
  /** Node logs, kept when a check failed. */
  logsDir: string | null;
  unexpectedNodeExits: number;
}

const contactCycle: Array<ContactKind | 'task'> = ['sms', 'voice', 'email', 'sms', 'voice', 'email', 'task'];

interface PhaseWindow {
  name: string;
  fault: FaultName | null;
  start: number;
  end: number;
  recovery: PhaseResult['recovery'];
  waitingAtEnd: PhaseResult['waitingAtEnd'];
}

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
        const settled = !waiting.error && missingWaiting.length === 0 && sla.notFired.length === 0 && noticesMissing === 0 && sla.notYetDue === 0;
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

    const judged = judgeDeliveries(deliveries, store);
    const notices = missingNotices(deliveries, taskOps, twilio.messages, sink.messages);
    const smsTwice = smsSentTwice(twilio.messages);
    const emailTwice = emailsSentTwice(sink.messages);
    const emailTwiceAll = [...emailTwice.byMessageId, ...emailTwice.byContent.filter((copy) => !emailTwice.byMessageId.some((other) => other.secondAt === copy.secondAt))];
    const deliveryPhase = new Map(deliveries.map((delivery) => [delivery.externalId, delivery.phase]));
    const missingByPhase = new Map<string, number>();
    const expectedByPhase = new Map<string, number>();
    for (const interaction of store.shouldWait) {
      const externalId = [...store.interactionByExternalId].find(([, owner]) => owner._id === interaction._id)?.[0];
      const name = (externalId && deliveryPhase.get(externalId)) ?? 'unknown';
      expectedByPhase.set(name, (expectedByPhase.get(name) ?? 0) + 1);
      if (!waiting.ids.has(interaction._id)) missingByPhase.set(name, (missingByPhase.get(name) ?? 0) + 1);
    }
    const inWindow = (at: number, entry: PhaseWindow, index: number) => (index === 0 || at >= entry.start) && (index === windows.length - 1 || at < windows[index + 1].start);

    const phases: PhaseResult[] = windows.map((entry, index) => {
      const mine = deliveries.filter((delivery) => delivery.phase === entry.name);
      const stored = mine.filter((delivery) => delivery.ackedAt !== undefined && (store.entriesByExternalId.get(delivery.externalId) ?? 0) > 0).length;
      const ops = taskOps.filter((op) => op.phase === entry.name);
      // A timer belongs to the phase in which it came due (a timer set before a fault and lost in it counts there).
      const due = sla.due.filter((task) => inWindow(task.firesAt, entry, index));
      return {
        phase: entry.name,
        fault: entry.fault,
        title: entry.fault ? faultTitles[entry.fault] : 'Baseline: no fault',
        startedAt: new Date(entry.start).toISOString(),
        endedAt: new Date(entry.end).toISOString(),
        contacts: {
          sent: mine.length,
          acknowledged: mine.filter((delivery) => delivery.ackedAt !== undefined).length,
          stored,
          lost: judged.lost.filter((delivery) => delivery.phase === entry.name).length,
          duplicated: judged.duplicated.filter((delivery) => delivery.phase === entry.name).length,
          unacknowledged: mine.filter((delivery) => delivery.ackedAt === undefined && !delivery.refusedPermanently).length,
          refusedPermanently: mine.filter((delivery) => delivery.refusedPermanently).length,
          retried: mine.filter((delivery) => delivery.attempts > 1).length,
        },
        waitingAtEnd: entry.waitingAtEnd,
        waitingFinal: { expected: expectedByPhase.get(entry.name) ?? 0, missing: missingByPhase.get(entry.name) ?? 0 },
        tasks: {
          started: ops.length,
          filed: ops.filter((op) => op.id).length,
          fileFailed: ops.filter((op) => op.fileFailure).length,
          resolved: ops.filter((op) => op.resolvedAt).length,
          slaDue: due.length,
          slaNotFired: due.filter((task) => !task.breachedAt).length,
        },
        sentTwice: {
          sms: smsTwice.filter((copy) => inWindow(copy.secondAt, entry, index)).length,
          email: emailTwiceAll.filter((copy) => inWindow(copy.secondAt, entry, index)).length,
        },
        notices: { expected: notices.expected.filter((notice) => notice.phase === entry.name).length, missing: notices.missing.filter((notice) => notice.phase === entry.name).length },
        recovery: entry.recovery,
      };
    });
    const sum = (pick: (row: PhaseResult) => number) => phases.reduce((total, row) => total + pick(row), 0);
    const totals: ChaosResult['totals'] = {
      sent: sum((row) => row.contacts.sent),
      acknowledged: sum((row) => row.contacts.acknowledged),
      stored: sum((row) => row.contacts.stored),
      lost: judged.lost.length,
      duplicated: judged.duplicated.length,
      unacknowledged: sum((row) => row.contacts.unacknowledged),
      refusedPermanently: sum((row) => row.contacts.refusedPermanently),
      retried: sum((row) => row.contacts.retried),
      waitingExpected: store.shouldWait.length,
      waitingMissing: missingWaiting.length,
      handled: store.handled,
      smsSent: twilio.messages.length,
      emailsSent: sink.messages.length,
      smsSentTwice: smsTwice.length,
      emailsSentTwice: emailTwiceAll.length,
      tasksFiled: taskOps.filter((op) => op.id).length,
      slaDue: sla.due.length,
      slaNotFired: sla.notFired.length,
      slaNotYetDue: sla.notYetDue,
      noticesExpected: notices.expected.length,
      noticesMissing: notices.missing.length,
    };

    const checks: Check[] = [];
    const check = (name: string, ok: boolean, detail: string) => checks.push({ name, pass: ok, detail });
    const byPhase = (pick: (row: PhaseResult) => number) => phases.filter((row) => pick(row) > 0).map((row) => `${row.phase} ${pick(row)}`).join(', ');
    check('every acknowledged contact is stored', totals.lost === 0, totals.lost === 0 ? `${totals.acknowledged} acknowledged, each found in MongoDB by its external id` : `${totals.lost} acknowledged but not stored (${byPhase((row) => row.contacts.lost)}); first: ${judged.lost[0].externalId}`);
    check('no contact is stored twice', totals.duplicated === 0, totals.duplicated === 0 ? 'no external id has two entries' : `${totals.duplicated} external ids with more than one entry (${byPhase((row) => row.contacts.duplicated)})`);
    check(
      'every contact is acknowledged once the faults are over (senders retry)',
      totals.unacknowledged === 0 && totals.refusedPermanently === 0,
      totals.unacknowledged === 0 && totals.refusedPermanently === 0
        ? `${totals.retried} contacts needed more than one attempt; all were acknowledged`
        : `${totals.unacknowledged} never acknowledged within the drain (${byPhase((row) => row.contacts.unacknowledged)}), ${totals.refusedPermanently} refused permanently (${byPhase((row) => row.contacts.refusedPermanently)}): ${describeRefusals(deliveries)}`,
    );
    check(
      'every stored contact that was waiting is waiting again (or was handled)',
      !waiting.error && totals.waitingMissing === 0 && waiting.truncated.length === 0,
      waiting.error
        ? `the waiting lists could not be read: ${waiting.error}`
        : waiting.truncated.length
          ? `queues ${waiting.truncated.join(', ')} list ${waitingLimit}+ contacts (the API's limit): lower CHAOS_RATE or the phase lengths`
          : totals.waitingMissing === 0
            ? `${totals.waitingExpected} stored contacts wait (status open/queued), all listed by GET /api/routing/queues/:queue/waiting; ${totals.handled} past waiting`
            : `${totals.waitingMissing} of ${totals.waitingExpected} stored contacts that should wait are in no queue (by the phase they arrived in: ${byPhase((row) => row.waitingFinal.missing)}; at the end of each phase: ${phases.map((row) => `${row.phase} ${row.waitingAtEnd.missing}/${row.waitingAtEnd.expected}`).join(', ')})`,
    );
    const phaseEndMisses = phases.filter((row) => row.waitingAtEnd.missing > 0 || row.waitingAtEnd.error);
    check(
      'after each fault, the contacts that were waiting wait again before the next fault',
      phaseEndMisses.length === 0,
      phaseEndMisses.length === 0
        ? `at every phase end all stored contacts that should wait were listed (${phases.map((row) => `${row.phase} ${row.waitingAtEnd.expected}`).join(', ')})`
        : phaseEndMisses.map((row) => (row.waitingAtEnd.error ? `${row.phase}: lists unreadable (${row.waitingAtEnd.error})` : `${row.phase}: ${row.waitingAtEnd.missing} of ${row.waitingAtEnd.expected} in no queue`)).join('; '),
    );
    check(
      'every task SLA timer that came due fired (breach recorded)',
      totals.slaNotFired === 0,
      `${totals.slaDue} tasks came due while open, ${totals.slaNotFired} without a recorded breach${totals.slaNotFired ? ` (${byPhase((row) => row.tasks.slaNotFired)}; first ${sla.notFired[0].reference})` : ''}; ${totals.slaNotYetDue} not due yet at the end (not judged)`,
    );
    check(
      'every message the traffic must cause was sent (email acknowledgements, task notices)',
      totals.noticesMissing === 0,
      totals.noticesMissing === 0
        ? `${totals.noticesExpected} expected, all received by the stand-ins`
        : `${totals.noticesMissing} of ${totals.noticesExpected} never sent (${byPhase((row) => row.notices.missing)}); e.g. ${notices.missing.slice(0, 3).map((notice) => notice.what).join('; ')}`,
    );
    check('no SMS was sent twice', totals.smsSentTwice === 0, `${totals.smsSent} texts sent to the Twilio stand-in, ${totals.smsSentTwice} more than once${smsTwice.length ? ` (${byPhase((row) => row.sentTwice.sms)}; e.g. ${smsTwice.slice(0, 2).map((copy) => `${copy.copies} × ${describeKey(copy.key)}`).join('; ')})` : ''}`);
    check('no email was sent twice', totals.emailsSentTwice === 0, `${totals.emailsSent} emails received by the SMTP sink, ${totals.emailsSentTwice} more than once (same Message-ID, or same recipient, subject and text)${emailTwiceAll.length ? ` (${byPhase((row) => row.sentTwice.email)}; e.g. ${emailTwiceAll.slice(0, 2).map((copy) => `${copy.copies} × ${describeKey(copy.key)}`).join('; ')})` : ''}`);
    const unrecovered = phases.filter((row) => row.recovery && (row.recovery.readyMs === null || row.recovery.contactQueuedMs === null));
    check(
      `every fault recovered within ${options.recoveryTimeoutSeconds} s (nodes ready, a new contact stored and queued)`,
      unrecovered.length === 0,
      unrecovered.length === 0 ? phases.filter((row) => row.recovery).map((row) => `${row.phase} ${ms(Math.max(row.recovery!.readyMs!, row.recovery!.contactQueuedMs!))}`).join(', ') : `not recovered: ${unrecovered.map((row) => `${row.phase} (ready ${ms(row.recovery!.readyMs)}, contact queued ${ms(row.recovery!.contactQueuedMs)})`).join(', ')}`,
    );
    check(
      'live report rollups equal a rebuild from the raw log (no count lost with two nodes writing)',
      !rollups.error && rollups.differences.length === 0,
      rollups.error
        ? `not compared: ${rollups.error}`
        : rollups.differences.length === 0
          ? `${rollups.buckets} buckets of ${rollups.days.fromDay}…${rollups.days.toDay}, every counter equal`
          : `${rollups.differences.length} bucket fields differ, e.g. ${rollups.differences.slice(0, 4).map((diff) => `${diff.bucket} ${diff.field} live ${diff.live} / rebuilt ${diff.rebuilt}`).join('; ')}`,
    );
    check('no app node died on its own', unexpectedNodeExits === 0, unexpectedNodeExits === 0 ? 'both nodes ran until stopped (but for the deliberate kill)' : `${unexpectedNodeExits} unexpected exits; see the node logs`);
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

/** The refusals senders met, summed: `503 ×12, timeout ×3, smtp 451 ×4`. */
function describeRefusals(deliveries: Delivery[]): string {
  const totals = new Map<string, number>();
  for (const delivery of deliveries) for (const [reason, count] of Object.entries(delivery.refusals)) totals.set(reason, (totals.get(reason) ?? 0) + count);
  return [...totals].sort((a, b) => b[1] - a[1]).map(([reason, count]) => `${reason} ×${count}`).join(', ') || 'none';
}

/** A duplicate's key for the report: the first line, without the customer's address (a test address, but still). */
function describeKey(key: string): string {
  return `"${key.replace(/^\S+ /, '').split('\n')[0].slice(0, 80)}"`;
}

const ms = (value: number | null) => (value === null ? 'never' : `${(value / 1000).toFixed(1)} s`);

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

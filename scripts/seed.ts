/**
 * Seeds the demo tenant: Chery-style departments, demo users with published passwords, about
 * a thousand customers with 90 days of calls, texts, emails and walk-ins, and 14 days of follow-up
 * tasks (scripts/seed-tasks.ts); then rebuilds the report rollups of those days.
 *
 *   npm run build && npm run seed -- --customers 1000 --tasks 150
 *
 * Idempotent: customers are found again by phone and every event carries a deterministic external
 * id (`seed:<customer>:<n>`), so a rerun after a crash finishes the job instead of duplicating it.
 * The after-sales desk user is created last and marks a complete seed; when it exists a rerun
 * returns at once.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildServices, type Services } from '../src/app';
import type { PublicUser } from '../src/auth';
import type { Customer } from '../src/customers';
import type { Interaction, InteractionService, NewEntry } from '../src/interactions';
import { ConfigError, loadConfig, projectRoot } from '../src/platform/config';
import { AppError } from '../src/platform/errors';
import { createLogger, type Logger } from '../src/platform/logger';
import { closeMongo, connectMongo } from '../src/platform/mongo';
import { createRedis } from '../src/platform/redis';
import { createReports } from '../src/reports';
import { loadQueuesConfig } from '../src/routing';
import type { Department } from '../src/tasks';
import {
  demoAgentEmails,
  demoCustomer,
  demoDepartments,
  demoDepartmentSetup,
  demoHistory,
  demoTimezone,
  demoUsers,
  type DemoCustomer,
  type DemoUser,
  type PlannedInteraction,
} from './seed-data';
import { rebuildSeededReports, seedDemoTasks } from './seed-tasks';

export { demoUsers, type DemoUser } from './seed-data';

// Customers written at once. Each customer's events are sequential (later ones append to the
// first); 8 in flight keeps FerretDB busy on 2 cores without queueing on the 20-connection pool.
const concurrency = 8;
const progressEvery = 50;
const completionMarker = demoUsers.find((user) => user.department === 'after-sales')!;

export interface SeedResult {
  /** False when the tenant was already complete and nothing was written. */
  seeded: boolean;
  /** Customers and interactions of the demo history (zero when `seeded` is false). */
  customers: number;
  interactions: number;
}

/**
 * Creates the demo tenant unless it is already complete. Expects the models' indexes to be built
 * (unique user emails and department codes make the "already exists" paths work).
 */
export async function seedDemoTenant(
  services: Services,
  options: { customers: number; log: Logger; onProgress?: (done: number, total: number) => void },
): Promise<SeedResult> {
  const { log } = options;
  const started = performance.now();
  if (await isSeeded(services)) {
    // Department settings are cheap to reapply, so a tenant seeded before task types existed gets them.
    await configureDepartments(services);
    log.info('demo tenant already seeded; nothing to do');
    return { seeded: false, customers: 0, interactions: 0 };
  }
  const departments = await ensureDepartments(services);
  const users = await Promise.all(demoUsers.filter((user) => user !== completionMarker).map((user) => ensureUser(services, user, departments)));
  const agentIds = demoAgentEmails.map((email) => users.find((user) => user.email === email)!.id);
  log.info({ departments: departments.size, users: users.length }, 'demo departments and users ready');

  const now = Date.now();
  let done = 0;
  let interactions = 0;
  await forEachLimited(options.customers, concurrency, async (index) => {
    const count = await seedCustomer(services, demoCustomer(index, now), now, agentIds);
    interactions += count;
    done += 1;
    if (done % progressEvery === 0 || done === options.customers) options.onProgress?.(done, options.customers);
  });

  await ensureUser(services, completionMarker, departments);
  await configureDepartments(services);
  log.info({ customers: options.customers, interactions, ms: Math.round(performance.now() - started) }, 'demo tenant seeded');
  return { seeded: true, customers: options.customers, interactions };
}

async function isSeeded(services: Services): Promise<boolean> {
  const department = await services.departments.findByCode(completionMarker.department!);
  if (!department) return false;
  const desk = await services.auth.listUsers({ role: 'department', departmentId: department.id });
  return desk.some((user) => user.email === completionMarker.email);
}

const isConflict = (error: unknown) => error instanceof AppError && error.code === 'conflict';

async function ensureDepartments(services: Services): Promise<Map<string, Department>> {
  const created = await Promise.all(
    demoDepartments.map(async ({ code, name }) => {
      try {
        return await services.departments.create({ code, name, timezone: demoTimezone });
      } catch (error) {
        const existing = isConflict(error) ? await services.departments.findByCode(code) : null;
        if (!existing) throw error;
        return existing;
      }
    }),
  );
  return new Map(created.map((department) => [department.code, department]));
}

/** Each department's desk user becomes its head; business hours and task types are set as a whole (a rerun writes the same). */
async function configureDepartments(services: Services): Promise<void> {
  await Promise.all(
    demoDepartments.map(async ({ code }) => {
      const department = await services.departments.findByCode(code);
      if (!department) return;
      const desk = await services.auth.listUsers({ role: 'department', departmentId: department.id });
      const head = desk.find((user) => user.email === `${code}@demo.switchboard.local`);
      const { businessHours, taskTypes } = demoDepartmentSetup[code];
      await services.departments.update(department.id, { businessHours, taskTypes, timezone: demoTimezone, ...(head ? { headUserId: head.id } : {}) });
    }),
  );
}

async function ensureUser(services: Services, user: DemoUser, departments: Map<string, Department>): Promise<PublicUser> {
  try {
    return await services.auth.createUser({
      email: user.email,
      name: user.name,
      role: user.role,
      password: user.password,
      ...(user.department ? { departmentId: departments.get(user.department)!.id } : {}),
      ...(user.locale ? { locale: user.locale } : {}),
    });
  } catch (error) {
    // Left by an interrupted seed. An email held by a user with another role stays an error.
    const existing = isConflict(error) ? (await services.auth.listUsers({ role: user.role })).find((found) => found.email === user.email) : undefined;
    if (!existing) throw error;
    return existing;
  }
}

/** Writes one customer and its history; returns how many interactions the history holds. */
async function seedCustomer(services: Services, profile: DemoCustomer, now: number, agentIds: string[]): Promise<number> {
  const customer = await ensureCustomer(services, profile);
  const history = demoHistory(profile, now);
  for (const planned of history) await recordInteraction(services.interactions, customer.id, planned, agentIds);
  return history.length;
}

async function ensureCustomer(services: Services, profile: DemoCustomer): Promise<Customer> {
  const details = { tier: profile.tier, tags: profile.tags, attributes: profile.attributes };
  try {
    return await services.customers.createCustomer({ name: profile.name, phones: [profile.phone], emails: profile.email ? [profile.email] : [], ...details });
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
  // The phone is taken: an earlier run got this far. resolveCustomer also repairs a customer whose
  // creation was cut between claiming the phone and writing the record.
  const { customer } = await services.customers.resolveCustomer({ phone: profile.phone, name: profile.name });
  if (customer.attributes.vin !== profile.attributes.vin) await services.customers.updateCustomer(customer.id, details);
  if (profile.email && !customer.emails.includes(profile.email)) {
    await services.customers.addIdentifiers(customer.id, { phones: [], emails: [profile.email] }).catch((error: unknown) => {
      if (!isConflict(error)) throw error;
    });
  }
  return customer;
}

async function recordInteraction(interactions: InteractionService, customerId: string, planned: PlannedInteraction, agentIds: string[]): Promise<void> {
  let recorded: Interaction | undefined;
  for (const event of planned.events) {
    const entry: NewEntry = { ...event.entry, ...(event.author !== undefined ? { authorId: agentIds[event.author] } : {}) };
    const result = await interactions.recordInboundEvent({
      externalId: event.externalId,
      customerId,
      channel: event.channel,
      direction: event.direction,
      status: event.status,
      subject: event.subject,
      ...(recorded ? { appendTo: recorded.id } : {}),
      entry,
    });
    recorded = result.interaction;
  }
  const { note } = planned;
  // addNote would stamp the note "now" and pull every interaction's last activity to seed time;
  // appendEntry takes the past timestamp. The text check keeps a rerun from adding it twice.
  if (!note || !recorded || recorded.entries?.some((entry) => entry.kind === 'note' && entry.text === note.text)) return;
  await interactions.appendEntry(recorded.id, { kind: 'note', direction: 'internal', text: note.text, authorId: agentIds[note.author], at: note.at });
}

/** Runs `work(0..count-1)` with at most `limit` in flight; stops taking new work after a failure. */
async function forEachLimited(count: number, limit: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < count) {
      const index = next;
      next += 1;
      try {
        await work(index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  // allSettled, not all: the caller closes the stores next, so every worker must be idle first.
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, count) }, worker));
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
}

// ---------------------------------------------------------------------------------------------
// Command line.

const usage = 'usage: node dist/scripts/seed.js [--customers N] [--tasks M]   (N from 1 to 100000, default 1000; M from 0 to 5000, default 150)';

/** Follow-up tasks the demo shows: enough for two weeks of department reports, few enough to seed in seconds. */
export const demoTaskCount = 150;

function parseArgs(args: string[]): { customers: number; tasks: number } {
  let customers = 1000;
  let tasks = demoTaskCount;
  for (let position = 0; position < args.length; position += 1) {
    const [flag, inline] = args[position].split('=', 2);
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    if (flag !== '--customers' && flag !== '--tasks') throw new UsageError(`unknown argument ${args[position]}`);
    const value = inline ?? args[(position += 1)];
    const number = Number(value);
    if (flag === '--tasks') {
      if (!Number.isInteger(number) || number < 0 || number > 5000) throw new UsageError(`--tasks must be a whole number from 0 to 5000, got ${value}`);
      tasks = number;
      continue;
    }
    customers = number;
    if (!Number.isInteger(customers) || customers < 1 || customers > 100_000) throw new UsageError(`--customers must be a whole number from 1 to 100000, got ${value}`);
  }
  return { customers, tasks };
}

class UsageError extends Error {}

function credentialsTable(): string {
  const rows = demoUsers.map((user) => `  ${user.role.padEnd(11)} ${user.email.padEnd(44)} ${user.password}`);
  return ['Demo accounts (demo mode only; these passwords are public):', `  ${'role'.padEnd(11)} ${'email'.padEnd(44)} password`, ...rows, ''].join('\n');
}

async function main(): Promise<void> {
  const { customers, tasks } = parseArgs(process.argv.slice(2));
  // Demo by default; an explicit DEMO=0 stops the seed below rather than seeding a real tenant.
  const config = loadConfig(process.env, { DEMO: process.env.DEMO || '1' });
  if (!config.DEMO) throw new ConfigError([{ variable: 'DEMO', message: 'the seed creates accounts with published passwords, so it runs only with DEMO=1' }]);
  const log = createLogger(config.LOG_LEVEL, { script: 'seed' });
  // One "recorded" line per event would bury the progress; services log warnings and errors only.
  const serviceLog = ['debug', 'trace'].includes(config.LOG_LEVEL) ? log : log.child({}, { level: 'warn' });
  process.stdout.write(credentialsTable());

  const mongo = await connectMongo(config.MONGODB_URI, log);
  const redis = createRedis(config.REDIS_URL);
  redis.on('error', (error) => log.warn({ err: error }, 'redis error'));
  try {
    const services = buildServices(config, { mongo, redis, log: serviceLog });
    // Unique indexes (user email, department code) turn a rerun's duplicates into conflicts.
    await Promise.all(Object.values(mongo.models).map((model) => model.init()));
    const started = performance.now();
    const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    const result = await seedDemoTenant(services, {
      customers,
      log,
      onProgress: (done, total) => process.stdout.write(`  customers ${done}/${total} (${elapsed()})\n`),
    });
    process.stdout.write(
      result.seeded
        ? `Seeded ${result.customers} customers and ${result.interactions} interactions in ${elapsed()}.\n`
        : `Demo tenant already seeded (${elapsed()}).\n`,
    );
    const seededTasks = await seedDemoTasks(
      { config, mongo, redis, log: serviceLog },
      { customers, tasks, onProgress: (done, total) => process.stdout.write(`  tasks ${done}/${total} (${elapsed()})\n`) },
    );
    process.stdout.write(`Tasks: ${seededTasks.created} filed, ${seededTasks.steps} lifecycle steps applied (${elapsed()}).\n`);
    if (seededTasks.created || seededTasks.steps) {
      const queuesConfig = loadQueuesConfig(path.join(projectRoot(), 'config', 'queues.json'));
      const reports = createReports({ config, log: serviceLog, mongo, redis, interactions: services.interactions, queues: () => queuesConfig });
      process.stdout.write(`Rebuilding report rollups ${seededTasks.fromDay} … ${seededTasks.toDay}:\n`);
      await rebuildSeededReports(reports, seededTasks, (line) => process.stdout.write(`${line}\n`));
    }
  } finally {
    await redis.quit().catch(() => redis.disconnect());
    await closeMongo(mongo);
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      // A message for the operator, not a log line: no stack, no payload.
      const reason = error instanceof Error ? error.message : String(error);
      const hint =
        error instanceof UsageError
          ? usage
          : error instanceof ConfigError
            ? 'Set these in the environment (see README, "Configuration").'
            : 'Check that MongoDB and Redis answer (npm run services status); rerunning resumes where the seed stopped.';
      process.stderr.write(`seed failed: ${reason}\n${hint}\n`);
      process.exit(1);
    },
  );
}

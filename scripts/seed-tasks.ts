/**
 * Follow-up task history for the demo tenant: about 150 tasks over the last 14 days, filed by the
 * demo agents from a contact of the same customer and walked through their lifecycle (accepted,
 * worked, commented, rejected, forwarded, resolved, verified, closed, reopened), with timestamps in
 * the past. The plan is pure and seeded (task n is the same task on every run); the writer goes
 * through the task service, with a clock it sets per step, on services of its own: no listeners, so
 * no customer notifications, webhooks, SLA jobs or live report counting (rebuild the rollups after).
 *
 * Idempotent: each task hangs off its contact (external id `seed-task:<n>`), and a rerun finds the
 * task again and applies only the steps its history does not hold yet.
 */
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { buildServices, type Services } from '../src/app';
import type { Channel, NewEntry } from '../src/interactions';
import type { Config } from '../src/platform/config';
import type { Principal } from '../src/platform/http/principal';
import type { Logger } from '../src/platform/logger';
import type { ReportsModule } from '../src/reports';
import { activeTaskStatuses, raisedPriority, TaskRepository, TaskService, type Task, type TaskAction } from '../src/tasks';
import {
  agentWritesChinese,
  demoAgentEmails,
  demoCustomer,
  demoDepartments,
  demoDepartmentSetup,
  emailText,
  fill,
  int,
  pick,
  shanghaiMidnight,
  smsSegments,
  stream,
  topics,
  weighted,
  type DemoCustomer,
  type Random,
  type Topic,
} from './seed-data';

const minute = 60_000;
const day = 86_400_000;
const shanghaiOffset = 8 * 3_600_000;
type DepartmentCode = (typeof demoDepartments)[number]['code'];

// ---------------------------------------------------------------------------------------------
// The plan (pure).

/** How the task's story ends today; the first tasks take one of each, so even a small seed shows every status. */
const outcomes = [
  'closed-by-customer', 'in_progress', 'rejected', 'resolved', 'open', 'verified', 'reopened', 'accepted',
  'forwarded', 'closed-by-agent', 'rejected-forwarded', 'reopened-resolved',
] as const;
type Outcome = (typeof outcomes)[number];
const outcomeWeights: readonly (readonly [Outcome, number])[] = [
  ['closed-by-customer', 30], ['closed-by-agent', 15], ['verified', 8], ['resolved', 14], ['rejected', 5], ['rejected-forwarded', 4],
  ['forwarded', 6], ['reopened', 1], ['reopened-resolved', 5], ['open', 2], ['accepted', 2], ['in_progress', 2],
];
const stillOpen: ReadonlySet<Outcome> = new Set(['open', 'accepted', 'in_progress', 'reopened']);

export type PlannedStep =
  | { kind: 'accept' | 'start' | 'resolve' | 'reject' | 'comment'; by: 'department'; text?: string; visibility?: 'internal' | 'customer'; at: number }
  | { kind: 'forward'; by: 'department' | 'agent'; to: DepartmentCode; text: string; at: number }
  | { kind: 'verify' | 'close'; by: 'agent'; at: number }
  | { kind: 'verdict' | 'reopen'; by: 'customer'; text: string; at: number };

export interface PlannedTask {
  n: number;
  customer: number;
  outcome: Outcome;
  department: DepartmentCode;
  typeCode: string;
  topic: Topic;
  title: string;
  description: string;
  fields: Record<string, string>;
  /** Numbers an agent in `demoAgentEmails`. */
  agent: number;
  channel: Extract<Channel, 'voice' | 'sms' | 'email'>;
  contactAt: number;
  createdAt: number;
  steps: PlannedStep[];
}

interface DepartmentWork {
  topics: Topic[];
  comments: string[];
  updates: string[];
  resolutions: string[];
  rejections: string[];
  fields: (rng: Random, customer: DemoCustomer) => Record<string, string>;
}

const parts = ['J69-5206010', 'T15-8402010', 'F01-3502130', 'M11-1109111', 'T19-2803011', 'J52-8201020'];
const components = ['Gearbox', 'Infotainment head unit', 'Rear brake caliper', 'Door seal', 'Battery management'];
const vinOf = (customer: DemoCustomer) => String(customer.attributes.vin);
const dealerOf = (customer: DemoCustomer) => String(customer.attributes.dealer);

const work: Record<DepartmentCode, DepartmentWork> = {
  'after-sales': {
    topics: [topics.booking, topics.roadside, topics.infotainment],
    comments: ['已致电经销店车间，等待回复维修日期。', 'Dealer workshop called; waiting for the repair date.', '客户车辆已到店，技师正在检查。'],
    updates: ['Your car is booked in at the workshop; we will confirm the date shortly.'],
    resolutions: ['Repair booked for next Tuesday 09:30 at the dealer; the workshop has the parts.', '已与经销店确认维修完成，客户可取车。'],
    rejections: ['Not an after-sales matter: the customer needs roadside assistance, which the insurer handles.'],
    fields: (_rng, customer) => ({ vin: vinOf(customer), dealer: dealerOf(customer) }),
  },
  parts: {
    topics: [topics.windshield],
    comments: ['Central warehouse: out of stock. Checking the regional warehouses.', 'Regional warehouse Hefei has 2 in stock.'],
    updates: ['The part is in stock at the regional warehouse and on its way to your dealer.'],
    resolutions: ['Part ships from the Hefei warehouse today; the dealer receives it in 3 working days and will call the customer.'],
    rejections: ['The part number does not fit this VIN; the agent should check the model year with the customer.'],
    fields: (rng, customer) => ({ partNumber: pick(rng, parts), vin: vinOf(customer) }),
  },
  warranty: {
    topics: [topics.gearbox],
    comments: ['Within warranty period and mileage. Asked the dealer for the repair order and photos.', 'Dealer diagnosis received: bearing noise confirmed.'],
    updates: ['We have received the diagnosis from your dealer and are reviewing the claim.'],
    resolutions: ['Claim approved: the gearbox bearing is replaced under warranty at no cost.', 'Claim approved for the repair; the dealer books it with the customer.'],
    rejections: ['Outside the warranty mileage (over 100 000 km); goodwill can be asked of the dealer.'],
    fields: (_rng, customer) => ({ vin: vinOf(customer), mileage: String(customer.attributes.mileageKm) }),
  },
  'dealer-network': {
    topics: [topics.waiting],
    comments: ['Spoke with the dealer service manager; they confirm the delay was a staffing issue.', 'Goodwill voucher agreed with the dealer.'],
    updates: ['The dealer has apologised and will contact you about a voucher for your next service.'],
    resolutions: ['The dealer apologised to the customer and issued a 300 CNY service voucher.'],
    rejections: ['The dealer named is not part of our network; the agent should tell the customer.'],
    fields: (_rng, customer) => ({ dealer: dealerOf(customer) }),
  },
  finance: {
    topics: [topics.invoice],
    comments: ['Invoice checked against the maintenance package: brake pads are included.', 'Refund approved; waiting for the payment run.'],
    updates: ['Your refund is approved and will be paid in the next payment run.'],
    resolutions: ['Refund paid to the original card; corrected invoice sent by email.'],
    rejections: ['The invoice was issued by an independent workshop; we cannot refund it.'],
    fields: (rng) => ({ invoice: `INV-2026-${String(int(rng, 10_000, 99_999))}`, amount: String(int(rng, 80, 2400)) }),
  },
  quality: {
    topics: [topics.recall, topics.infotainment, topics.gearbox],
    comments: ['已记录缺陷，正在比对同类投诉。', 'Three similar reports this month; passed to the component engineer.'],
    updates: ['Thank you: our quality team is looking into similar reports for your model.'],
    resolutions: ['已确认为个例，经销店已更换部件，质量部门持续跟踪。', 'Software fix released; dealers apply it at the next service.'],
    rejections: ['A single wear-and-tear case, not a quality defect; the dealer handles it as a normal repair.'],
    fields: (rng, customer) => ({ vin: vinOf(customer), component: pick(rng, components) }),
  },
};

const departmentWeights: readonly (readonly [DepartmentCode, number])[] = [['after-sales', 25], ['parts', 18], ['warranty', 20], ['dealer-network', 12], ['finance', 12], ['quality', 13]];
const forwardReasons = ['This belongs with another team: passing it on with the diagnosis so far.', 'Needs a decision we cannot take here; forwarding.'];
const reopenTexts = { en: 'About {reference}: the problem is back. Can you look at it again?', zh: '关于{reference}：问题又出现了，请再帮我看看。' };
const verdictText = 'YES';

/** A working moment: inside 09:00-18:00 Shanghai, Monday to Saturday (a later one is moved to the next opening). */
function workTime(at: number): number {
  const local = at + shanghaiOffset;
  const start = Math.floor(local / day) * day;
  const minutes = (local - start) / minute;
  const weekday = new Date(start).getUTCDay();
  const jitter = Math.floor(minutes % 37) * minute;
  if (weekday === 0) return start + day + 9 * 60 * minute + jitter - shanghaiOffset;
  if (minutes < 9 * 60) return start + 9 * 60 * minute + jitter - shanghaiOffset;
  if (minutes >= 18 * 60) return workTime(start + day + 9 * 60 * minute + jitter - shanghaiOffset);
  return at;
}

/** Customers answer between 08:00 and 22:00. */
function customerTime(at: number): number {
  const local = at + shanghaiOffset;
  const start = Math.floor(local / day) * day;
  const minutes = (local - start) / minute;
  if (minutes < 8 * 60) return start + 8 * 60 * minute + Math.floor(minutes % 53) * minute - shanghaiOffset;
  if (minutes >= 22 * 60) return start + day + 8 * 60 * minute + Math.floor(minutes % 53) * minute - shanghaiOffset;
  return at;
}

/** Task `n` of the demo: the same customer, texts and relative timing on every run; placed before `now`. */
export function demoTaskPlan(n: number, customers: number, now: number): PlannedTask {
  const rng = stream(n, 7);
  const customerIndex = int(rng, 0, customers - 1);
  const customer = demoCustomer(customerIndex, now);
  const department = weighted(rng, departmentWeights);
  const desk = work[department];
  const topic = pick(rng, desk.topics);
  const type = demoDepartmentSetup[department].taskTypes[0];
  const outcome = n < outcomes.length ? outcomes[n] : weighted(rng, outcomeWeights);
  const agent = int(rng, 0, demoAgentEmails.length - 1);
  const channel = weighted(rng, [['voice', 45], ['sms', 30], ['email', customer.email ? 25 : 0]] as const);
  const lang = agentWritesChinese(agent) ? 'zh' : 'en';
  const fields = desk.fields(rng, customer);
  const others = demoDepartments.map((candidate) => candidate.code).filter((code) => code !== department);
  const forwardTo = pick(rng, others);
  const slaWallMinutes = (type.slaMinutes / (9 * 60)) * 24 * 60;
  const late = rng() < 0.12;

  // Relative delays in minutes; `work` steps land in working hours, customer ones in waking hours.
  type Draft = { delay: number; make: (at: number) => PlannedStep };
  const drafts: Draft[] = [];
  const dept = (kind: 'accept' | 'start' | 'resolve' | 'reject' | 'comment', delay: number, text?: string, visibility?: 'internal' | 'customer') =>
    drafts.push({ delay, make: (at) => ({ kind, by: 'department', at, ...(text ? { text } : {}), ...(visibility ? { visibility } : {}) }) });
  const acceptDelay = () => weighted(rng, [[int(rng, 5, 30), 40], [int(rng, 30, 120), 35], [int(rng, 120, 480), 25]] as const);
  const resolveDelay = () => (late ? Math.round(slaWallMinutes * 1.1) + int(rng, 60, 600) : int(rng, 30, Math.max(60, Math.round(slaWallMinutes * 0.5))));
  const workIt = (resolve: boolean) => {
    dept('accept', acceptDelay());
    if (rng() < 0.8) dept('start', int(rng, 10, 90));
    if (rng() < 0.7) dept('comment', int(rng, 20, 240), pick(rng, desk.comments), 'internal');
    if (rng() < 0.3) dept('comment', int(rng, 20, 240), pick(rng, desk.updates), 'customer');
    if (resolve) dept('resolve', resolveDelay(), pick(rng, desk.resolutions));
  };
  const customerSays = (kind: 'verdict' | 'reopen', delay: number, text: string) => drafts.push({ delay, make: (at) => ({ kind, by: 'customer', text, at }) });
  const agentDoes = (kind: 'verify' | 'close', delay: number) => drafts.push({ delay, make: (at) => ({ kind, by: 'agent', at }) });
  const forward = (by: 'department' | 'agent', delay: number) => drafts.push({ delay, make: (at) => ({ kind: 'forward', by, to: forwardTo, text: pick(rng, forwardReasons), at }) });
  const reopenText = reopenTexts[customer.prefersChinese ? 'zh' : 'en'];

  switch (outcome) {
    case 'open':
      break;
    case 'accepted':
      dept('accept', acceptDelay());
      break;
    case 'in_progress':
      dept('accept', acceptDelay());
      dept('start', int(rng, 10, 90));
      dept('comment', int(rng, 20, 240), pick(rng, desk.comments), 'internal');
      break;
    case 'resolved':
      workIt(true);
      break;
    case 'closed-by-customer':
      workIt(true);
      customerSays('verdict', int(rng, 30, 24 * 60), verdictText);
      break;
    case 'closed-by-agent':
      workIt(true);
      agentDoes('close', int(rng, 60, 24 * 60));
      break;
    case 'verified':
      workIt(true);
      agentDoes('verify', int(rng, 60, 24 * 60));
      break;
    case 'rejected':
      if (rng() < 0.5) dept('accept', acceptDelay());
      dept('reject', int(rng, 20, 300), pick(rng, desk.rejections));
      break;
    case 'rejected-forwarded':
      dept('reject', int(rng, 20, 300), pick(rng, desk.rejections));
      forward('agent', int(rng, 20, 240));
      workIt(true);
      customerSays('verdict', int(rng, 30, 24 * 60), verdictText);
      break;
    case 'forwarded':
      if (rng() < 0.5) dept('accept', acceptDelay());
      forward('department', int(rng, 30, 300));
      workIt(true);
      if (rng() < 0.5) agentDoes('close', int(rng, 60, 24 * 60));
      break;
    case 'reopened':
      workIt(true);
      customerSays('reopen', int(rng, 60, 48 * 60), reopenText);
      break;
    case 'reopened-resolved':
      workIt(true);
      customerSays('reopen', int(rng, 60, 48 * 60), reopenText);
      dept('accept', acceptDelay());
      dept('resolve', int(rng, 60, 600), pick(rng, desk.resolutions));
      customerSays('verdict', int(rng, 30, 24 * 60), verdictText);
      break;
  }

  const daysAgo = stillOpen.has(outcome) ? int(rng, 0, 3) : int(rng, 1, 13);
  const minuteOfDay = 9 * 60 + int(rng, 0, 8 * 60);
  const contactLead = int(rng, 3, 20);
  const place = (created: number) => {
    let at = created;
    const steps = drafts.map((draft) => {
      const step = draft.make(0);
      at = (step.by === 'customer' ? customerTime : workTime)(at + Math.max(1, draft.delay) * minute);
      return { ...step, at } as PlannedStep;
    });
    return { steps, end: at };
  };
  let createdAt = workTime(shanghaiMidnight(now) - daysAgo * day + minuteOfDay * minute);
  let placed = place(createdAt);
  // Everything must have happened by now: move the story back a day at a time.
  while (placed.end > now - 10 * minute) {
    // Same time of day, a working day earlier (workTime would carry a Sunday forward again).
    createdAt -= new Date(createdAt - day + shanghaiOffset).getUTCDay() === 0 ? 2 * day : day;
    placed = place(createdAt);
  }
  return {
    n, customer: customerIndex, outcome, department, typeCode: type.code, topic,
    title: `${topic.title}: ${customer.name}`, description: topic.note[lang], fields, agent, channel,
    contactAt: createdAt - contactLead * minute, createdAt, steps: placed.steps,
  };
}

// ---------------------------------------------------------------------------------------------
// Writing.

export interface SeedTasksOptions {
  /** Customers of the demo tenant (tasks pick among the first this many). */
  customers: number;
  tasks: number;
  now?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SeedTasksResult {
  tasks: number;
  /** Tasks filed by this run. */
  created: number;
  /** Lifecycle steps applied by this run (zero on a rerun of a complete seed). */
  steps: number;
  /** Local days (reports time zone) that hold the seeded history, for the rollup rebuild. */
  fromDay: string;
  toDay: string;
}

interface Stores {
  config: Config;
  mongo: Connection;
  redis: Redis;
  log: Logger;
}

// The entries a step writes; system ones (breaches, notifications) are not steps.
const stepActions: ReadonlySet<TaskAction> = new Set(['accepted', 'started', 'commented', 'resolved', 'rejected', 'forwarded', 'verified', 'closed', 'reopened']);
const entriesOf = (step: PlannedStep) => (step.kind === 'verdict' ? 2 : 1);
const concurrency = 4;

/** Files and walks the demo tasks; expects the departments, users and customers of `seedDemoTenant`. */
export async function seedDemoTasks(stores: Stores, options: SeedTasksOptions): Promise<SeedTasksResult> {
  const now = options.now ?? Date.now();
  const count = options.customers > 0 ? options.tasks : 0;
  const plans = Array.from({ length: count }, (_, n) => demoTaskPlan(n, options.customers, now));
  // Services of our own: the running app's listeners (notifications, webhooks, SLA timers, routing) never see the seed.
  const services = buildServices(stores.config, stores);
  const repository = new TaskRepository(stores.mongo);
  const people = await demoPeople(services);
  const byInteraction = await existingTasks(repository);
  const customerIds = new Map<number, string>();
  let done = 0;
  let created = 0;
  let steps = 0;
  let next = 0;
  const worker = async () => {
    // One task service per worker: its clock is set step by step.
    let clock = now;
    const tasks = new TaskService({ repository, departments: services.departments, customers: services.customers, interactions: services.interactions, users: services.auth, log: stores.log.child({ module: 'seed-tasks' }), now: () => new Date(clock) });
    const setClock = (at: number) => {
      clock = at;
    };
    while (next < plans.length) {
      const plan = plans[next];
      next += 1;
      const result = await seedTask({ services, tasks, setClock, people, byInteraction, customerIds, now }, plan);
      created += result.created ? 1 : 0;
      steps += result.steps;
      done += 1;
      if (done % 10 === 0 || done === plans.length) options.onProgress?.(done, plans.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, plans.length) }, worker));
  const earliest = Math.min(now, ...plans.map((plan) => plan.contactAt));
  const localDay = (at: number) => new Intl.DateTimeFormat('en-CA', { timeZone: stores.config.REPORTS_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(at));
  return { tasks: plans.length, created, steps, fromDay: localDay(earliest), toDay: localDay(now) };
}

/** Recomputes the report rollups of the seeded days, printing progress lines to `out`. */
export async function rebuildSeededReports(reports: ReportsModule, range: Pick<SeedTasksResult, 'fromDay' | 'toDay'>, out: (line: string) => void): Promise<void> {
  await reports.settle();
  const result = await reports.rebuild.rebuild({ fromDay: range.fromDay, toDay: range.toDay }, (line) => out(`  reports: ${line.trim()}`));
  out(`  reports: rebuilt ${result.buckets} buckets from ${result.interactions} interactions and ${result.tasks} tasks`);
}

interface People {
  agents: Principal[];
  desks: Map<DepartmentCode, { departmentId: string; principal: Principal }>;
  codeOf: Map<string, DepartmentCode>;
}

async function demoPeople(services: Services): Promise<People> {
  const agentUsers = await services.auth.listUsers({ role: 'agent' });
  const agents = demoAgentEmails.map((email) => {
    const user = agentUsers.find((candidate) => candidate.email === email);
    if (!user) throw new Error(`demo agent ${email} is missing: seed the tenant first`);
    return { kind: 'user' as const, id: user.id, role: 'agent' as const, name: user.name };
  });
  const desks = new Map<DepartmentCode, { departmentId: string; principal: Principal }>();
  const codeOf = new Map<string, DepartmentCode>();
  for (const { code } of demoDepartments) {
    const department = await services.departments.findByCode(code);
    if (!department) throw new Error(`demo department ${code} is missing: seed the tenant first`);
    const desk = (await services.auth.listUsers({ role: 'department', departmentId: department.id })).find((user) => user.email === `${code}@demo.switchboard.local`);
    if (!desk) throw new Error(`the ${code} desk user is missing: seed the tenant first`);
    desks.set(code, { departmentId: department.id, principal: { kind: 'user', id: desk.id, role: 'department', departmentId: department.id, name: desk.name } });
    codeOf.set(department.id, code);
  }
  return { agents, desks, codeOf };
}

/** Seeded tasks by the contact they were filed from (a few hundred at most: one listing). */
async function existingTasks(repository: TaskRepository): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let skip = 0; ; skip += 200) {
    const page = await repository.list({}, { sort: '-createdAt', limit: 200, skip });
    for (const task of page) if (task.interactionId) found.set(task.interactionId, task._id);
    if (page.length < 200) return found;
  }
}

interface TaskContext {
  services: Services;
  tasks: TaskService;
  setClock: (at: number) => void;
  people: People;
  byInteraction: Map<string, string>;
  customerIds: Map<number, string>;
  now: number;
}

async function seedTask(ctx: TaskContext, plan: PlannedTask): Promise<{ created: boolean; steps: number }> {
  const { services, tasks, setClock, people } = ctx;
  const profile = demoCustomer(plan.customer, ctx.now);
  const customerId = await customerIdOf(ctx, profile);
  const interactionId = await recordContact(services, customerId, profile, plan, people.agents[plan.agent].id);
  const agent = people.agents[plan.agent];
  const existingId = ctx.byInteraction.get(interactionId);
  let task = existingId ? await tasks.findTask(existingId) : null;
  const created = !task;
  if (!task) {
    setClock(plan.createdAt);
    task = await tasks.fileTask({ departmentId: people.desks.get(plan.department)!.departmentId, typeCode: plan.typeCode, title: plan.title, description: plan.description, fields: plan.fields, customerId, interactionId }, agent);
  }
  let done = (task.history ?? []).filter((entry) => stepActions.has(entry.action)).length;
  let applied = 0;
  for (const step of plan.steps) {
    if (done > 0) {
      done -= entriesOf(step);
      continue;
    }
    task = await breachIfDue(ctx, task, step.at);
    setClock(step.at);
    task = await applyStep(ctx, task, step, profile, customerId);
    applied += 1;
  }
  if (applied || created) await breachIfDue(ctx, task, ctx.now);
  return { created, steps: applied };
}

async function customerIdOf(ctx: TaskContext, profile: DemoCustomer): Promise<string> {
  const known = ctx.customerIds.get(profile.index);
  if (known) return known;
  const customer = await ctx.services.customers.findByIdentity({ phone: profile.phone });
  if (!customer) throw new Error(`demo customer ${profile.index} is missing: seed at least ${profile.index + 1} customers first`);
  ctx.customerIds.set(profile.index, customer.id);
  return customer.id;
}

/** The contact the agent filed the task from: a call, or a text or email with the agent's answer. */
async function recordContact(services: Services, customerId: string, profile: DemoCustomer, plan: PlannedTask, agentId: string): Promise<string> {
  const lang = profile.prefersChinese ? 'zh' : 'en';
  const { topic } = plan;
  const vars = { ...profile.vars[lang], date: '' };
  const base = { customerId, channel: plan.channel, status: 'closed' as const, subject: plan.channel === 'email' ? fill(topic.subject[lang], vars) : topic.title };
  const at = new Date(plan.contactAt);
  const externalId = `seed-task:${plan.n}`;
  if (plan.channel === 'voice') {
    const entry: NewEntry = { kind: 'call_event', at, direction: 'inbound', data: { status: 'completed', durationSeconds: 120 + (plan.n % 7) * 60, waitSeconds: 10 + (plan.n % 50) } };
    return (await services.interactions.recordInboundEvent({ ...base, externalId, direction: 'inbound', entry })).interaction.id;
  }
  const texts = [fill(topic.ask[lang], vars), fill(topic.answer[lang], vars)];
  let interactionId: string | undefined;
  for (const [m, raw] of texts.entries()) {
    const inbound = m === 0;
    const text = plan.channel === 'email' ? emailText(raw, inbound, profile, plan.agent, lang) : raw;
    const direction = inbound ? 'inbound' : 'outbound';
    const entry: NewEntry = {
      kind: 'message', at: new Date(plan.contactAt + m * 2 * minute), direction, text,
      ...(inbound ? {} : { authorId: agentId }),
      data: plan.channel === 'sms' ? { segments: smsSegments(text) } : { subject: inbound ? base.subject : `Re: ${base.subject}` },
    };
    const recorded = await services.interactions.recordInboundEvent({ ...base, externalId: m === 0 ? externalId : `${externalId}:${m}`, direction, entry, ...(interactionId ? { appendTo: interactionId } : {}) });
    interactionId = recorded.interaction.id;
  }
  return interactionId!;
}

/** What the SLA timer would have recorded while the task sat past its due time. */
async function breachIfDue(ctx: TaskContext, task: Task, before: number): Promise<Task> {
  const dueAt = Date.parse(task.dueAt);
  if (!activeTaskStatuses.has(task.status) || task.breachedAt || dueAt >= before) return task;
  const headId = ctx.people.desks.get(ctx.people.codeOf.get(task.departmentId)!)!.principal.id;
  ctx.setClock(dueAt);
  const breached = await ctx.tasks.recordSystemChange(task.id, (current) => {
    if (current.breachedAt || !activeTaskStatuses.has(current.status)) return null;
    const priority = raisedPriority(current.priority);
    return {
      action: 'sla_breached',
      set: { breachedAt: new Date(dueAt), priority },
      comment: `SLA breached (due ${current.dueAt}); escalated to the department head`,
      data: { dueAt: current.dueAt, fromPriority: current.priority, toPriority: priority, escalatedTo: headId },
    };
  });
  return breached ?? task;
}

async function applyStep(ctx: TaskContext, task: Task, step: PlannedStep, profile: DemoCustomer, customerId: string): Promise<Task> {
  const { tasks, people, services } = ctx;
  const desk = people.desks.get(people.codeOf.get(task.departmentId)!)!.principal;
  const agent = people.agents.find((candidate) => candidate.id === task.createdBy.id) ?? people.agents[0];
  switch (step.kind) {
    case 'accept':
    case 'start':
      return tasks.perform(task.id, step.kind, desk);
    case 'resolve':
      return tasks.perform(task.id, 'resolve', desk, { resolution: step.text });
    case 'reject':
      return tasks.perform(task.id, 'reject', desk, { reason: step.text });
    case 'comment':
      return tasks.comment(task.id, desk, { text: step.text!, visibility: step.visibility ?? 'internal' });
    case 'forward': {
      const target = step.to;
      return tasks.perform(task.id, 'forward', step.by === 'agent' ? agent : desk, {
        reason: step.text, toDepartmentId: people.desks.get(target)!.departmentId, toTypeCode: demoDepartmentSetup[target].taskTypes[0].code,
      });
    }
    case 'verify':
    case 'close':
      return tasks.perform(task.id, step.kind, agent);
    case 'verdict':
      return tasks.recordCustomerVerdict(task.id, true, { text: step.text });
    case 'reopen': {
      const text = fill(step.text, { reference: task.reference });
      const channel = task.customerChannel === 'email' && profile.email ? 'email' : 'sms';
      const entry: NewEntry = { kind: 'message', at: new Date(step.at), direction: 'inbound', text, data: channel === 'sms' ? { segments: smsSegments(text) } : { subject: `Re: ${task.reference}` } };
      const recorded = await services.interactions.recordInboundEvent({ externalId: `seed-task:${task.reference}:reopen:${task.reopenCount}`, customerId, channel, direction: 'inbound', status: 'closed', subject: `Task ${task.reference}`, entry });
      return (await tasks.reopenByCustomerContact(task.id, recorded.interaction.id)) ?? task;
    }
  }
}

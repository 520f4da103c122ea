import { randomBytes } from 'node:crypto';
import type { Principal } from '../../src/platform/http/principal';
import type { BusinessHours, Task, TaskHistoryEntry, TaskPriority, TaskSlaJob } from '../../src/tasks';
import { taskSlaQueue } from '../../src/tasks';
import { slaJobId } from '../../src/tasks/task-sla';
import { startTestApp, uniqueName, type TestApp } from '../support/test-app';

/*
 * SLA timers end to end on a scaled clock: SLA_TIME_SCALE 0.01 makes every job delay 100 times
 * shorter (a 2-minute SLA breaches after 1.2 s real), while due times and business hours stay real.
 */
const scale = 0.01;
const allDay = [{ start: '00:00', end: '24:00' }];
const alwaysOpen: BusinessHours = { weekly: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay }, holidays: [] };
const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('task SLAs: warnings, breaches and escalation to the department head', () => {
  let app: TestApp;
  let agent: Principal;
  let head: Principal;
  let customerId: string;

  const newDepartment = async (hours: BusinessHours) => {
    const { services } = app;
    const department = await services.departments.create({ code: uniqueName('parts'), name: 'Parts', timezone: 'UTC', businessHours: hours });
    const headUser = await services.auth.createUser({ email: `${uniqueName('head')}@test.local`, password: randomBytes(12).toString('hex'), role: 'department', name: 'Head of Parts', departmentId: department.id });
    await services.departments.update(department.id, {
      headUserId: headUser.id,
      taskTypes: [
        { code: 'quick', name: 'Quick question', slaMinutes: 2, defaultPriority: 'normal', fields: [], checklist: [], notifyCustomerOnCreate: false, templates: {} },
        { code: 'order', name: 'Part order', slaMinutes: 5, defaultPriority: 'normal', fields: [], checklist: [], notifyCustomerOnCreate: false, templates: {} },
      ],
    });
    head = { kind: 'user', id: headUser.id, role: 'department', departmentId: department.id, name: 'Head of Parts' };
    return department.id;
  };
  const file = (departmentId: string, typeCode: string, priority?: TaskPriority) =>
    app.services.tasks.fileTask({ departmentId, typeCode, title: 'Brake pads for a Tiggo 7', customerId, ...(priority ? { priority } : {}) }, agent);
  const historyOf = async (taskId: string) => (await app.services.tasks.findTask(taskId))!.history ?? [];
  const entryOf = (taskId: string, action: TaskHistoryEntry['action']) =>
    eventually(async () => (await historyOf(taskId)).find((entry) => entry.action === action), `${action} on ${taskId}`);
  const jobState = (id: string) => app.queues.queue<TaskSlaJob>(taskSlaQueue).getJobState(id);

  beforeAll(async () => {
    app = await startTestApp({ SLA_TIME_SCALE: scale }, { routing: false });
    const agentUser = await app.services.auth.createUser({ email: `${uniqueName('agent')}@test.local`, password: randomBytes(12).toString('hex'), role: 'agent', name: 'Agent' });
    agent = { kind: 'user', id: agentUser.id, role: 'agent', name: 'Agent' };
    customerId = (await app.services.customers.createCustomer({ name: 'Li Wei', phones: [], emails: [] })).id;
  }, 30_000);
  afterAll(() => app.destroy());

  it('when an open task runs past 75 % of its SLA and then its due time, then it is warned first, then breached: priority raised, breachedAt set, the head named', async () => {
    const departmentId = await newDepartment(alwaysOpen);
    const task = await file(departmentId, 'quick');
    expect(Date.parse(task.dueAt) - Date.parse(task.createdAt)).toBeGreaterThanOrEqual(2 * 60_000 - 50);

    const breach = await entryOf(task.id, 'sla_breached');
    const history = await historyOf(task.id);
    const actions = history.map((entry) => entry.action);
    expect(actions.indexOf('sla_warned')).toBeGreaterThan(-1);
    expect(actions.indexOf('sla_warned')).toBeLessThan(actions.indexOf('sla_breached'));
    expect(actions).not.toContain('priority_raised');
    const after = (await app.services.tasks.findTask(task.id)) as Task;
    expect(after.priority).toBe('high');
    expect(after.warnedAt).toBeDefined();
    expect(after.breachedAt).toBeDefined();
    expect(breach.actor.kind).toBe('system');
    expect(breach.data).toMatchObject({ escalatedTo: head.id, fromPriority: 'normal', toPriority: 'high' });
    expect(breach.comment).toContain('Head of Parts');
  });

  it('when a task is resolved before its due time, then its timers run and record no warning and no breach', async () => {
    const departmentId = await newDepartment(alwaysOpen);
    const task = await file(departmentId, 'order');
    await app.services.tasks.perform(task.id, 'accept', head);
    await app.services.tasks.perform(task.id, 'resolve', head, { resolution: 'Pads shipped today' });

    // The jobs are left to run (warn ~2.25 s, breach 3 s real); once both completed, nothing was recorded.
    for (const step of ['warn', 'breach'] as const) {
      await eventually(async () => ((await jobState(slaJobId(step, task.id, task.dueAt))) === 'completed' ? true : undefined), `${step} job`);
    }
    const after = (await app.services.tasks.findTask(task.id)) as Task;
    const actions = after.history!.map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['created', 'accepted', 'resolved']));
    for (const slaAction of ['sla_warned', 'sla_breached', 'priority_raised']) expect(actions).not.toContain(slaAction);
    expect(after.warnedAt).toBeUndefined();
    expect(after.breachedAt).toBeUndefined();
    expect(after.priority).toBe('normal');
  });

  it('when tasks breach while the department is closed, then a normal one is marked at once but escalated at the next opening, an urgent one escalated at once', async () => {
    const departmentId = await newDepartment(alwaysOpen);
    const normal = await file(departmentId, 'order');
    const urgent = await file(departmentId, 'order', 'urgent');
    // Close the department before the breaches (3 s real): it opens again 1–2 minutes from now (UTC).
    const opening = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 60_000);
    const hhmm = opening.toISOString().slice(11, 16);
    await app.services.departments.update(departmentId, { businessHours: { weekly: { [weekdays[opening.getUTCDay()]]: [{ start: hhmm, end: '24:00' }] }, holidays: [] } });

    const urgentBreach = await entryOf(urgent.id, 'sla_breached');
    expect(urgentBreach.data).toMatchObject({ escalatedTo: head.id });
    expect(urgentBreach.data?.deferred).toBeUndefined();
    expect((await historyOf(urgent.id)).map((entry) => entry.action)).not.toContain('priority_raised');

    const quiet = await entryOf(normal.id, 'priority_raised');
    const marked = (await app.services.tasks.findTask(normal.id)) as Task;
    expect(marked.breachedAt).toBeDefined();
    expect(marked.priority).toBe('high');
    // The escalation is a delayed job to the next opening (delay scaled like every SLA delay), added
    // once the breach's write and its must-succeed listeners are done: a moment after the entry shows.
    const escalation = await eventually(() => app.queues.queue<TaskSlaJob>(taskSlaQueue).getJob(slaJobId('escalate', normal.id, normal.dueAt)), 'the escalation job');
    const expectedDelay = (opening.getTime() - Date.parse(quiet.at)) * scale;
    expect(Math.abs(escalation!.delay - expectedDelay)).toBeLessThan(200);

    const escalated = await entryOf(normal.id, 'sla_breached');
    expect(escalated.data).toMatchObject({ escalatedTo: head.id, deferred: true });
    expect(escalated.comment).toContain('Head of Parts');
    expect(Date.parse(escalated.at) - Date.parse(quiet.at)).toBeGreaterThanOrEqual(escalation!.delay - 50);
    // Recorded once: the breach job and the escalation job do not repeat it.
    expect((await historyOf(normal.id)).filter((entry) => entry.action === 'sla_breached')).toHaveLength(1);
  });
});

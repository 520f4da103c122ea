import { seedDemoTenant } from '../../scripts/seed';
import { demoTaskPlan, rebuildSeededReports, seedDemoTasks, type SeedTasksResult } from '../../scripts/seed-tasks';
import { taskStatuses, TaskRepository, type Task, type TaskStatus } from '../../src/tasks';
import { createUserAndLogin, request, startTestApp, type TestApp } from '../support/test-app';

const customers = 50;
const taskCount = 20;

/** Every task of the test tenant, with its history. */
async function allTasks(app: TestApp): Promise<Task[]> {
  const repository = new TaskRepository(app.mongo);
  const listed = await repository.list({}, { sort: '-createdAt', limit: 200, skip: 0 });
  return Promise.all(listed.map(async (stored) => (await app.services.tasks.findTask(stored._id))!));
}

describe('demo task history seed', () => {
  let app: TestApp;
  let first: SeedTasksResult;
  const now = Date.now();

  beforeAll(async () => {
    app = await startTestApp({}, { routing: false });
    const log = app.log.child({}, { level: 'warn' });
    await seedDemoTenant(app.services, { customers, log });
    first = await seedDemoTasks({ config: app.config, mongo: app.mongo, redis: app.redis, log }, { customers, tasks: taskCount, now });
    await rebuildSeededReports(app.reports, first, () => undefined);
  }, 60_000);

  afterAll(async () => {
    await app?.destroy();
  });

  it('when a small demo is seeded, then its tasks take every status, with their history in time order and in the past', async () => {
    const tasks = await allTasks(app);
    expect(tasks).toHaveLength(taskCount);
    expect(first).toMatchObject({ tasks: taskCount, created: taskCount });
    const statuses = new Set<TaskStatus>(tasks.map((task) => task.status));
    expect([...statuses].sort()).toEqual([...taskStatuses].sort());
    for (const task of tasks) {
      const times = task.history!.map((entry) => Date.parse(entry.at));
      expect(times.length).toBeGreaterThan(0);
      expect(times).toEqual([...times].sort((left, right) => left - right));
      expect(Math.max(...times)).toBeLessThan(now);
      expect(Date.parse(task.createdAt)).toBeGreaterThan(now - 15 * 86_400_000);
      expect(task.interactionId).toBeDefined();
    }
    expect(tasks.some((task) => task.history!.some((entry) => entry.action === 'forwarded'))).toBe(true);
    expect(tasks.some((task) => task.history!.some((entry) => entry.action === 'commented'))).toBe(true);
    // Seeding tells nobody: no notification was recorded on any task.
    expect(tasks.some((task) => task.history!.some((entry) => entry.action === 'customer_notified'))).toBe(false);
  });

  it('when the seed runs again, then it adds no task and no history entry', async () => {
    const before = await allTasks(app);
    const again = await seedDemoTasks({ config: app.config, mongo: app.mongo, redis: app.redis, log: app.log }, { customers, tasks: taskCount, now });
    const after = await allTasks(app);
    expect(again).toMatchObject({ created: 0, steps: 0 });
    expect(after.map((task) => [task.id, task.history!.length]).sort()).toEqual(before.map((task) => [task.id, task.history!.length]).sort());
  });

  it('when the plan is made twice, then it is the same plan', () => {
    expect(demoTaskPlan(7, customers, now)).toEqual(demoTaskPlan(7, customers, now));
  });

  it('when the plan is made on each day of a week, then every task is placed in the past two weeks, in time order', () => {
    for (let offset = 0; offset < 7; offset += 1) {
      const at = now - offset * 86_400_000;
      for (let n = 0; n < 150; n += 1) {
        const plan = demoTaskPlan(n, 1000, at);
        const times = [plan.contactAt, plan.createdAt, ...plan.steps.map((step) => step.at)];
        expect(times).toEqual([...times].sort((left, right) => left - right));
        expect(times[times.length - 1]).toBeLessThan(at);
        expect(plan.contactAt).toBeGreaterThan(at - 15 * 86_400_000);
      }
    }
  });

  it('when a supervisor reads the department report of the seeded days, then resolved tasks show a non-zero turnaround', async () => {
    const supervisor = await createUserAndLogin(app, 'supervisor');
    const response = await request(app, 'GET', `/api/reports/departments?from=${first.fromDay}&to=${first.toDay}&interval=day`, { token: supervisor.token });
    expect(response.status).toBe(200);
    const resolved = (response.body.items as Array<{ tasksResolved: number; timeToResolveSeconds: number | null; start: string }>).filter((row) => row.tasksResolved > 0);
    expect(resolved.length).toBeGreaterThan(0);
    for (const row of resolved) expect(row.timeToResolveSeconds).toBeGreaterThan(0);
  });
});

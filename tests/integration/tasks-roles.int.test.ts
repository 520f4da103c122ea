import { createUserAndLogin, request, startTestApp, type TestApp, type TestUser } from '../support/test-app';
import { fileWarrantyClaim, setUpTasksWorld, type TasksWorld } from './tasks-support';

describe('follow-up tasks: who may see and do what', () => {
  let app: TestApp;
  let world: TasksWorld;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    world = await setUpTasksWorld(app);
    admin = await createUserAndLogin(app, 'admin');
  });

  afterAll(async () => {
    await app?.destroy();
  });

  it("when an agent tries to resolve a department's task, then 403 and the task is unchanged", async () => {
    const task = await fileWarrantyClaim(app, world);
    await request(app, 'POST', `/api/tasks/${task.id}/accept`, { token: world.warrantyUser.token, body: {} });
    const tried = await request(app, 'POST', `/api/tasks/${task.id}/resolve`, { token: world.agent.token, body: { resolution: 'Done' } });
    expect(tried.status).toBe(403);
    expect(tried.body.error.message).toMatch(/agent.*cannot resolve/);
    expect((await request(app, 'GET', `/api/tasks/${task.id}`, { token: world.agent.token })).body.status).toBe('accepted');
  });

  it("when a department user looks at another department's tasks, then get is 404, listing that department is 403 and their own list holds only their department", async () => {
    const warrantyTask = await fileWarrantyClaim(app, world);
    const partsTask = await request(app, 'POST', '/api/tasks', {
      token: world.agent.token,
      body: { departmentId: world.parts.id, typeCode: 'parts-availability', title: 'Need a left mirror', customerId: world.customerId, fields: { partNumber: 'J68-8202010' } },
    });
    expect(partsTask.status).toBe(201);

    expect((await request(app, 'GET', `/api/tasks/${warrantyTask.id}`, { token: world.partsUser.token })).status).toBe(404);
    expect((await request(app, 'GET', `/api/tasks/by-reference/${warrantyTask.reference}`, { token: world.partsUser.token })).status).toBe(404);
    expect((await request(app, 'POST', `/api/tasks/${warrantyTask.id}/accept`, { token: world.partsUser.token, body: {} })).status).toBe(404);
    const forbidden = await request(app, 'GET', `/api/tasks?departmentId=${world.warranty.id}`, { token: world.partsUser.token });
    expect(forbidden.status).toBe(403);
    const own = await request(app, 'GET', '/api/tasks', { token: world.partsUser.token });
    expect(own.status).toBe(200);
    expect(own.body.items.map((item: { id: string }) => item.id)).toEqual([partsTask.body.id]);
    // The agent sees both, and filters work.
    const board = await request(app, 'GET', `/api/tasks?departmentId=${world.warranty.id}&status=open,accepted&typeCode=warranty-claim`, { token: world.agent.token });
    expect(board.body.items.map((item: { id: string }) => item.id)).toContain(warrantyTask.id);
    expect(board.body.items.every((item: { departmentId: string }) => item.departmentId === world.warranty.id)).toBe(true);
    expect(board.body.items[0]).not.toHaveProperty('history');
  });

  it('when a warranty claim is filed without a VIN or with a bad one, then 400 names fields.vin', async () => {
    const body = { departmentId: world.warranty.id, typeCode: 'warranty-claim', title: 'No VIN', customerId: world.customerId };
    const missing = await request(app, 'POST', '/api/tasks', { token: world.agent.token, body });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([expect.objectContaining({ field: 'fields.vin' })]);
    const bad = await request(app, 'POST', '/api/tasks', { token: world.agent.token, body: { ...body, fields: { vin: 'IOQ12345678901234' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((problem: { field: string }) => problem.field)).toEqual(['fields.vin']);
    const byDepartment = await request(app, 'POST', '/api/tasks', { token: world.partsUser.token, body: { ...body, fields: { vin: 'LVTDB21B1ND123456' } } });
    expect(byDepartment.status).toBe(403);
  });

  it('when many tasks are filed at once, then every reference is different', async () => {
    const tasks = await Promise.all(Array.from({ length: 8 }, (_, index) => fileWarrantyClaim(app, world, `Parallel ${index}`)));
    expect(new Set(tasks.map((task) => task.reference)).size).toBe(8);
  });

  it('when an admin changes a department, then bad hours, dates, SLAs and patterns are refused by name, good ones are stored and listed; others may not change it', async () => {
    const path = `/api/departments/${world.parts.id}`;
    const bad = await request(app, 'PATCH', path, {
      token: admin.token,
      body: { businessHours: { weekly: { mon: [{ start: '18:00', end: '09:00' }] }, holidays: ['2026-13-01'] }, taskTypes: [{ code: 'parts-availability', name: 'Parts', slaMinutes: 0, fields: [{ key: 'pn', label: 'PN', pattern: '(' }] }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((problem: { field: string }) => problem.field)).toEqual(
      expect.arrayContaining(['body.businessHours.weekly.mon.0.end', 'body.businessHours.holidays.0', 'body.taskTypes.0.slaMinutes', 'body.taskTypes.0.fields.0.pattern']),
    );
    const hours = { weekly: { mon: [{ start: '09:00', end: '12:00' }, { start: '13:00', end: '18:00' }], sat: [{ start: '09:00', end: '12:00' }] }, holidays: ['2026-10-01'] };
    const good = await request(app, 'PATCH', path, { token: admin.token, body: { businessHours: hours, headUserId: world.partsUser.id } });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ businessHours: hours, headUserId: world.partsUser.id, taskTypes: [expect.objectContaining({ code: 'parts-availability', slaMinutes: 480 })] });
    const listed = await request(app, 'GET', '/api/departments', { token: world.agent.token });
    expect(listed.body.items.find((item: { id: string }) => item.id === world.parts.id)).toMatchObject({ businessHours: hours });
    expect((await request(app, 'PATCH', path, { token: world.partsUser.token, body: { name: 'Mine now' } })).status).toBe(403);
  });

  it('when the API document is read, then the task routes are in it under Tasks', async () => {
    const document = await request(app, 'GET', '/api/openapi.json');
    expect(document.body.paths['/api/tasks/{id}/accept'].post.tags).toEqual(['Tasks']);
    expect(document.body.paths['/api/tasks'].get.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(expect.arrayContaining(['status', 'mine', 'overdue', 'sort']));
  });
});

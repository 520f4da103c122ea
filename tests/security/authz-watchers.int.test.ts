import { fileWarrantyClaim, setUpTasksWorld, vin, type TasksWorld } from '../integration/tasks-support';
import { connectSocket, type TestSocket } from '../support/socket';
import { createUserAndLogin, request, startTestApp, type TestApp, type TestUser } from '../support/test-app';

/** Issue 12: anyone could be made a watcher and then received task_updated for another department's task. */
describe('who may watch a task', () => {
  let app: TestApp;
  let world: TasksWorld;
  let otherAgent: TestUser;
  let supervisor: TestUser;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    // With routing, so the realtime gateway runs and a watcher would get task_updated on their socket.
    app = await startTestApp();
    world = await setUpTasksWorld(app);
    otherAgent = await createUserAndLogin(app, 'agent');
    supervisor = await createUserAndLogin(app, 'supervisor');
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await app.destroy();
  });

  const setWatchers = (user: TestUser, taskId: string, watcherIds: string[]) => request(app, 'PUT', `/api/tasks/${taskId}/watchers`, { token: user.token, body: { watcherIds } });

  it("when a department user of another department is added as a watcher, then 400 naming watcherIds, and they receive no task_updated for the task", async () => {
    const task = await fileWarrantyClaim(app, world, 'Watched by the wrong people?');
    const partsDesk = await connectSocket(app.url, { token: world.partsUser.token });
    sockets.push(partsDesk);

    const refused = await setWatchers(world.agent, task.id, [world.partsUser.id]);
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([expect.objectContaining({ field: 'watcherIds', message: expect.stringMatching(/cannot see|department/) })]);

    expect((await request(app, 'POST', `/api/tasks/${task.id}/accept`, { token: world.warrantyUser.token, body: {} })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const leaked = partsDesk.received.filter((item) => item.event === 'task_updated' && item.payload?.data?.task?.id === task.id);
    expect(leaked).toEqual([]);
    expect((await app.services.tasks.findTask(task.id))!.watcherIds).toEqual([]);
  });

  it('when a task is filed with a watcher from another department, then 400 naming watcherIds and nothing is filed', async () => {
    const response = await request(app, 'POST', '/api/tasks', {
      token: world.agent.token,
      body: { departmentId: world.warranty.id, typeCode: 'warranty-claim', title: 'Filed with a stranger watching', customerId: world.customerId, fields: { vin }, watcherIds: [world.partsUser.id] },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([expect.objectContaining({ field: 'watcherIds' })]);
  });

  it('when front-line users and users of the task\'s own department are added, then they become watchers', async () => {
    const task = await fileWarrantyClaim(app, world, 'Watched by the right people');
    const response = await setWatchers(world.agent, task.id, [otherAgent.id, supervisor.id, world.warrantyUser.id]);
    expect(response.status).toBe(200);
    expect(response.body.watcherIds).toEqual([otherAgent.id, supervisor.id, world.warrantyUser.id]);
    // A department user of the task's department may change them too; one of another department cannot even see it.
    expect((await setWatchers(world.warrantyUser, task.id, [world.warrantyUser.id])).status).toBe(200);
    expect((await setWatchers(world.partsUser, task.id, [world.partsUser.id])).status).toBe(404);
  });

  it('when a watched task is forwarded to another department, then watchers of the old department stop watching it; front-line watchers stay', async () => {
    const task = await fileWarrantyClaim(app, world, 'Goes to parts');
    expect((await setWatchers(world.agent, task.id, [otherAgent.id, world.warrantyUser.id])).status).toBe(200);
    const forwarded = await request(app, 'POST', `/api/tasks/${task.id}/forward`, { token: supervisor.token, body: { toDepartmentId: world.parts.id, toTypeCode: 'parts-availability', reason: 'a parts question' } });
    expect(forwarded.status).toBe(200);
    expect(forwarded.body.watcherIds).toEqual([otherAgent.id]);
  });
});

import { TaskRepository } from '../../src/tasks';
import { systemActor } from '../../src/tasks/task.mappers';
import { createUserAndLogin, request, startTestApp, type TestApp, type TestUser } from '../support/test-app';
import { fileWarrantyClaim, setUpTasksWorld, type TasksWorld } from './tasks-support';

// A merge moves the duplicate's follow-up tasks to the survivor, so the survivor's screen pop (the
// open-task index) and task list show them; the move may run again after a crash.
describe('follow-up tasks when two customers are merged', () => {
  let app: TestApp;
  let world: TasksWorld;
  let supervisor: TestUser;
  let repository: TaskRepository;

  beforeAll(async () => {
    app = await startTestApp();
    world = await setUpTasksWorld(app);
    supervisor = await createUserAndLogin(app, 'supervisor');
    repository = new TaskRepository(app.mongo);
  });
  afterAll(() => app?.destroy());

  const newCustomer = async (name: string) => {
    const created = await request(app, 'POST', '/api/customers', { token: world.agent.token, body: { name, phones: [`+86139${String(Date.now() + Math.floor(Math.random() * 1e6)).slice(-8)}`] } });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  const openTaskIds = async (customerId: string) => (await app.services.tasks.openTasksOf(customerId)).map((task) => task.id);
  const listedTaskIds = async (customerId: string) => {
    const listed = await request(app, 'GET', `/api/tasks?customerId=${customerId}`, { token: world.agent.token });
    expect(listed.status).toBe(200);
    return (listed.body.items as Array<{ id: string }>).map((task) => task.id);
  };

  it('when the customer with a task is merged into another, then the survivor lists the task, the duplicate does not, and moving again changes nothing', async () => {
    const duplicateId = world.customerId;
    const survivorId = await newCustomer('Li Wei (duplicate record)');
    const task = await fileWarrantyClaim(app, world);
    expect(await openTaskIds(duplicateId)).toEqual([task.id]);

    const merged = await request(app, 'POST', `/api/customers/${survivorId}/merge`, { token: supervisor.token, body: { fromCustomerId: duplicateId } });
    expect(merged.status).toBe(200);

    expect(await openTaskIds(survivorId)).toEqual([task.id]);
    expect(await openTaskIds(duplicateId)).toEqual([]);
    expect(await listedTaskIds(survivorId)).toEqual([task.id]);
    expect(await listedTaskIds(duplicateId)).toEqual([]);
    const moved = await request(app, 'GET', `/api/tasks/${task.id}`, { token: world.agent.token });
    expect(moved.body.customerId).toBe(survivorId);
    expect(moved.body.history.at(-1)).toMatchObject({ action: 'customer_merged', actor: systemActor, data: { fromCustomerId: duplicateId, toCustomerId: survivorId } });

    await app.services.tasks.moveCustomerTasks({ fromCustomerId: duplicateId, intoCustomerId: survivorId });
    const again = await request(app, 'GET', `/api/tasks/${task.id}`, { token: world.agent.token });
    expect(again.body.version).toBe(moved.body.version);
    expect(again.body.history).toHaveLength(moved.body.history.length);
    expect(await openTaskIds(survivorId)).toEqual([task.id]);
    expect(await openTaskIds(duplicateId)).toEqual([]);
  });

  it('when a merge crashed after moving a task but before moving its index entry, then running the move again puts the entry under the survivor', async () => {
    const fromId = await newCustomer('Zhang Min');
    const intoId = await newCustomer('Zhang Min (kept)');
    const filed = await request(app, 'POST', '/api/tasks', {
      token: world.agent.token,
      body: { departmentId: world.warranty.id, typeCode: 'warranty-claim', title: 'Door seal leaks', customerId: fromId, fields: { vin: 'LVTDB21B1ND654321' } },
    });
    expect(filed.status).toBe(201);
    const task = filed.body as { id: string; version: number };
    // The task write of a move, without the index write that follows it.
    const written = await repository.applyChange(task.id, task.version, {
      set: { customerId: intoId },
      entry: { _id: `crash-${task.id}`, at: new Date(), action: 'customer_merged', actor: systemActor, data: { fromCustomerId: fromId, toCustomerId: intoId } },
    });
    expect(written?.customerId).toBe(intoId);
    expect(await openTaskIds(fromId)).toEqual([task.id]);

    await app.services.tasks.moveCustomerTasks({ fromCustomerId: fromId, intoCustomerId: intoId });

    expect(await openTaskIds(intoId)).toEqual([task.id]);
    expect(await openTaskIds(fromId)).toEqual([]);
    expect((await app.services.tasks.findTask(task.id))?.version).toBe(written!.version);
  });
});

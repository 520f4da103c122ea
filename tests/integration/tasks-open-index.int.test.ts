import { TaskRepository } from '../../src/tasks';
import type { TaskDocument } from '../../src/tasks/task.model';
import { startTestApp, type TestApp } from '../support/test-app';

// The screen pop reads a customer's open tasks from one document kept beside the tasks; changes of
// one task can reach it out of order (two nodes, two listeners), and it must still end right.
describe("the customer's open-task index", () => {
  let app: TestApp;
  let repository: TaskRepository;

  beforeAll(async () => {
    app = await startTestApp();
    repository = new TaskRepository(app.mongo);
  });
  afterAll(() => app.destroy());

  const task = (id: string, customerId: string, status: TaskDocument['status'], version: number) =>
    ({ _id: id, reference: `T-${id}`, title: `Task ${id}`, priority: 'normal', departmentId: 'dept', typeCode: 'type', dueAt: new Date(Date.UTC(2026, 10, 27, 9, version)), customerId, status, version }) as TaskDocument;

  it('when a closed version lands before the accepted one it followed, then the task stays off the list', async () => {
    await repository.indexForCustomer(task('a1', 'customer-a', 'open', 1));
    await repository.indexForCustomer(task('a1', 'customer-a', 'closed', 3));
    await repository.indexForCustomer(task('a1', 'customer-a', 'accepted', 2));
    expect(await repository.openTasksOf('customer-a')).toEqual([]);
  });

  it('when two tasks of one customer change at once, then both are listed with their latest state', async () => {
    await Promise.all([repository.indexForCustomer(task('b1', 'customer-b', 'open', 1)), repository.indexForCustomer(task('b2', 'customer-b', 'open', 1))]);
    await Promise.all([repository.indexForCustomer(task('b1', 'customer-b', 'accepted', 2)), repository.indexForCustomer(task('b2', 'customer-b', 'in_progress', 3))]);
    const listed = await repository.openTasksOf('customer-b');
    expect(listed.map((item) => [item.id, item.status]).sort()).toEqual([['b1', 'accepted'], ['b2', 'in_progress']]);
  });

  it('when a task is reopened after closing, then it is listed again', async () => {
    await repository.indexForCustomer(task('c1', 'customer-c', 'closed', 4));
    await repository.indexForCustomer(task('c1', 'customer-c', 'reopened', 5));
    expect((await repository.openTasksOf('customer-c')).map((item) => item.status)).toEqual(['reopened']);
  });
});

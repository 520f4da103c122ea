import { Types } from 'mongoose';
import { TaskRepository } from '../../src/tasks';
import { entryIdBefore } from '../../src/tasks/task-outbox';
import type { StoredHistoryEntry, TaskDocument } from '../../src/tasks/task.model';
import { startTestApp, type TestApp } from '../support/test-app';

/*
 * The outbox's store operations, against the real server (FerretDB here): a range on ObjectId hex
 * strings, $push of the outbox id with the change, $pull by value (FerretDB has no $pull by
 * condition and no $elemMatch on these arrays), and the pointer dropped only while it names the
 * entry the dispatcher read.
 */
describe('task outbox: what the store does for it', () => {
  let app: TestApp;
  let repository: TaskRepository;

  beforeAll(async () => {
    app = await startTestApp({}, { routing: false });
    repository = new TaskRepository(app.mongo);
  });
  afterAll(() => app.destroy());

  const idMadeAt = (msAgo: number) => `${Types.ObjectId.createFromTime(Math.floor((Date.now() - msAgo) / 1000)).toHexString().slice(0, 8)}${new Types.ObjectId().toHexString().slice(8)}`;
  const entry = (id: string, version: number): StoredHistoryEntry => ({ _id: id, at: new Date(), action: 'commented', actor: { kind: 'system', id: 'system', name: 'Switchboard' }, comment: 'x', version });
  const task = (id: string, first: StoredHistoryEntry): TaskDocument => ({
    _id: id, reference: `T-${id.slice(-6)}`, departmentId: 'd1', typeCode: 'claim', title: 't', description: '', fields: {}, checklist: [], priority: 'normal', status: 'open',
    createdBy: first.actor, customerId: 'c1', watcherIds: [], slaMinutes: 60, dueAt: new Date(), reopenCount: 0, attachments: [], history: [first], pendingEvents: [first._id],
    version: 1, createdAt: new Date(), updatedAt: new Date(),
  });

  it('when a change is applied, then its entry id joins the outbox in the same write, and a pull takes it out without a new version', async () => {
    const first = entry(idMadeAt(0), 1);
    const id = new Types.ObjectId().toHexString();
    await repository.insert(task(id, first));
    const second = entry(idMadeAt(0), 2);
    const changed = await repository.applyChange(id, 1, { entry: second });
    expect(changed?.pendingEvents).toEqual([first._id, second._id]);
    expect(changed?.version).toBe(2);

    await repository.clearPendingEvent(id, first._id);
    const after = await repository.findById(id);
    expect(after?.pendingEvents).toEqual([second._id]);
    expect(after?.version).toBe(2);
    expect(after?.history).toHaveLength(2);
  });

  it('when pointers were announced at different times, then the dispatcher gets those before the cutoff, oldest first, page by page', async () => {
    const old = [idMadeAt(90_000), idMadeAt(60_000), idMadeAt(45_000)];
    const fresh = idMadeAt(0);
    const ids = ['p1', 'p2', 'p3', 'p4'].map((suffix) => `${new Types.ObjectId().toHexString()}${suffix}`);
    await Promise.all([...old, fresh].map((entryId, index) => repository.announceOutbox(ids[index], entryId)));
    const before = entryIdBefore(new Date(Date.now() - 30_000));
    const firstPage = await repository.outboxPointers(before, '', 2);
    expect(firstPage.map((pointer) => pointer.entryId)).toEqual(old.slice(0, 2));
    const secondPage = await repository.outboxPointers(before, firstPage[1].entryId, 2);
    expect(secondPage.map((pointer) => pointer.entryId)).toEqual([old[2]]);
  });

  it('when a writer announced a newer entry meanwhile, then dropping the pointer the dispatcher read leaves it in place', async () => {
    const id = new Types.ObjectId().toHexString();
    const read = idMadeAt(60_000);
    await repository.announceOutbox(id, read);
    const newer = idMadeAt(0);
    await repository.announceOutbox(id, newer);
    await repository.dropOutboxPointer(id, read);
    expect(await app.mongo.collection('task_outbox').findOne({ _id: id as never })).toEqual({ _id: id, entryId: newer });
    await repository.dropOutboxPointer(id, newer);
    expect(await app.mongo.collection('task_outbox').findOne({ _id: id as never })).toBeNull();
  });
});

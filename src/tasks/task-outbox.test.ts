import { Types } from 'mongoose';
import type { Task, TaskHistoryEntry } from './task.contracts';
import { entryIdBefore, replayedEvent } from './task-outbox';

const actor = { kind: 'user' as const, id: 'u1', name: 'Clerk' };
const entry = (id: string, rest: Partial<TaskHistoryEntry>): TaskHistoryEntry => ({ id, at: '2026-01-05T02:00:00.000Z', action: 'commented', actor, ...rest });

function taskWith(history: TaskHistoryEntry[]): Task {
  return {
    id: 't1', reference: 'T-000001', departmentId: 'parts', typeCode: 'claim', title: 'Brake noise', description: '', fields: {}, checklist: [],
    priority: 'normal', status: 'in_progress', createdBy: actor, customerId: 'c1', watcherIds: [], slaMinutes: 60, dueAt: '2026-01-05T03:00:00.000Z',
    reopenCount: 0, attachments: [], version: history.length, createdAt: '2026-01-05T01:00:00.000Z', updatedAt: '2026-01-05T02:00:00.000Z', history,
  };
}

describe('replayedEvent', () => {
  const history = [
    entry('e1', { action: 'created', toStatus: 'open', version: 1 }),
    entry('e2', { action: 'accepted', fromStatus: 'open', toStatus: 'accepted', version: 2 }),
    entry('e3', { action: 'commented', comment: 'Ordered the part', visibility: 'customer', version: 3 }),
    entry('e4', { action: 'forwarded', fromStatus: 'accepted', toStatus: 'open', data: { fromDepartmentId: 'warranty', toDepartmentId: 'parts' }, version: 4 }),
    entry('e5', { action: 'started', fromStatus: 'open', toStatus: 'in_progress', version: 5 }),
  ];
  const task = taskWith(history);

  it('when the entry is the filing, then the event is task_created without a previous status', () => {
    expect(replayedEvent(task, 'e1')).toEqual({ type: 'task_created', action: 'created', task, entry: history[0] });
  });

  it('when the entry moved the status, then the previous status is its fromStatus', () => {
    expect(replayedEvent(task, 'e2')).toMatchObject({ type: 'task_updated', action: 'accepted', previousStatus: 'open', entry: { version: 2 } });
  });

  it('when the entry did not move the status, then the previous status is the one the history says the task had then', () => {
    expect(replayedEvent(task, 'e3')).toMatchObject({ action: 'commented', previousStatus: 'accepted' });
  });

  it('when the entry is a forward, then the previous department comes from its data', () => {
    expect(replayedEvent(task, 'e4')).toMatchObject({ action: 'forwarded', previousStatus: 'accepted', previousDepartmentId: 'warranty' });
  });

  it('when the entry is not in the history, then there is nothing to replay', () => {
    expect(replayedEvent(task, 'nope')).toBeNull();
  });
});

describe('entryIdBefore', () => {
  it('when ids were made before the instant, then they sort below it; ids made in or after its second do not', () => {
    const at = new Date('2026-01-05T02:00:00.500Z');
    const earlier = Types.ObjectId.createFromTime(Math.floor(at.getTime() / 1000) - 1).toHexString();
    const sameSecond = Types.ObjectId.createFromTime(Math.floor(at.getTime() / 1000)).toHexString();
    const later = Types.ObjectId.createFromTime(Math.floor(at.getTime() / 1000) + 5).toHexString();
    const cutoff = entryIdBefore(at);
    expect(earlier < cutoff).toBe(true);
    expect(sameSecond < cutoff).toBe(false);
    expect(later < cutoff).toBe(false);
  });
});

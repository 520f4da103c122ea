import type { Task, TaskHistoryEntry } from './task.contracts';
import { owedNotifications } from './task-notifications';

const actor = { kind: 'user' as const, id: 'u1', name: 'Clerk' };
const since = new Date('2026-03-09T00:00:00Z');
let seq = 0;
const entry = (action: TaskHistoryEntry['action'], at: string, extra: Partial<TaskHistoryEntry> = {}): TaskHistoryEntry => ({ id: `h${++seq}`, at, action, actor, ...extra });

function task(history: TaskHistoryEntry[]): Task {
  return {
    id: 't1', reference: 'T-000001', departmentId: 'd1', typeCode: 'claim', title: 'Claim', description: '', fields: {}, checklist: [], priority: 'normal',
    status: 'resolved', createdBy: actor, customerId: 'c1', watcherIds: [], slaMinutes: 60, dueAt: '2026-03-09T12:00:00.000Z', reopenCount: 0, attachments: [],
    version: history.length, createdAt: history[0].at, updatedAt: history[history.length - 1].at, history,
  };
}

describe('owedNotifications (what the reconciler re-queues for the customer)', () => {
  it('when a task was filed (type notifies), commented for the customer and resolved, with nothing recorded, then three jobs are owed with the versions their events carried', () => {
    const history = [
      entry('created', '2026-03-09T08:00:00Z'),
      entry('commented', '2026-03-09T08:10:00Z', { visibility: 'internal', comment: 'checking stock' }),
      entry('commented', '2026-03-09T08:20:00Z', { visibility: 'customer', comment: 'part ordered' }),
      entry('accepted', '2026-03-09T08:30:00Z'),
      entry('resolved', '2026-03-09T09:00:00Z'),
    ];
    expect(owedNotifications(task(history), true, since)).toEqual([
      { taskId: 't1', kind: 'created', version: 1 },
      { taskId: 't1', kind: 'update', version: 3, entryId: history[2].id },
      { taskId: 't1', kind: 'resolved', version: 5 },
    ]);
  });

  it('when a notification is already recorded (sent or not), then it is not owed; the filing is not owed when the type does not notify', () => {
    const history = [
      entry('created', '2026-03-09T08:00:00Z'),
      entry('resolved', '2026-03-09T09:00:00Z'),
      entry('customer_notified', '2026-03-09T09:00:01Z', { data: { key: 'task:t1:resolved:v2', reason: 'no_usable_channel' } }),
    ];
    expect(owedNotifications(task(history), false, since)).toEqual([]);
  });

  it('when the event came before the window, or the history does not match the version, then nothing is guessed', () => {
    const old = [entry('created', '2026-03-01T08:00:00Z'), entry('resolved', '2026-03-01T09:00:00Z')];
    expect(owedNotifications(task(old), true, since)).toEqual([]);
    const mismatched = { ...task([entry('created', '2026-03-09T08:00:00Z'), entry('resolved', '2026-03-09T09:00:00Z')]), version: 5 };
    expect(owedNotifications(mismatched, true, since)).toEqual([]);
  });
});

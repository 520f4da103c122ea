import type { Principal } from '../platform/http/principal';
import { taskStatuses, type TaskStatus } from './task.contracts';
import { mayPerform, nextStatus, ownerFor, type TransitionAction } from './task.lifecycle';

const task = { departmentId: 'warranty', assigneeId: 'dept-user-1', createdBy: { kind: 'user' as const, id: 'agent-1', name: 'Agent' } };
const person = (role: Principal['role'], id: string, departmentId?: string): Principal => ({ kind: 'user', id, role, name: id, ...(departmentId ? { departmentId } : {}) });

describe('nextStatus', () => {
  // Every action from every status: the full table, so a changed rule shows up as a diff here.
  const table: Record<TransitionAction, Partial<Record<TaskStatus, TaskStatus>>> = {
    accept: { open: 'accepted', reopened: 'accepted' },
    start: { accepted: 'in_progress', reopened: 'in_progress' },
    resolve: { accepted: 'resolved', in_progress: 'resolved', reopened: 'resolved' },
    reject: { open: 'rejected', accepted: 'rejected', in_progress: 'rejected', reopened: 'rejected' },
    verify: { resolved: 'verified' },
    close: { resolved: 'closed', verified: 'closed', rejected: 'closed' },
    reopen: { resolved: 'reopened', rejected: 'reopened', verified: 'reopened', closed: 'reopened' },
    assign: { open: 'accepted', accepted: 'accepted', in_progress: 'in_progress', reopened: 'reopened' },
    forward: { open: 'open', accepted: 'open', in_progress: 'open', reopened: 'open', rejected: 'open' },
  };
  for (const [action, expected] of Object.entries(table) as Array<[TransitionAction, Partial<Record<TaskStatus, TaskStatus>>]>) {
    it(`when ${action} is tried from each status, then only the table's moves are allowed`, () => {
      const actual = Object.fromEntries(taskStatuses.map((from) => [from, nextStatus(action, from, true)]).filter(([, to]) => to !== null));
      expect(actual).toEqual(expected);
    });
  }

  it('when an unowned reopened task is assigned, then it counts as accepted for the assignee', () => {
    expect(nextStatus('assign', 'reopened', false)).toBe('accepted');
    expect(nextStatus('assign', 'reopened', true)).toBe('reopened');
  });
});

describe('mayPerform', () => {
  const member = person('department', 'dept-user-2', 'warranty');
  const assignee = person('department', 'dept-user-1', 'warranty');
  const outsider = person('department', 'dept-user-9', 'parts');
  const agent = person('agent', 'agent-1');

  it('when a department member who is not the assignee acts, then they may accept, reject and forward but not start, resolve or assign', () => {
    const allowed = (['accept', 'start', 'resolve', 'reject', 'verify', 'close', 'reopen', 'assign', 'forward'] as const).filter((action) => mayPerform(member, action, task, false));
    expect(allowed).toEqual(['accept', 'reject', 'forward']);
  });

  it('when the assignee acts, then they may start and resolve; the head may too, and assign', () => {
    expect(mayPerform(assignee, 'start', task, false)).toBe(true);
    expect(mayPerform(assignee, 'resolve', task, false)).toBe(true);
    expect(mayPerform(assignee, 'assign', task, false)).toBe(false);
    expect(mayPerform(member, 'resolve', task, true)).toBe(true);
    expect(mayPerform(member, 'assign', task, true)).toBe(true);
  });

  it("when a user of another department acts, then nothing is allowed, even as a head", () => {
    for (const action of ['accept', 'resolve', 'reject', 'forward', 'assign'] as const) expect(mayPerform(outsider, action, task, true)).toBe(false);
  });

  it('when an agent acts, then they may verify, close, reopen and forward but never work or resolve the task', () => {
    const allowed = (['accept', 'start', 'resolve', 'reject', 'verify', 'close', 'reopen', 'assign', 'forward'] as const).filter((action) => mayPerform(agent, action, task, false));
    expect(allowed).toEqual(['verify', 'close', 'reopen', 'forward']);
  });

  it('when a supervisor, an admin or an integration acts, then everything is allowed', () => {
    for (const principal of [person('supervisor', 's'), person('admin', 'a'), { kind: 'api_key', id: 'k', role: 'integration', name: 'ERP' } as Principal]) {
      expect(mayPerform(principal, 'resolve', task, false)).toBe(true);
      expect(mayPerform(principal, 'assign', task, false)).toBe(true);
    }
  });
});

describe('ownerFor', () => {
  it('when the task moves through its life, then the owner follows: head while unowned, assignee while worked, filer once back', () => {
    expect(ownerFor('open', { headUserId: 'head', filerId: 'agent' })).toBe('head');
    expect(ownerFor('open', { filerId: 'agent' })).toBe('agent');
    expect(ownerFor('accepted', { assigneeId: 'u1', headUserId: 'head', filerId: 'agent' })).toBe('u1');
    expect(ownerFor('rejected', { assigneeId: 'u1', headUserId: 'head', filerId: 'agent' })).toBe('agent');
    expect(ownerFor('resolved', { assigneeId: 'u1', filerId: 'agent' })).toBe('agent');
    expect(ownerFor('closed', { assigneeId: 'u1', filerId: 'agent' })).toBeUndefined();
  });
});

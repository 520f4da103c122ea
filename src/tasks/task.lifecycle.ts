import type { Principal } from '../platform/http/principal';
import type { Task, TaskStatus } from './task.contracts';

/** Actions that move a task between statuses (comments and watchers never do). */
export type TransitionAction = 'accept' | 'start' | 'resolve' | 'reject' | 'verify' | 'close' | 'reopen' | 'assign' | 'forward';

interface Transition {
  from: readonly TaskStatus[];
  /** `keep` leaves the status as it was (assigning a task already being worked). */
  to: TaskStatus | 'keep';
}

const working: readonly TaskStatus[] = ['open', 'accepted', 'in_progress', 'reopened'];

/**
 * The task lifecycle: open → accepted → in_progress → resolved | rejected → verified → closed, and
 * reopened from any finished state. `assign` on an unowned task counts as accepting it for someone.
 */
export const transitions: Record<TransitionAction, Transition> = {
  accept: { from: ['open', 'reopened'], to: 'accepted' },
  start: { from: ['accepted', 'reopened'], to: 'in_progress' },
  resolve: { from: ['accepted', 'in_progress', 'reopened'], to: 'resolved' },
  reject: { from: working, to: 'rejected' },
  verify: { from: ['resolved'], to: 'verified' },
  close: { from: ['resolved', 'verified', 'rejected'], to: 'closed' },
  reopen: { from: ['resolved', 'rejected', 'verified', 'closed'], to: 'reopened' },
  assign: { from: working, to: 'keep' },
  forward: { from: [...working, 'rejected'], to: 'open' },
};

/** The status after `action`, or null when the action is not possible from `from`. */
export function nextStatus(action: TransitionAction, from: TaskStatus, hasAssignee: boolean): TaskStatus | null {
  const transition = transitions[action];
  if (!transition.from.includes(from)) return null;
  if (action === 'assign') return from === 'open' || (from === 'reopened' && !hasAssignee) ? 'accepted' : from;
  return transition.to === 'keep' ? from : transition.to;
}

type Side = 'department' | 'front_line' | 'supervisor' | 'integration';

function sideOf(principal: Principal, task: Pick<Task, 'departmentId'>): Side | null {
  switch (principal.role) {
    case 'admin':
    case 'supervisor':
      return 'supervisor';
    case 'integration':
      return 'integration';
    case 'agent':
      return 'front_line';
    case 'department':
      // A department user acts only on their own department's tasks, and cannot even see others'.
      return principal.departmentId === task.departmentId ? 'department' : null;
  }
}

/**
 * Who may do what, decided on the server. Department users work their department's tasks; the
 * filing side (agents) verifies, closes and reopens; supervisors and integrations may do everything
 * an outside system or a manager needs. `head` is the department head, who may assign and resolve
 * any of the department's tasks.
 */
export function mayPerform(
  principal: Principal,
  action: TransitionAction,
  task: Pick<Task, 'departmentId' | 'assigneeId' | 'createdBy'>,
  isHead: boolean,
): boolean {
  const side = sideOf(principal, task);
  if (side === null) return false;
  if (side === 'supervisor' || side === 'integration') return true;
  const isAssignee = task.assigneeId === principal.id;
  if (side === 'department') {
    switch (action) {
      case 'accept':
      case 'reject':
      case 'forward':
        return true;
      case 'start':
      case 'resolve':
        return isAssignee || isHead;
      case 'assign':
        return isHead;
      default:
        return false;
    }
  }
  // Front line: an agent closes the loop with the customer, and may send a rejected task elsewhere.
  return action === 'verify' || action === 'close' || action === 'reopen' || action === 'forward';
}

/** Who answers for the task in `status`: the assignee while it is worked, the department head while unowned, the filer once it is back with them. */
export function ownerFor(status: TaskStatus, task: { assigneeId?: string; headUserId?: string; filerId?: string }): string | undefined {
  switch (status) {
    case 'open':
    case 'reopened':
      return task.assigneeId ?? task.headUserId ?? task.filerId;
    case 'accepted':
    case 'in_progress':
      return task.assigneeId ?? task.headUserId;
    case 'resolved':
    case 'rejected':
    case 'verified':
      return task.filerId ?? task.assigneeId;
    case 'closed':
      return undefined;
  }
}

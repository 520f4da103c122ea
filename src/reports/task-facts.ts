import type { Task, TaskHistoryEntry } from '../tasks';
import { targets, type Fact, type Target } from './facts';

/**
 * Task turnaround facts of one task, from its history (the task service publishes the whole task,
 * history included, with every event; the rebuild reads the same history from the tasks collection).
 * Each fact belongs to the interval of the history entry behind it, and to the department the task
 * was in at that moment (forwards are walked back). Per task: the first acceptance, the first
 * resolution (within SLA when no breach was recorded before it), the first reopen, the first breach.
 */
export function taskFacts(task: Task, history: TaskHistoryEntry[] = task.history ?? []): Fact[] {
  const entries = [...history].sort((left, right) => left.at.localeCompare(right.at));
  const createdAt = new Date(task.createdAt);
  const where = (at: string, actorId?: string): Target[] => {
    const department = departmentAt(task, entries, at);
    return targets(['department', department], ['task_type', `${department}/${task.typeCode}`], ['agent', actorId]);
  };
  const facts: Fact[] = [];
  const filer = task.createdBy.kind === 'user' ? task.createdBy.id : undefined;
  const created = where(task.createdAt);
  facts.push({
    key: `task-created:${task.id}`,
    parts: [
      { at: createdAt, targets: created.filter((target) => target.dim !== 'agent'), inc: { tasksCreated: 1 } },
      ...(filer ? [{ at: createdAt, targets: targets(['agent', filer]), inc: { tasksFiled: 1 } }] : []),
    ],
  });

  const accepted = entries.find((entry) => entry.toStatus === 'accepted' || entry.action === 'accepted');
  const acceptedAt = accepted?.at ?? (entries.length === 0 ? task.acceptedAt : undefined);
  if (acceptedAt) {
    facts.push({ key: `task-accepted:${task.id}`, parts: [{ at: new Date(acceptedAt), targets: where(acceptedAt).filter((target) => target.dim !== 'agent'), inc: { tasksAccepted: 1, acceptMs: Math.max(0, Date.parse(acceptedAt) - createdAt.getTime()) } }] });
  }

  const resolved = entries.find((entry) => entry.action === 'resolved');
  const resolvedAt = resolved?.at ?? (entries.length === 0 ? task.resolvedAt : undefined);
  if (resolvedAt) {
    const breached = entries.some((entry) => entry.action === 'sla_breached' && entry.at <= resolvedAt) || (entries.length === 0 && task.breachedAt !== undefined && task.breachedAt <= resolvedAt);
    const resolver = resolved?.actor.kind === 'user' ? resolved.actor.id : undefined;
    facts.push({
      key: `task-resolved:${task.id}`,
      parts: [{ at: new Date(resolvedAt), targets: where(resolvedAt, resolver), inc: { tasksResolved: 1, resolveMs: Math.max(0, Date.parse(resolvedAt) - createdAt.getTime()), resolvedInSla: breached ? 0 : 1 } }],
    });
  }

  const reopened = entries.find((entry) => entry.action === 'reopened');
  if (reopened) facts.push({ key: `task-reopened:${task.id}`, parts: [{ at: new Date(reopened.at), targets: where(reopened.at).filter((target) => target.dim !== 'agent'), inc: { tasksReopened: 1 } }] });

  const breach = entries.find((entry) => entry.action === 'sla_breached');
  if (breach) facts.push({ key: `task-breached:${task.id}`, parts: [{ at: new Date(breach.at), targets: where(breach.at).filter((target) => target.dim !== 'agent'), inc: { tasksBreached: 1 } }] });
  return facts;
}

/** The department a task was in at `at`: its current one, unless a later forward moved it there. */
function departmentAt(task: Task, entries: TaskHistoryEntry[], at: string): string {
  const laterForward = entries.find((entry) => entry.action === 'forwarded' && entry.at > at && typeof entry.data?.fromDepartmentId === 'string');
  return (laterForward?.data?.fromDepartmentId as string | undefined) ?? task.departmentId;
}

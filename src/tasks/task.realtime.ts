import type { Logger } from '../platform/logger';
import type { RealtimeGateway } from '../realtime';
import type { DepartmentService } from './department.service';
import type { Task, TaskEvent, TaskEventListener, TaskHistoryEntry } from './task.contracts';

export interface TaskRealtimeDeps {
  gateway: Pick<RealtimeGateway, 'toUser' | 'toRoom'>;
  departments: Pick<DepartmentService, 'get'>;
  log: Logger;
}

/** What every task event carries to a socket: the task as a board shows it (no history) and the change. */
export interface TaskUpdate {
  task: Omit<Task, 'history'>;
  entry: TaskHistoryEntry;
}

/**
 * The users who hear about a change in their own replayable stream: the filer, the watchers, the
 * assignee and the owner; at a breach also the department head (the escalation).
 */
export function taskRecipients(event: TaskEvent, headUserId: string | undefined): string[] {
  const { task } = event;
  const recipients = new Set<string>();
  if (task.createdBy.kind === 'user') recipients.add(task.createdBy.id);
  for (const watcher of task.watcherIds) recipients.add(watcher);
  if (task.assigneeId) recipients.add(task.assigneeId);
  if (task.ownerId) recipients.add(task.ownerId);
  if (event.action === 'sla_breached' && headUserId) recipients.add(headUserId);
  return [...recipients];
}

/**
 * Carries task events to sockets. Boards (department rooms, supervisors) get room nudges with the
 * task; people get logged events, so a reconnect replays what they missed.
 */
export function taskRealtime(deps: TaskRealtimeDeps): TaskEventListener {
  const log = deps.log.child({ module: 'tasks-realtime' });
  return async (event) => {
    const { history: _history, ...task } = event.task;
    const payload: TaskUpdate = { task, entry: event.entry };
    const headUserId = event.action === 'sla_breached' ? (await deps.departments.get(task.departmentId)).headUserId : undefined;
    const rooms = [deps.gateway.toRoom(`department:${task.departmentId}`, event.type, payload), deps.gateway.toRoom('supervisors', 'task_updated', payload)];
    // The board the task left must drop it.
    if (event.previousDepartmentId && event.previousDepartmentId !== task.departmentId) rooms.push(deps.gateway.toRoom(`department:${event.previousDepartmentId}`, 'task_updated', payload));
    const recipients = taskRecipients(event, headUserId);
    await Promise.all([...rooms, ...recipients.map((userId) => deps.gateway.toUser(userId, 'task_updated', payload))]);
    log.debug({ taskId: task.id, action: event.action, recipients: recipients.length }, 'task event delivered');
  };
}

import { addBusinessMinutes, isOpenAt, nextOpening } from './business-hours';
import type { BusinessHours } from './department.model';
import { activeTaskStatuses, type Task, type TaskAction, type TaskEvent } from './task.contracts';
import type { TaskChange } from './task.repository';
import { raisedPriority } from './task.service';

/*
 * The SLA decisions, free of queues and stores: when to warn, whether a breach escalates now or at
 * the next opening, and the change each step records. The jobs in task-sla.jobs.ts only schedule
 * and call these; every decision re-checks the task, so a late, repeated or stale job changes nothing.
 */

export type SlaStep = 'warn' | 'breach' | 'escalate';

/** What a system change records (the shape `TaskService.recordSystemChange` takes). */
export interface SlaChange {
  action: TaskAction;
  set?: TaskChange['set'];
  comment?: string;
  data?: Record<string, unknown>;
}

const restartActions: ReadonlySet<TaskAction> = new Set(['created', 'reopened', 'forwarded']);

/** When the current SLA clock started: the last filing, reopening or forward (each set a new dueAt). */
export function slaStart(task: Task, event?: Pick<TaskEvent, 'action' | 'entry'>): Date {
  const restarts = (task.history ?? []).filter((entry) => restartActions.has(entry.action));
  if (restarts.length) return new Date(restarts[restarts.length - 1].at);
  if (event && restartActions.has(event.action)) return new Date(event.entry.at);
  return new Date(task.createdAt);
}

/**
 * The instants of the warning and the breach for the task's current due time, or null when no
 * timer should run. The warning falls when `warnRatio` of the SLA's business minutes have passed.
 */
export function slaTimes(task: Task, warnRatio: number, hours: BusinessHours, timeZone: string, event?: Pick<TaskEvent, 'action' | 'entry'>): { warnAt: Date; dueAt: Date } | null {
  if (!activeTaskStatuses.has(task.status)) return null;
  const dueAt = new Date(task.dueAt);
  const warnAt = addBusinessMinutes(slaStart(task, event), task.slaMinutes * warnRatio, hours, timeZone);
  return { warnAt: warnAt < dueAt ? warnAt : dueAt, dueAt };
}

/** Deterministic per task, step and due time: a re-delivery is ignored, a new dueAt gets new jobs. BullMQ ids may not contain ':'. */
export function slaJobId(step: SlaStep, taskId: string, dueAt: string | Date): string {
  return `sla-${step}-${taskId}-${new Date(dueAt).getTime()}`;
}

/** Whether the timer set for `dueAt` still concerns the task (active, same due time). */
export function timerStillApplies(task: Task, dueAt: string): boolean {
  return activeTaskStatuses.has(task.status) && Date.parse(task.dueAt) === Date.parse(dueAt);
}

export function warnChange(task: Task, dueAt: string, now: Date): SlaChange | null {
  if (!timerStillApplies(task, dueAt) || task.warnedAt || task.breachedAt) return null;
  return {
    action: 'sla_warned',
    set: { warnedAt: now },
    comment: `Due at ${task.dueAt}: most of the time to handle it has passed`,
    data: { dueAt: task.dueAt },
  };
}

/**
 * Quiet hours: the head is not alerted while the department is closed, unless the task is urgent.
 * A breach that falls outside business hours (e.g. a task due at closing time, or a worker that ran
 * late) is recorded at once (breachedAt, priority raised: the board shows it) but the escalation to
 * the head waits for the next opening. Returns the instant to escalate at, `now` meaning at once.
 */
export function escalationTime(task: Pick<Task, 'priority'>, now: Date, hours: BusinessHours, timeZone: string): Date {
  if (task.priority === 'urgent' || isOpenAt(now, hours, timeZone)) return now;
  return nextOpening(now, hours, timeZone);
}

export interface EscalationTarget {
  headUserId?: string;
  headName?: string;
}

function escalationComment(task: Task, head: EscalationTarget): string {
  const who = head.headUserId ? `department head ${head.headName ?? head.headUserId} (${head.headUserId})` : 'nobody: the department has no head';
  return `SLA breached (due ${task.dueAt}); escalated to ${who}`;
}

/** The breach: recorded at once; `escalate` false records it quietly (priority_raised) for a later escalation. */
export function breachChange(task: Task, dueAt: string, now: Date, escalate: boolean, head: EscalationTarget): SlaChange | null {
  if (!timerStillApplies(task, dueAt) || task.breachedAt) return null;
  const priority = raisedPriority(task.priority);
  const set: TaskChange['set'] = { breachedAt: now, priority };
  const data = { dueAt: task.dueAt, fromPriority: task.priority, toPriority: priority };
  if (escalate) return { action: 'sla_breached', set, comment: escalationComment(task, head), data: { ...data, escalatedTo: head.headUserId } };
  return { action: 'priority_raised', set, comment: `SLA breached (due ${task.dueAt}) outside business hours; the department head is told at the next opening`, data };
}

/**
 * The deferred escalation, while the breach still stands. Whether it was already sent is read from
 * the history (`escalated`), which the caller checks first: system changes see the task without it.
 */
export function escalationChange(task: Task, dueAt: string, head: EscalationTarget): SlaChange | null {
  if (!timerStillApplies(task, dueAt) || !task.breachedAt) return null;
  return { action: 'sla_breached', comment: escalationComment(task, head), data: { dueAt: task.dueAt, escalatedTo: head.headUserId, deferred: true } };
}

/** Whether the head was already told of the breach of this due time (needs the task with its history). */
export function escalated(task: Task, dueAt: string): boolean {
  return (task.history ?? []).some((entry) => entry.action === 'sla_breached' && typeof entry.data?.dueAt === 'string' && Date.parse(entry.data.dueAt) === Date.parse(dueAt));
}

/** One SLA timer a task should have: the step, the instant it falls, and the due time it is for. */
export interface DueSlaTimer {
  step: SlaStep;
  at: Date;
  dueAt: string;
}

/**
 * The timers MongoDB says a task still needs (the reconciler re-creates them when Redis lost its
 * jobs): for an active task not breached, the warning unless already recorded and the breach; for
 * a task breached quietly (outside business hours) whose head was not told yet, the escalation at
 * the next opening. A step already past due falls at once (`at` in the past: the job runs now).
 */
export function dueSlaTimers(task: Task, warnRatio: number, hours: BusinessHours, timeZone: string, now: Date): DueSlaTimer[] {
  if (!activeTaskStatuses.has(task.status)) return [];
  if (task.breachedAt) return escalated(task, task.dueAt) ? [] : [{ step: 'escalate', at: nextOpening(now, hours, timeZone), dueAt: task.dueAt }];
  const times = slaTimes(task, warnRatio, hours, timeZone);
  if (!times) return [];
  return [...(task.warnedAt ? [] : [{ step: 'warn' as const, at: times.warnAt, dueAt: task.dueAt }]), { step: 'breach', at: times.dueAt, dueAt: task.dueAt }];
}

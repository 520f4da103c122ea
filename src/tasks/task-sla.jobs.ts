import type { Job, Queue } from 'bullmq';
import { nextOpening } from './business-hours';
import type { Logger } from '../platform/logger';
import type { QueueFactory } from '../platform/queues';
import type { Department, DepartmentService } from './department.service';
import { activeTaskStatuses, type TaskEvent } from './task.contracts';
import { breachChange, escalated, escalationChange, escalationTime, slaJobId, slaTimes, timerStillApplies, warnChange, type EscalationTarget, type SlaStep } from './task-sla';
import type { TaskService, TaskUsers } from './task.service';

/**
 * SLA timers of follow-up tasks as BullMQ delayed jobs (they survive the process that set them).
 * On every task event an active task gets a `warn` and a `breach` job for its current due time,
 * under ids made of task id + step + dueAt: a re-delivered event adds nothing, a new dueAt (reopen,
 * forward) adds new jobs, and the old ones find the due time changed and do nothing. Jobs of tasks
 * that finish are left to run and see the task is no longer active. Changes are recorded through
 * `TaskService.recordSystemChange`; the realtime fan-out delivers `sla_warned` / `sla_breached`.
 */
export const taskSlaQueue = 'task-sla';

/** Ids only; the processor reads the task back. */
export interface TaskSlaJob {
  step: SlaStep;
  taskId: string;
  /** The due time the job was set for (ISO); a task with another dueAt is left alone. */
  dueAt: string;
}

export interface TaskSlaDeps {
  queues: QueueFactory;
  tasks: TaskService;
  departments: DepartmentService;
  users: TaskUsers;
  log: Logger;
  /** Share of the SLA's business time after which the owner is warned (SLA_WARN_RATIO). */
  warnRatio: number;
  /**
   * Multiplies job delays only (SLA_TIME_SCALE, default 1). Tests use e.g. 0.01 so a 1-minute SLA
   * fires in 0.6 s; due times, business hours and the stored instants stay real.
   */
  timeScale: number;
  now?: () => Date;
}

export interface TaskSlaTimers {
  /** Schedules the task's timers for its current due time (what the event listener does). */
  schedule(event: TaskEvent): Promise<void>;
  /** The processor, exposed so a job can be run directly. */
  process(job: TaskSlaJob): Promise<void>;
}

// A few retries ride out a store blip; every step re-checks the task, so a retry is harmless.
const jobOptions = { attempts: 5, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: { count: 1000 } } as const;

/** Registers the task-event listener (every process) and starts the worker (worker role only). */
export function startTaskSlaTimers(deps: TaskSlaDeps): TaskSlaTimers {
  const { tasks, departments, users, log } = deps;
  const now = deps.now ?? (() => new Date());
  const queue: Queue<TaskSlaJob> = deps.queues.queue<TaskSlaJob>(taskSlaQueue, jobOptions);
  if (deps.timeScale !== 1) log.warn({ timeScale: deps.timeScale }, 'SLA timers run on a scaled clock (tests only)');

  const delayUntil = (at: Date) => Math.max(0, Math.round((at.getTime() - now().getTime()) * deps.timeScale));
  const add = (job: TaskSlaJob, at: Date) => queue.add(job.step, job, { jobId: slaJobId(job.step, job.taskId, job.dueAt), delay: delayUntil(at) });

  async function schedule(event: TaskEvent): Promise<void> {
    const { task } = event;
    if (!activeTaskStatuses.has(task.status) || task.breachedAt) return;
    const department = await departments.get(task.departmentId);
    const times = slaTimes(task, deps.warnRatio, department.businessHours, department.timezone, event);
    if (!times) return;
    await Promise.all([
      task.warnedAt ? undefined : add({ step: 'warn', taskId: task.id, dueAt: task.dueAt }, times.warnAt),
      add({ step: 'breach', taskId: task.id, dueAt: task.dueAt }, times.dueAt),
    ]);
  }

  async function headOf(department: Department): Promise<EscalationTarget> {
    if (!department.headUserId) return {};
    const head = await users.getUser(department.headUserId).catch(() => undefined);
    return { headUserId: department.headUserId, headName: head?.name };
  }

  /** Records a system change; true when `decide` made one (it runs again after a lost race). */
  async function record(taskId: string, decide: Parameters<TaskService['recordSystemChange']>[1]): Promise<boolean> {
    let decided = false;
    await tasks.recordSystemChange(taskId, (current) => {
      const change = decide(current);
      decided = change !== null;
      return change;
    });
    return decided;
  }

  async function process(job: TaskSlaJob): Promise<void> {
    const task = await tasks.findTask(job.taskId);
    if (!task || !timerStillApplies(task, job.dueAt)) return;
    const department = await departments.get(task.departmentId);
    const at = now();
    const context = { taskId: task.id, departmentId: department.id, step: job.step };
    switch (job.step) {
      case 'warn': {
        if (await record(task.id, (current) => warnChange(current, job.dueAt, at))) log.info(context, 'sla warning recorded');
        return;
      }
      case 'breach': {
        if (!task.breachedAt) {
          const escalateNow = escalationTime(task, at, department.businessHours, department.timezone).getTime() <= at.getTime();
          const head = await headOf(department);
          if (await record(task.id, (current) => breachChange(current, job.dueAt, at, escalateNow, head))) log.info({ ...context, escalateNow }, 'sla breach recorded');
        }
        // A quiet breach needs its escalation scheduled; checked again from the store, so a retry
        // after the breach was recorded (but before the job was added) still schedules it.
        const after = await tasks.findTask(task.id);
        if (!after || !timerStillApplies(after, job.dueAt) || !after.breachedAt || escalated(after, job.dueAt)) return;
        // Not escalationTime(after): the breach may have raised the task to urgent, yet it stays quiet.
        const escalateAt = nextOpening(at, department.businessHours, department.timezone);
        await add({ step: 'escalate', taskId: task.id, dueAt: job.dueAt }, escalateAt);
        log.info({ ...context, escalateAt: escalateAt.toISOString() }, 'sla escalation deferred to the next opening');
        return;
      }
      case 'escalate': {
        // Job ids make this job run once per due time; the history check covers a retry after the write.
        if (escalated(task, job.dueAt)) return;
        const head = await headOf(department);
        if (await record(task.id, (current) => escalationChange(current, job.dueAt, head))) log.info(context, 'sla escalation recorded');
        return;
      }
    }
  }

  tasks.onEvent(schedule, 'must-succeed', 'task-sla');
  deps.queues.worker<TaskSlaJob>(taskSlaQueue, (job: Job<TaskSlaJob>) => process(job.data));
  return { schedule, process };
}

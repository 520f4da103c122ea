import type { Job, Queue } from 'bullmq';
import { nextOpening } from './business-hours';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { QueueFactory } from '../platform/queues';
import type { Repair } from '../platform/repair';
import { restoreJob } from '../platform/repair-jobs';
import type { Department, DepartmentService } from './department.service';
import { activeTaskStatuses, type TaskEvent } from './task.contracts';
import { breachChange, dueSlaTimers, escalated, escalationChange, escalationTime, slaJobId, slaTimes, timerStillApplies, warnChange, type EscalationTarget, type SlaStep } from './task-sla';
import type { TaskScanRepository } from './task-scan.repository';
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
  /** The reconciler's reads: open tasks, to re-create their timers after Redis lost them. */
  scan: Pick<TaskScanRepository, 'active'>;
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
  /** Re-creates the warning, breach and escalation jobs open tasks still need (issue 13's reconciler runs it). */
  repair: Repair;
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

  /**
   * Every active task's due steps, from MongoDB: under the same job ids as `schedule`, so a job
   * still in Redis is left alone, and with the delay left (none for a step already past due).
   */
  async function repairTimers(): Promise<number> {
    let restored = 0;
    const at = now();
    // Read once per run: open tasks are many, departments few.
    const seen = new Map<string, Promise<Department | undefined>>();
    const departmentOf = (id: string) => {
      let found = seen.get(id);
      if (!found) {
        found = departments.get(id).catch((error: unknown) => {
          // A task of a deleted department has no hours to time it by; anything else is retried next run.
          if (error instanceof AppError && error.code === 'not_found') return undefined;
          throw error;
        });
        seen.set(id, found);
      }
      return found;
    };
    for await (const task of deps.scan.active()) {
      const department = await departmentOf(task.departmentId);
      if (!department) continue;
      for (const timer of dueSlaTimers(task, deps.warnRatio, department.businessHours, department.timezone, at)) {
        const job: TaskSlaJob = { step: timer.step, taskId: task.id, dueAt: timer.dueAt };
        const added = await restoreJob(queue, job.step, job, { jobId: slaJobId(job.step, job.taskId, job.dueAt), delay: delayUntil(timer.at) });
        if (added) log.info({ taskId: task.id, step: job.step, overdue: timer.at.getTime() <= at.getTime() }, 'sla timer restored');
        restored += added;
      }
    }
    return restored;
  }

  tasks.onEvent(schedule, 'must-succeed', 'task-sla');
  deps.queues.worker<TaskSlaJob>(taskSlaQueue, (job: Job<TaskSlaJob>) => process(job.data));
  return { schedule, process, repair: { name: 'task-sla-timers', run: repairTimers } };
}

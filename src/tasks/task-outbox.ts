import { Types } from 'mongoose';
import type { Logger } from '../platform/logger';
import type { Repair } from '../platform/repair';
import type { Task, TaskEvent, TaskStatus } from './task.contracts';
import type { TaskRepository } from './task.repository';

/*
 * The task outbox. Every task write (filing, each change) pushes its new history entry's id onto
 * the task's `pendingEvents` in the same MongoDB write; the task service pulls it again once every
 * must-succeed listener (SLA timers, customer notices, webhooks, reports) has succeeded for that
 * event. An id still there after the grace period means the node died in between, or a listener
 * failed: the dispatcher below rebuilds the event from the stored task and runs the must-succeed
 * listeners again (they are idempotent: deterministic job ids, notification keys, delivery ids,
 * fact marks), then pulls the id. Best-effort listeners (live pushes) are not replayed.
 *
 * The dispatcher finds such tasks through `task_outbox` pointers, one per task changed lately,
 * written just before the task write (so never missing while the task holds an id), and dropped
 * by the dispatcher once the task's outbox is empty.
 */

/**
 * The event a history entry was published as, rebuilt from the task as stored now (with history).
 * `previousStatus` is the entry's `fromStatus`, or for a change that did not move the status, the
 * status the history says the task had then; `previousDepartmentId` comes from a forward's data.
 */
export function replayedEvent(task: Task, entryId: string): TaskEvent | null {
  const history = task.history ?? [];
  const index = history.findIndex((entry) => entry.id === entryId);
  if (index < 0) return null;
  const entry = history[index];
  if (entry.action === 'created') return { type: 'task_created', action: 'created', task, entry };
  const fromDepartmentId = entry.action === 'forwarded' && typeof entry.data?.fromDepartmentId === 'string' ? entry.data.fromDepartmentId : undefined;
  return {
    type: 'task_updated',
    action: entry.action,
    task,
    entry,
    previousStatus: entry.fromStatus ?? statusBefore(history.slice(0, index)),
    ...(fromDepartmentId ? { previousDepartmentId: fromDepartmentId } : {}),
  };
}

/** The status after the last entry that set one (a task is filed `open`). */
function statusBefore(earlier: NonNullable<Task['history']>): TaskStatus {
  for (let i = earlier.length - 1; i >= 0; i--) {
    const to = earlier[i].toStatus;
    if (to) return to;
  }
  return 'open';
}

/** The smallest ObjectId hex of the second `at` falls in: entry ids below it were made before. */
export function entryIdBefore(at: Date): string {
  return Types.ObjectId.createFromTime(Math.floor(at.getTime() / 1000)).toHexString();
}

export interface TaskOutboxDeps {
  repository: Pick<TaskRepository, 'outboxPointers' | 'pendingEventsOf' | 'dropOutboxPointer'>;
  /** Runs the must-succeed listeners of one stored event again; true when all succeeded (the id is then pulled). */
  redeliver(taskId: string, entryId: string): Promise<boolean>;
  /** How old an outbox id must be before it counts as lost (longer than a normal publish). */
  graceMs: number;
  /** How often `start()` dispatches on this node. */
  intervalMs: number;
  log: Logger;
  now?: () => Date;
}

const pageSize = 100;

/** What the last dispatch found (for /metrics: outbox lag and redeliveries). */
export interface TaskOutboxStats {
  /** When the last dispatch ended; undefined before the first. */
  at?: Date;
  delivered: number;
  failed: number;
  /** Age of the oldest owed event the last dispatch found (0 when none was past the grace). */
  oldestAgeMs: number;
}

/** When an ObjectId hex was made (its leading 8 hex digits are seconds since the epoch). */
const madeAt = (id: string) => parseInt(id.slice(0, 8), 16) * 1000;

/**
 * The dispatcher: a Repair (the reconciler may run it) with its own timer on every node. Nodes
 * need no coordination: two replaying one event run idempotent listeners twice and do the work
 * once. One run at a time per node (a tick that finds one running joins it).
 */
export class TaskOutbox implements Repair {
  readonly name = 'task-outbox';
  private running: Promise<number> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => Date;
  private last: TaskOutboxStats = { delivered: 0, failed: 0, oldestAgeMs: 0 };

  constructor(private readonly deps: TaskOutboxDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Redelivers every outbox event older than the grace; returns how many were delivered now. */
  run(): Promise<number> {
    this.running ??= this.dispatch().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** What the last dispatch on this node found. */
  stats(): TaskOutboxStats {
    return { ...this.last };
  }

  /** Dispatches every `intervalMs` on this node until `close()`. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.run().catch((error: unknown) => this.deps.log.warn({ err: error }, 'task outbox dispatch failed; next tick retries'));
    }, this.deps.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async dispatch(): Promise<number> {
    const started = this.now();
    const before = entryIdBefore(new Date(started.getTime() - this.deps.graceMs));
    let after = '';
    let delivered = 0;
    let failed = 0;
    let oldest: string | undefined;
    for (;;) {
      const pointers = await this.deps.repository.outboxPointers(before, after, pageSize);
      for (const pointer of pointers) {
        const result = await this.dispatchTask(pointer._id, pointer.entryId, before);
        delivered += result.delivered;
        failed += result.failed;
        if (result.oldest && (!oldest || result.oldest < oldest)) oldest = result.oldest;
      }
      if (pointers.length < pageSize) break;
      after = pointers[pointers.length - 1].entryId;
    }
    const oldestAgeMs = oldest ? Math.max(0, started.getTime() - madeAt(oldest)) : 0;
    this.last = { at: this.now(), delivered, failed, oldestAgeMs };
    if (delivered || failed) this.deps.log.info({ delivered, failed, oldestAgeMs }, 'task outbox events redelivered');
    return delivered;
  }

  /** Redelivers the task's outbox ids older than `before`, oldest first; drops its pointer once the outbox is empty. */
  private async dispatchTask(taskId: string, announced: string, before: string): Promise<{ delivered: number; failed: number; oldest?: string }> {
    let delivered = 0;
    let failed = 0;
    const pending = await this.deps.repository.pendingEventsOf(taskId);
    // Oldest first: a task's events reach the listeners in the order they happened.
    const due = [...(pending ?? [])].filter((id) => id < before).sort();
    for (const entryId of due) {
      try {
        if (await this.deps.redeliver(taskId, entryId)) delivered += 1;
        else failed += 1;
      } catch (error) {
        failed += 1;
        this.deps.log.warn({ err: error, taskId, entryId }, 'task event redelivery failed; next tick retries');
      }
    }
    // Read again: a failed one stays, and a change may have added one (its writer announced it, so
    // the conditional drop keeps the pointer).
    const left = pending === null || due.length === 0 ? pending : await this.deps.repository.pendingEventsOf(taskId);
    if (!left?.length) await this.deps.repository.dropOutboxPointer(taskId, announced);
    return { delivered, failed, ...(due.length ? { oldest: due[0] } : {}) };
  }
}

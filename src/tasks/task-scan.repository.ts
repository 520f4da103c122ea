import mongoose, { type Connection, type Model } from 'mongoose';
import { scanById } from '../platform/repair-jobs';
import { activeTaskStatuses, type Task } from './task.contracts';
import { toTask } from './task.mappers';
import { taskModels, type TaskDocument } from './task.model';

/**
 * The reconciler's reads of tasks (issue 13): whole-collection scans in `_id` order, a page at a
 * time, kept apart from TaskRepository (the request path) because they serve only the repairs.
 * Attachments are left out; the history is needed (SLA start, recorded warnings and notifications).
 */
export class TaskScanRepository {
  private readonly Task: Model<TaskDocument>;

  constructor(connection: Connection) {
    this.Task = taskModels(connection).Task;
  }

  /** Tasks still being worked (open, accepted, in progress, reopened): the ones with SLA timers. */
  async *active(): AsyncGenerator<Task> {
    for await (const stored of scanById(this.Task, { status: mongoose.trusted({ $in: [...activeTaskStatuses] }) }, { projection: { attachments: 0 } })) yield toTask(stored);
  }

  /** Tasks changed since `since`: the ones whose customer notifications may still be owed. */
  async *changedSince(since: Date): AsyncGenerator<Task> {
    for await (const stored of scanById(this.Task, { updatedAt: mongoose.trusted({ $gte: since }) }, { projection: { attachments: 0 } })) yield toTask(stored);
  }
}

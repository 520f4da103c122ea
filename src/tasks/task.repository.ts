import mongoose, { type Connection, type Model } from 'mongoose';
import { isDuplicateKeyError } from '../platform/errors';
import type { TaskPriority, TaskStatus } from './task.contracts';
import { taskModels, type CounterDocument, type CustomerOpenTasksDocument, type OpenTaskSummary, type StoredAttachment, type StoredHistoryEntry, type TaskDocument, type TaskOutboxPointerDocument } from './task.model';

export interface TaskChange {
  set?: Partial<Omit<TaskDocument, '_id' | 'history' | 'version' | 'createdAt'>>;
  unset?: Array<keyof TaskDocument>;
  entry: StoredHistoryEntry;
  attachment?: StoredAttachment;
}

export interface TaskFilter {
  departmentId?: string;
  /** Any of these departments (an API key limited to departments). */
  departmentIds?: string[];
  statuses?: TaskStatus[];
  typeCode?: string;
  assigneeId?: string;
  /** Tasks filed by this user. */
  createdById?: string;
  /** Tasks this user watches. */
  watcherId?: string;
  customerId?: string;
  priority?: TaskPriority;
  /** Due before this instant (the caller passes now and active statuses for "overdue"). */
  dueBefore?: Date;
}

const listProjection = { history: 0 } as const;

/**
 * Data access for tasks. Every change is one conditional update on `_id` + `version`, so a lost
 * race is seen, not overwritten. (Stock FerretDB 1.24 on SQLite does not apply single-document
 * updates atomically; the build scripts/services.sh makes does — see the store test.)
 */
export class TaskRepository {
  private readonly Task: Model<TaskDocument>;
  private readonly Counter: Model<CounterDocument>;
  private readonly CustomerOpenTasks: Model<CustomerOpenTasksDocument>;
  private readonly OutboxPointer: Model<TaskOutboxPointerDocument>;

  constructor(connection: Connection) {
    ({ Task: this.Task, Counter: this.Counter, CustomerOpenTasks: this.CustomerOpenTasks, OutboxPointer: this.OutboxPointer } = taskModels(connection));
  }

  /**
   * Keeps the customer's open-task index in step with the task. One field per task, so changes to
   * two tasks of one customer never overwrite each other; a write only lands over an older version
   * (two changes of one task may reach here out of order), and a closed task stays as a closed
   * entry, so a late write of its earlier state cannot bring it back.
   */
  async indexForCustomer(task: TaskDocument, previousCustomerId?: string): Promise<void> {
    const field = `tasks.${task._id}`;
    if (previousCustomerId && previousCustomerId !== task.customerId) {
      await this.CustomerOpenTasks.updateOne({ _id: previousCustomerId }, { $unset: { [field]: '' } }).exec();
    }
    const summary: OpenTaskSummary = {
      id: task._id, reference: task.reference, title: task.title, status: task.status, priority: task.priority,
      departmentId: task.departmentId, typeCode: task.typeCode, dueAt: task.dueAt, version: task.version,
    };
    // trusted() on each operator object: sanitizeFilter would turn them into $eq matches.
    const olderOrAbsent = { $or: [{ [field]: mongoose.trusted({ $exists: false }) }, { [`${field}.version`]: mongoose.trusted({ $lt: task.version }) }] };
    try {
      await this.CustomerOpenTasks.updateOne({ _id: task.customerId, ...olderOrAbsent }, { $set: { [field]: summary } }, { upsert: true }).exec();
    } catch (error) {
      // The upsert found the document but a newer version of this task in it: nothing to do.
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  async openTasksOf(customerId: string): Promise<OpenTaskSummary[]> {
    const stored = await this.CustomerOpenTasks.findById(customerId).lean<CustomerOpenTasksDocument>().exec();
    return Object.values(stored?.tasks ?? {}).filter((task) => task.status !== 'closed');
  }

  /**
   * Ids of every task that names or is indexed under this customer (closed ones too): a merge must
   * move them all. A scan of the tasks on FerretDB, which is fine for a rare supervisor action; the
   * index document adds tasks already moved whose index entry a crash left behind.
   */
  async taskIdsOfCustomer(customerId: string): Promise<string[]> {
    const [named, indexed] = await Promise.all([
      this.Task.find({ customerId }, { _id: 1 }).lean<Array<{ _id: string }>>().exec(),
      this.CustomerOpenTasks.findById(customerId).lean<CustomerOpenTasksDocument>().exec(),
    ]);
    return [...new Set([...named.map((task) => task._id), ...Object.keys(indexed?.tasks ?? {})])];
  }

  async nextReference(): Promise<string> {
    const counter = await this.Counter.findOneAndUpdate({ _id: 'task' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' }).lean<CounterDocument>().exec();
    return referenceOf(counter!.seq);
  }

  async insert(task: TaskDocument): Promise<TaskDocument> {
    return (await this.Task.create(task)).toObject();
  }

  findById(id: string): Promise<TaskDocument | null> {
    return this.Task.findById(id).lean<TaskDocument>().exec();
  }

  findByReference(reference: string): Promise<TaskDocument | null> {
    return this.Task.findOne({ reference }).lean<TaskDocument>().exec();
  }

  /**
   * Applies the change when the task is still at `expectedVersion`; null when someone changed it
   * first. The entry's id goes into the outbox (`pendingEvents`) in the same write.
   */
  applyChange(id: string, expectedVersion: number, change: TaskChange): Promise<TaskDocument | null> {
    const update: Record<string, unknown> = {
      // The change's own time (the service's clock), so a replayed history keeps its dates.
      $set: { ...change.set, updatedAt: change.entry.at },
      $inc: { version: 1 },
      $push: { history: change.entry, pendingEvents: change.entry._id, ...(change.attachment ? { attachments: change.attachment } : {}) },
    };
    if (change.unset?.length) update.$unset = Object.fromEntries(change.unset.map((field) => [field, '']));
    return this.Task.findOneAndUpdate({ _id: id, version: expectedVersion }, update, { returnDocument: 'after', timestamps: false }).lean<TaskDocument>().exec();
  }

  /**
   * Takes an event out of the outbox once its must-succeed listeners all succeeded; not a change
   * (no version bump). Returns the ids still owed (null when the task is gone).
   */
  async clearPendingEvent(id: string, entryId: string): Promise<string[] | null> {
    // No projection: FerretDB's findAndModify does not implement one.
    const after = await this.Task.findOneAndUpdate({ _id: id }, { $pull: { pendingEvents: entryId } }, { returnDocument: 'after', timestamps: false })
      .lean<Pick<TaskDocument, '_id' | 'pendingEvents'>>()
      .exec();
    return after ? (after.pendingEvents ?? []) : null;
  }

  /** Tells the dispatcher to look at the task; written before the task write that adds `entryId` to its outbox. */
  async announceOutbox(id: string, entryId: string): Promise<void> {
    await this.OutboxPointer.updateOne({ _id: id }, { $set: { entryId } }, { upsert: true }).exec();
  }

  /** Pointers announced before `beforeId` (entry ids are ObjectIds: their leading hex digits are the second they were made), after `afterId`, oldest first. */
  outboxPointers(beforeId: string, afterId: string, limit: number): Promise<TaskOutboxPointerDocument[]> {
    return this.OutboxPointer.find({ entryId: mongoose.trusted({ $lt: beforeId, $gt: afterId }) }).sort({ entryId: 1, _id: 1 }).limit(limit).lean<TaskOutboxPointerDocument[]>().exec();
  }

  /** The task's outbox ids; null when the task does not exist. */
  async pendingEventsOf(id: string): Promise<string[] | null> {
    const task = await this.Task.findById(id, { pendingEvents: 1 }).lean<Pick<TaskDocument, '_id' | 'pendingEvents'>>().exec();
    return task ? (task.pendingEvents ?? []) : null;
  }

  /** Drops the pointer unless a writer announced another entry meanwhile. */
  async dropOutboxPointer(id: string, entryId: string): Promise<void> {
    await this.OutboxPointer.deleteOne({ _id: id, entryId }).exec();
  }

  list(filter: TaskFilter, options: { sort: 'dueAt' | '-createdAt' | '-updatedAt'; limit: number; skip: number }): Promise<TaskDocument[]> {
    const query: Record<string, unknown> = {};
    if (filter.departmentId) query.departmentId = filter.departmentId;
    else if (filter.departmentIds) query.departmentId = mongoose.trusted({ $in: filter.departmentIds });
    // trusted() per operator object: sanitizeFilter looks at each value, so trusting the outer filter is not enough.
    if (filter.statuses?.length) query.status = mongoose.trusted({ $in: filter.statuses });
    if (filter.typeCode) query.typeCode = filter.typeCode;
    if (filter.assigneeId) query.assigneeId = filter.assigneeId;
    if (filter.createdById) query['createdBy.id'] = filter.createdById;
    if (filter.watcherId) query.watcherIds = filter.watcherId;
    if (filter.customerId) query.customerId = filter.customerId;
    if (filter.priority) query.priority = filter.priority;
    if (filter.dueBefore) query.dueAt = mongoose.trusted({ $lt: filter.dueBefore });
    const sort: Record<string, 1 | -1> = options.sort === 'dueAt' ? { dueAt: 1, _id: 1 } : { [options.sort.slice(1)]: -1, _id: -1 };
    return this.Task.find(query, listProjection).sort(sort).skip(options.skip).limit(options.limit).lean<TaskDocument[]>().exec();
  }
}

const referenceOf = (seq: number) => `T-${String(seq).padStart(6, '0')}`;

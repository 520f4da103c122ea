import mongoose, { type Connection, type Model } from 'mongoose';
import type { TaskPriority, TaskStatus } from './task.contracts';
import { taskModels, type CounterDocument, type StoredAttachment, type StoredHistoryEntry, type TaskDocument } from './task.model';

export interface TaskChange {
  set?: Partial<Omit<TaskDocument, '_id' | 'history' | 'version' | 'createdAt'>>;
  unset?: Array<keyof TaskDocument>;
  entry: StoredHistoryEntry;
  attachment?: StoredAttachment;
}

export interface TaskFilter {
  departmentId?: string;
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

  constructor(connection: Connection) {
    ({ Task: this.Task, Counter: this.Counter } = taskModels(connection));
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

  /** Applies the change when the task is still at `expectedVersion`; null when someone changed it first. */
  applyChange(id: string, expectedVersion: number, change: TaskChange): Promise<TaskDocument | null> {
    const update: Record<string, unknown> = {
      // The change's own time (the service's clock), so a replayed history keeps its dates.
      $set: { ...change.set, updatedAt: change.entry.at },
      $inc: { version: 1 },
      $push: { history: change.entry, ...(change.attachment ? { attachments: change.attachment } : {}) },
    };
    if (change.unset?.length) update.$unset = Object.fromEntries(change.unset.map((field) => [field, '']));
    return this.Task.findOneAndUpdate({ _id: id, version: expectedVersion }, update, { returnDocument: 'after', timestamps: false }).lean<TaskDocument>().exec();
  }

  list(filter: TaskFilter, options: { sort: 'dueAt' | '-createdAt' | '-updatedAt'; limit: number; skip: number }): Promise<TaskDocument[]> {
    const query: Record<string, unknown> = {};
    if (filter.departmentId) query.departmentId = filter.departmentId;
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

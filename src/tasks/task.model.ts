import { Schema, type Connection, type Model } from 'mongoose';
import type { CommentVisibility, TaskAction, TaskActor, TaskPriority, TaskStatus } from './task.contracts';

export interface StoredHistoryEntry {
  _id: string;
  at: Date;
  action: TaskAction;
  actor: TaskActor;
  fromStatus?: TaskStatus;
  toStatus?: TaskStatus;
  comment?: string;
  visibility?: CommentVisibility;
  data?: Record<string, unknown>;
  /** The task version this change made (entries written before the outbox have none). */
  version?: number;
}

export interface StoredAttachment {
  _id: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  uploadedBy: string;
  at: Date;
}

export interface TaskDocument {
  _id: string;
  reference: string;
  departmentId: string;
  typeCode: string;
  title: string;
  description: string;
  fields: Record<string, string>;
  checklist: Array<{ item: string; done: boolean }>;
  priority: TaskPriority;
  status: TaskStatus;
  ownerId?: string;
  assigneeId?: string;
  createdBy: TaskActor;
  customerId: string;
  interactionId?: string;
  customerChannel?: 'voice' | 'sms' | 'email';
  watcherIds: string[];
  slaMinutes: number;
  dueAt: Date;
  warnedAt?: Date;
  breachedAt?: Date;
  acceptedAt?: Date;
  resolvedAt?: Date;
  rejectedAt?: Date;
  verifiedAt?: Date;
  closedAt?: Date;
  resolution?: string;
  rejectionReason?: string;
  reopenCount: number;
  attachments: StoredAttachment[];
  history: StoredHistoryEntry[];
  /**
   * The outbox: ids of history entries whose must-succeed listeners have not all succeeded yet.
   * Pushed in the same write as the entry, pulled once they did (see task-outbox.ts).
   */
  pendingEvents?: string[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Task references (T-000123) come from one counter document, incremented atomically: never count + 1. */
export interface CounterDocument {
  _id: string;
  seq: number;
}

const taskSchema = new Schema<TaskDocument>(
  {
    _id: { type: String, required: true },
    reference: { type: String, required: true },
    departmentId: { type: String, required: true },
    typeCode: { type: String, required: true },
    title: { type: String, required: true },
    description: { type: String, default: '' },
    fields: { type: Schema.Types.Mixed, default: () => ({}) },
    checklist: { type: [{ _id: false, item: String, done: Boolean }], default: [] },
    priority: { type: String, required: true },
    status: { type: String, required: true },
    ownerId: String,
    assigneeId: String,
    createdBy: { type: Schema.Types.Mixed, required: true },
    customerId: { type: String, required: true },
    interactionId: String,
    customerChannel: String,
    watcherIds: { type: [String], default: [] },
    slaMinutes: { type: Number, required: true },
    dueAt: { type: Date, required: true },
    warnedAt: Date,
    breachedAt: Date,
    acceptedAt: Date,
    resolvedAt: Date,
    rejectedAt: Date,
    verifiedAt: Date,
    closedAt: Date,
    resolution: String,
    rejectionReason: String,
    reopenCount: { type: Number, default: 0 },
    attachments: { type: Schema.Types.Mixed, default: () => [] },
    history: { type: Schema.Types.Mixed, default: () => [] },
    pendingEvents: { type: [String], default: () => [] },
    version: { type: Number, required: true, default: 1 },
  },
  { timestamps: true, versionKey: false, minimize: false },
);
// Integrations and customers quote the reference; it must name one task.
taskSchema.index({ reference: 1 }, { unique: true });
// The department board: a department's tasks by status and due time.
taskSchema.index({ departmentId: 1, status: 1, dueAt: 1 });
// "Tasks of this customer" on the screen pop.
taskSchema.index({ customerId: 1, createdAt: -1 });


/** A customer's tasks not closed yet, by task id: the screen pop reads them by primary key. */
export interface OpenTaskSummary {
  id: string;
  reference: string;
  title: string;
  status: TaskStatus;
  priority: TaskPriority;
  departmentId: string;
  typeCode: string;
  dueAt: Date;
  version: number;
}

export interface CustomerOpenTasksDocument {
  _id: string;
  tasks: Record<string, OpenTaskSummary>;
}

const customerOpenTasksSchema = new Schema<CustomerOpenTasksDocument>(
  { _id: { type: String, required: true }, tasks: { type: Schema.Types.Mixed, default: () => ({}) } },
  { versionKey: false, minimize: false },
);

const counterSchema = new Schema<CounterDocument>({ _id: { type: String, required: true }, seq: { type: Number, required: true } }, { versionKey: false });

/**
 * Where the outbox dispatcher looks: one small document per task changed lately, written BEFORE the
 * task write (the write itself holds the outbox ids in `pendingEvents`). `entryId` is the newest
 * entry id a writer announced; the dispatcher drops the pointer only while it still says that and
 * the task's outbox is empty. It spares the dispatcher a scan of every task (on FerretDB, which
 * does not use the index for array ranges, that took seconds per 10,000 tasks).
 */
export interface TaskOutboxPointerDocument {
  _id: string;
  entryId: string;
}

const outboxPointerSchema = new Schema<TaskOutboxPointerDocument>({ _id: { type: String, required: true }, entryId: { type: String, required: true } }, { versionKey: false });
// The dispatcher: pointers announced before the grace cutoff, oldest first.
outboxPointerSchema.index({ entryId: 1 });

export function taskModels(connection: Connection): { Task: Model<TaskDocument>; Counter: Model<CounterDocument>; CustomerOpenTasks: Model<CustomerOpenTasksDocument>; OutboxPointer: Model<TaskOutboxPointerDocument> } {
  return {
    OutboxPointer: connection.models.TaskOutboxPointer ?? connection.model<TaskOutboxPointerDocument>('TaskOutboxPointer', outboxPointerSchema, 'task_outbox'),
    CustomerOpenTasks:
      connection.models.CustomerOpenTasks ?? connection.model<CustomerOpenTasksDocument>('CustomerOpenTasks', customerOpenTasksSchema, 'customer_open_tasks'),
    Task: connection.models.Task ?? connection.model<TaskDocument>('Task', taskSchema, 'tasks'),
    Counter: connection.models.Counter ?? connection.model<CounterDocument>('Counter', counterSchema, 'counters'),
  };
}

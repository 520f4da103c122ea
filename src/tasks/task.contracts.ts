/**
 * The shapes other modules see of follow-up tasks: statuses, actions, the plain Task and the events
 * the task service publishes. Realtime, SLA timers, customer notifications, webhooks and reports all
 * react to `TaskEvent`s; none of them touches the task model.
 */

export const taskStatuses = ['open', 'accepted', 'in_progress', 'resolved', 'rejected', 'verified', 'closed', 'reopened'] as const;
export type TaskStatus = (typeof taskStatuses)[number];

/** Statuses in which the department still owes work; SLA timers run only in these. */
export const activeTaskStatuses: ReadonlySet<TaskStatus> = new Set(['open', 'accepted', 'in_progress', 'reopened']);

export const taskPriorities = ['low', 'normal', 'high', 'urgent'] as const;
export type TaskPriority = (typeof taskPriorities)[number];

/** Everything that can happen to a task; each is one entry in its history. */
export const taskActions = [
  'created',
  'accepted',
  'started',
  'resolved',
  'rejected',
  'verified',
  'closed',
  'reopened',
  'assigned',
  'forwarded',
  'commented',
  'attachment_added',
  'watchers_changed',
  'priority_raised',
  'sla_warned',
  'sla_breached',
  'customer_notified',
  'updated_by_integration',
  'customer_merged',
] as const;
export type TaskAction = (typeof taskActions)[number];

export type CommentVisibility = 'internal' | 'customer';

/** Who did it: a user, an integration's API key, the customer (by their reply), or the system (timers). */
export interface TaskActor {
  kind: 'user' | 'api_key' | 'customer' | 'system';
  id: string;
  name: string;
}

export interface TaskHistoryEntry {
  id: string;
  at: string;
  action: TaskAction;
  actor: TaskActor;
  fromStatus?: TaskStatus;
  toStatus?: TaskStatus;
  comment?: string;
  /** Comments only: `customer` comments may be sent to the customer; `internal` never leave. */
  visibility?: CommentVisibility;
  /** Action details, e.g. `{ fromDepartmentId, toDepartmentId }` for a forward. */
  data?: Record<string, unknown>;
  /** The task version this change made (absent on entries older than the outbox). */
  version?: number;
}

export interface TaskAttachment {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  uploadedBy: string;
  at: string;
}

export interface Task {
  id: string;
  /** Human reference, e.g. T-000123: quoted to customers and in templates. */
  reference: string;
  departmentId: string;
  typeCode: string;
  title: string;
  description: string;
  /** Values of the task type's required fields, e.g. `{ vin: 'LVTDB21B…' }`. */
  fields: Record<string, string>;
  checklist: Array<{ item: string; done: boolean }>;
  priority: TaskPriority;
  status: TaskStatus;
  /** The one person answerable for the task right now (assignee, else department head, else filer). */
  ownerId?: string;
  assigneeId?: string;
  /** The agent (or integration) who filed it; rejected tasks come back to them. */
  createdBy: TaskActor;
  customerId: string;
  interactionId?: string;
  /** The channel the customer used when the task was filed; notifications go back by it. */
  customerChannel?: 'voice' | 'sms' | 'email';
  watcherIds: string[];
  slaMinutes: number;
  dueAt: string;
  warnedAt?: string;
  breachedAt?: string;
  acceptedAt?: string;
  resolvedAt?: string;
  rejectedAt?: string;
  verifiedAt?: string;
  closedAt?: string;
  resolution?: string;
  rejectionReason?: string;
  reopenCount: number;
  attachments: TaskAttachment[];
  /** Bumped on every change; clients and integrations may send it back to detect a lost update. */
  version: number;
  createdAt: string;
  updatedAt: string;
  /** Oldest first. Omitted in list views. */
  history?: TaskHistoryEntry[];
}

/**
 * Published after every change is stored; `entry` is the history entry the change wrote. A
 * redelivered event (the outbox dispatcher, after a crash or a failed listener) carries the task
 * as it is stored now, which may be later than the change: key idempotent work by `entry.id` or
 * `entry.version`, never by `task.version`.
 */
export interface TaskEvent {
  type: 'task_created' | 'task_updated';
  action: TaskAction;
  task: Task;
  entry: TaskHistoryEntry;
  /** Status before the change (equal to `task.status` when the status did not move). */
  previousStatus?: TaskStatus;
  /** Department before a forward. */
  previousDepartmentId?: string;
}

export type TaskEventListener = (event: TaskEvent) => Promise<void>;

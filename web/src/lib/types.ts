/**
 * The server's shapes as the browser sees them (JSON). Mirrors src/routing/routing.contracts.ts,
 * src/realtime/screen-pop.ts and the zod response schemas; the UI does not import server code so it
 * type-checks with the DOM library alone.
 */

export type Role = 'admin' | 'supervisor' | 'agent' | 'department' | 'integration';
export type Locale = 'en' | 'zh-CN';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  departmentId?: string;
  active: boolean;
  locale: Locale;
}

export type Channel = 'voice' | 'sms' | 'email' | 'web' | 'fax' | 'manual';
export type Direction = 'inbound' | 'outbound' | 'internal';
export type InteractionStatus = 'open' | 'queued' | 'offered' | 'active' | 'wrap_up' | 'closed' | 'abandoned' | 'failed';

export type AgentState = 'offline' | 'available' | 'away' | 'busy' | 'wrap_up';
export type RequestedAgentState = 'available' | 'away' | 'offline';

export interface Reservation {
  id: string;
  interactionId: string;
  agentId: string;
  queue: string;
  channel: Channel;
  state: 'pending' | 'accepted' | 'rejected' | 'timeout' | 'canceled' | 'rescinded';
  offeredAt: string;
  expiresAt: string;
  transfer?: { fromAgentId: string; note: string };
}

export interface AgentWorkItem {
  interactionId: string;
  channel: Channel;
  queue: string;
  phase: 'active' | 'wrap_up';
  since: string;
}

export interface AgentSnapshot {
  agentId: string;
  state: AgentState;
  stateReason?: string;
  stateSince: string;
  offers: Reservation[];
  work: AgentWorkItem[];
  load: number;
}

export interface QueueSnapshot {
  queue: string;
  waiting: number;
  longestWaitSeconds: number;
  agents: Record<AgentState, number>;
  offersInFlight: number;
  today: {
    day: string;
    timeZone: string;
    offered: number;
    answered: number;
    answeredWithinServiceLevel: number;
    abandoned: number;
    overflowed: number;
    serviceLevelSeconds: number;
    serviceLevel: number | null;
    /** Set when the server computes today from the reports' rollup (docs/kpis.md). */
    shortAbandoned?: number;
    asaSeconds?: number | null;
    abandonmentRate?: number | null;
  };
  at: string;
}

export interface WaitingContact {
  interactionId: string;
  queue: string;
  channel: Channel;
  customerId: string;
  enqueuedAt: string;
  waitSeconds: number;
}

export type AttributeValue = string | number | boolean;

export interface Customer {
  id: string;
  name: string;
  phones: { value: string; kind: string }[];
  emails: string[];
  tier: string;
  tags: string[];
  attributes: Record<string, AttributeValue>;
  createdAt: string;
  updatedAt: string;
}

export interface Entry {
  id: string;
  kind: 'message' | 'call_event' | 'note' | 'status_change' | 'attachment' | 'system';
  at: string;
  direction?: Direction;
  text?: string;
  authorId?: string;
  data?: Record<string, unknown>;
  attachments?: { name?: string; contentType: string; size?: number }[];
  flags?: string[];
}

export interface Interaction {
  id: string;
  customerId: string;
  channel: Channel;
  direction: Direction;
  status: InteractionStatus;
  subject?: string;
  queue?: string;
  agentId?: string;
  flags: string[];
  createdAt: string;
  endedAt?: string;
  lastActivityAt: string;
  entryCount: number;
  preview?: string;
  entries?: Entry[];
}

export interface ScreenPopHistoryItem {
  id: string;
  channel: Channel;
  direction: Direction;
  status: InteractionStatus;
  subject: string | null;
  createdAt: string;
  endedAt: string | null;
  agentId: string | null;
  outcome: string | null;
  /** Only when built from the REST timeline (a pop rebuilt after a reload). */
  preview?: string;
}

export type TaskStatus = 'open' | 'accepted' | 'in_progress' | 'resolved' | 'rejected' | 'verified' | 'closed' | 'reopened';

export interface ScreenPopTask {
  id: string;
  reference: string;
  title: string;
  status: TaskStatus;
  departmentId: string;
  dueAt: string;
  overdue: boolean;
}

export interface ScreenPop {
  interaction: {
    id: string;
    channel: Channel;
    direction: Direction;
    status: InteractionStatus;
    subject: string | null;
    queue: string | null;
    createdAt: string;
    queuedAt: string | null;
    waitSeconds: number | null;
    firstMessage: { at: string; direction: Direction | null; text: string; truncated: boolean } | null;
    ivrChoice: { label: string; digits: string | null } | null;
  };
  customer: Pick<Customer, 'id' | 'name' | 'tier' | 'tags' | 'attributes'>;
  timeline: ScreenPopHistoryItem[];
  /** The customer's follow-up tasks not closed yet; null when the server could not read them. */
  openTasks?: ScreenPopTask[] | null;
  smsOptedOut: boolean | null;
  builtAt: string;
}

export interface Department {
  id: string;
  code: string;
  name: string;
  timezone: string;
  headUserId?: string;
}

export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

/** A user event as sent live and kept for replay: `id` orders them. */
export interface UserEvent<Data = unknown> {
  id: string;
  event?: string;
  at: string;
  data: Data;
}

/** A room event (wallboards): a current state, no replay id. */
export interface RoomEvent<Data = unknown> {
  id: null;
  at: string;
  data: Data;
}

export type TaskPriority = 'low' | 'normal' | 'high' | 'urgent';

export interface TaskTypeField {
  key: string;
  label: string;
  pattern?: string;
  required: boolean;
}

export interface TaskType {
  code: string;
  name: string;
  slaMinutes: number;
  defaultPriority: TaskPriority;
  fields: TaskTypeField[];
  checklist?: string[];
  notifyCustomerOnCreate?: boolean;
  templates?: { created?: string; resolved?: string; verification?: string };
}

export interface DepartmentWithTypes extends Department {
  taskTypes?: TaskType[];
  businessHours?: BusinessHours;
}

/** A follow-up task as lists and events carry it (src/tasks/task.contracts.ts, without history). */
export interface Task {
  id: string;
  reference: string;
  departmentId: string;
  typeCode: string;
  title: string;
  description: string;
  fields: Record<string, string>;
  priority: TaskPriority;
  status: TaskStatus;
  customerId: string;
  interactionId?: string;
  dueAt: string;
  breachedAt?: string;
  resolution?: string;
  rejectionReason?: string;
  checklist?: { item: string; done: boolean }[];
  ownerId?: string;
  assigneeId?: string;
  createdBy?: TaskActor;
  watcherIds?: string[];
  attachments?: TaskAttachment[];
  version?: number;
  createdAt: string;
  updatedAt: string;
  /** Oldest first; only on GET /api/tasks/:id. */
  history?: TaskHistoryEntry[];
}

export interface TaskActor {
  kind: 'user' | 'api_key' | 'customer' | 'system';
  id: string;
  name: string;
}

export interface TaskHistoryEntry {
  id: string;
  at: string;
  action: string;
  actor: TaskActor;
  fromStatus?: TaskStatus;
  toStatus?: TaskStatus;
  comment?: string;
  visibility?: 'internal' | 'customer';
  data?: Record<string, unknown>;
}

export interface TaskAttachment {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  uploadedBy: string;
  at: string;
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

export interface BusinessHours {
  weekly: Partial<Record<Weekday, { start: string; end: string }[]>>;
  holidays: string[];
}

/** A report row (src/reports/report-columns.ts): key fields, its interval, the kind's figures. */
export type ReportRow = Record<string, string | number | null> & { start: string; end: string };

/** `task_updated` / `task_created`: the task and the history entry of the change. */
export interface TaskUpdate {
  task: Task;
  entry: TaskHistoryEntry;
}

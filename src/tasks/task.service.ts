import { Types } from 'mongoose';
import type { CustomerService } from '../customers';
import type { InteractionService } from '../interactions';
import { DomainEvents, type DeliveryMode } from '../platform/domain-events';
import { AppError } from '../platform/errors';
import type { Principal } from '../platform/http/principal';
import type { Logger } from '../platform/logger';
import { addBusinessMinutes } from './business-hours';
import type { DepartmentService, Department } from './department.service';
import type { TaskType } from './department.model';
import { activeTaskStatuses, type CommentVisibility, type Task, type TaskAction, type TaskActor, type TaskEvent, type TaskEventListener, type TaskPriority, type TaskStatus } from './task.contracts';
import { mayPerform, nextStatus, ownerFor, type TransitionAction } from './task.lifecycle';
import { replayedEvent } from './task-outbox';
import { actorOf, customerActor, systemActor, toHistoryEntry, toTask } from './task.mappers';
import type { StoredHistoryEntry, TaskDocument } from './task.model';
import type { TaskChange, TaskFilter, TaskRepository } from './task.repository';

export interface FileTaskInput {
  departmentId: string;
  typeCode: string;
  title: string;
  description?: string;
  priority?: TaskPriority;
  fields?: Record<string, string>;
  customerId: string;
  interactionId?: string;
  watcherIds?: string[];
}

export interface TransitionInput {
  comment?: string;
  /** resolve: what was done (may be sent to the customer). */
  resolution?: string;
  /** reject / forward: why. */
  reason?: string;
  /** assign: the department user to own it. */
  assigneeId?: string;
  /** forward: where to, and the task type there (defaults to the same code). */
  toDepartmentId?: string;
  toTypeCode?: string;
  /** When given, the change is refused with 409 if the task moved past this version meanwhile. */
  expectedVersion?: number;
}

export interface TaskQuery extends Omit<TaskFilter, 'dueBefore'> {
  overdue?: boolean;
  sort?: 'dueAt' | '-createdAt' | '-updatedAt';
  limit?: number;
  offset?: number;
}

/** What the task service needs to know of users (assignees, watchers). */
export interface TaskUsers {
  getUser(id: string): Promise<{ id: string; name: string; role: string; departmentId?: string; active: boolean }>;
}

export interface TaskServiceDeps {
  repository: TaskRepository;
  departments: DepartmentService;
  customers: CustomerService;
  interactions: InteractionService;
  users: TaskUsers;
  log: Logger;
  now?: () => Date;
}

const priorityOrder: TaskPriority[] = ['low', 'normal', 'high', 'urgent'];
const maxRaceRetries = 5;

/**
 * Follow-up tasks: filing, the lifecycle (accept → work → resolve/reject → verify → close, reopen),
 * comments, and the system's own changes (SLA warnings, breaches, customer answers). Every change is
 * one conditional write plus a history entry, whose id goes into the task's outbox in that same
 * write; then a `TaskEvent` to the listeners (realtime, SLA timers, notifications, webhooks,
 * reports), and once every must-succeed one succeeded the id leaves the outbox (task-outbox.ts).
 */
export class TaskService {
  /** The fan-out of task events; must-succeed listeners are redone by the outbox dispatcher. */
  readonly events: DomainEvents<TaskEvent>;
  private readonly now: () => Date;

  constructor(private readonly deps: TaskServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.events = new DomainEvents<TaskEvent>({
      name: 'task',
      log: deps.log,
      ids: (event) => ({ taskId: event.task.id, action: event.action, entryId: event.entry.id }),
      delivered: (event) => this.delivered(event.task.id, event.entry.id),
      repairedBy: 'the task outbox dispatcher',
    });
  }

  /**
   * Registers a task event listener. `must-succeed` listeners are run again (after a crash or a
   * failure) until they succeed, so they must be idempotent per event: key the work by
   * `event.entry.id` (or `entry.version`), since a redelivered event carries the task as stored now.
   */
  onEvent(listener: TaskEventListener, mode: DeliveryMode = 'best-effort', name = listener.name || 'task listener'): void {
    this.events.on(name, mode, listener);
  }

  /**
   * The outbox dispatcher's step for one stored event: rebuilds it from the task and runs the
   * must-succeed listeners again; true when all succeeded (the id has then left the outbox).
   */
  async redeliverEvent(taskId: string, entryId: string): Promise<boolean> {
    const stored = await this.deps.repository.findById(taskId);
    if (!stored) return false;
    const event = replayedEvent(toTask(stored), entryId);
    if (!event) {
      // An id without its entry cannot be replayed; keeping it would only retry forever.
      this.deps.log.warn({ taskId, entryId }, 'task outbox id without a history entry dropped');
      await this.deps.repository.clearPendingEvent(taskId, entryId);
      return false;
    }
    return this.events.redeliver(event);
  }

  async fileTask(input: FileTaskInput, principal: Principal): Promise<Task> {
    // A key limited to departments learns nothing of the others, not even that they exist.
    if (!mayUseDepartment(principal, input.departmentId)) throw AppError.notFound('Department', input.departmentId);
    const { department, type } = await this.deps.departments.taskType(input.departmentId, input.typeCode);
    const fields = checkFields(type, input.fields ?? {});
    const customer = await this.deps.customers.getCustomer(input.customerId);
    if (customer.mergedInto) throw AppError.validation([{ field: 'customerId', message: `was merged into ${customer.mergedInto}; file the task there` }]);
    let customerChannel: TaskDocument['customerChannel'];
    if (input.interactionId) {
      const interaction = await this.deps.interactions.getInteraction(input.interactionId);
      if (interaction.customerId !== customer.id) throw AppError.validation([{ field: 'interactionId', message: 'belongs to another customer' }]);
      customerChannel = interaction.channel === 'voice' || interaction.channel === 'sms' || interaction.channel === 'email' ? interaction.channel : undefined;
    }
    const watcherIds = [...new Set(input.watcherIds ?? [])];
    await this.checkWatchers(watcherIds, department);

    const now = this.now();
    const actor = actorOf(principal);
    const entry = { ...this.entry('created', actor, { toStatus: 'open', comment: input.description }), version: 1 };
    const taskId = new Types.ObjectId().toHexString();
    await this.deps.repository.announceOutbox(taskId, entry._id);
    const stored = await this.deps.repository.insert({
      _id: taskId,
      reference: await this.deps.repository.nextReference(),
      departmentId: department.id,
      typeCode: type.code,
      title: input.title,
      description: input.description ?? '',
      fields,
      checklist: type.checklist.map((item) => ({ item, done: false })),
      priority: input.priority ?? type.defaultPriority,
      status: 'open',
      ownerId: ownerFor('open', { headUserId: department.headUserId, filerId: actor.kind === 'user' ? actor.id : undefined }),
      createdBy: actor,
      customerId: customer.id,
      ...(input.interactionId ? { interactionId: input.interactionId } : {}),
      ...(customerChannel ? { customerChannel } : {}),
      watcherIds,
      slaMinutes: type.slaMinutes,
      dueAt: addBusinessMinutes(now, type.slaMinutes, department.businessHours, department.timezone),
      reopenCount: 0,
      attachments: [],
      history: [entry],
      // The outbox, written with the task itself: its `created` event is owed until delivered.
      pendingEvents: [entry._id],
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
    await this.deps.repository.indexForCustomer(stored);
    this.deps.log.info({ taskId: stored._id, reference: stored.reference, departmentId: department.id, typeCode: type.code, by: actor.id }, 'task filed');
    const task = toTask(stored);
    await this.publish({ type: 'task_created', action: 'created', task, entry: toHistoryEntry(entry) });
    return task;
  }

  async getTask(id: string, principal: Principal): Promise<Task> {
    const stored = await this.deps.repository.findById(id);
    if (!stored || !canSee(principal, stored)) throw AppError.notFound('Task', id);
    return toTask(stored);
  }

  async getByReference(reference: string, principal: Principal): Promise<Task> {
    const stored = await this.deps.repository.findByReference(reference);
    if (!stored || !canSee(principal, stored)) throw AppError.notFound('Task', reference);
    return toTask(stored);
  }

  /** For other modules acting for the system (timers, notifications): no visibility rules. */
  async findTask(id: string): Promise<Task | null> {
    const stored = await this.deps.repository.findById(id);
    return stored ? toTask(stored) : null;
  }

  async findByReference(reference: string): Promise<Task | null> {
    const stored = await this.deps.repository.findByReference(reference);
    return stored ? toTask(stored) : null;
  }

  /** The customer's tasks not closed yet, soonest due first (the screen pop): one primary-key read. */
  async openTasksOf(customerId: string, limit = 20): Promise<Array<Pick<Task, 'id' | 'reference' | 'title' | 'status' | 'priority' | 'departmentId' | 'typeCode' | 'dueAt'>>> {
    const open = await this.deps.repository.openTasksOf(customerId);
    return open
      .sort((left, right) => new Date(left.dueAt).getTime() - new Date(right.dueAt).getTime())
      .slice(0, limit)
      .map(({ version: _version, ...summary }) => ({ ...summary, dueAt: new Date(summary.dueAt).toISOString() }));
  }

  /** A department user sees only their department's tasks, whatever filter they send. */
  async listTasks(query: TaskQuery, principal: Principal): Promise<Task[]> {
    const filter: TaskFilter = { ...query };
    if (principal.role === 'department') {
      if (query.departmentId && query.departmentId !== principal.departmentId) throw new AppError('forbidden', "You can only see your own department's tasks");
      filter.departmentId = principal.departmentId ?? 'none';
    }
    if (principal.departmentIds) {
      // A key limited to departments: another department's board looks empty, like an unknown one.
      if (query.departmentId && !principal.departmentIds.includes(query.departmentId)) return [];
      if (!query.departmentId) filter.departmentIds = [...principal.departmentIds];
    }
    if (query.overdue) {
      filter.dueBefore = this.now();
      filter.statuses = (filter.statuses?.length ? filter.statuses : [...activeTaskStatuses]).filter((status) => activeTaskStatuses.has(status));
    }
    const stored = await this.deps.repository.list(filter, { sort: query.sort ?? 'dueAt', limit: Math.min(query.limit ?? 50, 200), skip: query.offset ?? 0 });
    return stored.map((task) => toTask(task, false));
  }

  /** One lifecycle step by a person or an integration; 403 when their role may not, 409 when the task has moved on. */
  async perform(id: string, action: TransitionAction, principal: Principal, input: TransitionInput = {}): Promise<Task> {
    return this.change(id, principal, async (task) => {
      if (input.expectedVersion !== undefined && task.version !== input.expectedVersion) {
        throw new AppError('conflict', `The task changed since you loaded it (now version ${task.version}); reload and try again`, { version: task.version });
      }
      const department = await this.deps.departments.get(task.departmentId);
      const isHead = department.headUserId === principal.id;
      if (!mayPerform(principal, action, toTask(task, false), isHead)) {
        throw new AppError('forbidden', `Your role (${principal.role}) cannot ${action} this task`, { action, role: principal.role });
      }
      const to = nextStatus(action, task.status, Boolean(task.assigneeId));
      if (!to) throw statusConflict(action, task);
      return this.transitionChange(task, action, to, department, actorOf(principal), input, principal);
    });
  }

  async comment(id: string, principal: Principal, input: { text: string; visibility: CommentVisibility }): Promise<Task> {
    return this.change(id, principal, async () => ({
      entry: this.entry('commented', actorOf(principal), { comment: input.text, visibility: input.visibility }),
    }));
  }

  async setWatchers(id: string, principal: Principal, watcherIds: string[]): Promise<Task> {
    const unique = [...new Set(watcherIds)];
    return this.change(id, principal, async (task) => {
      await this.checkWatchers(unique, await this.deps.departments.get(task.departmentId));
      return {
      set: { watcherIds: unique },
      entry: this.entry('watchers_changed', actorOf(principal), { data: { added: unique.filter((w) => !task.watcherIds.includes(w)), removed: task.watcherIds.filter((w) => !unique.includes(w)) } }),
      };
    });
  }

  /**
   * A watcher receives every change of the task, so only someone who could read it anyway may
   * watch: front-line users (admin, supervisor, agent) and users of the task's own department.
   */
  private async checkWatchers(watcherIds: string[], department: Pick<Department, 'id' | 'name'>): Promise<void> {
    const users = await Promise.all(watcherIds.map((id) => this.activeUser(id, 'watcherIds')));
    const problems = users.filter((user) => !mayWatch(user, department.id)).map((user) => ({ field: 'watcherIds', message: `user ${user.id} cannot see ${department.name}'s tasks; only front-line users and ${department.name} users may watch` }));
    if (problems.length) throw AppError.validation(problems);
  }

  /** The watchers who may still see the task once it is in `departmentId` (a forward drops the others). */
  private async watchersWhoMaySee(watcherIds: string[], departmentId: string): Promise<string[]> {
    const kept = await Promise.all(watcherIds.map(async (id) => {
      const user = await this.deps.users.getUser(id).catch(() => null);
      return user && mayWatch(user, departmentId) ? id : null;
    }));
    return kept.filter((id): id is string => id !== null);
  }

  /** Stores an attachment's metadata (the bytes are stored by the caller, content-addressed). */
  async addAttachment(id: string, principal: Principal, file: { filename: string; contentType: string; size: number; sha256: string }): Promise<Task> {
    return this.change(id, principal, async () => {
      const attachment = { _id: new Types.ObjectId().toHexString(), ...file, uploadedBy: principal.id, at: this.now() };
      return { attachment, entry: this.entry('attachment_added', actorOf(principal), { data: { attachmentId: attachment._id, filename: file.filename } }) };
    });
  }

  /**
   * A change the system makes on its own (SLA warning and breach, a notification sent). `apply`
   * returns null to skip (e.g. the task was resolved meanwhile); returns the task after, or null.
   */
  async recordSystemChange(id: string, apply: (task: Task) => { action: TaskAction; set?: TaskChange['set']; comment?: string; data?: Record<string, unknown> } | null): Promise<Task | null> {
    try {
      return await this.change(id, null, async (stored) => {
        const decided = apply(toTask(stored, false));
        if (!decided) return null;
        return { set: decided.set, entry: this.entry(decided.action, systemActor, { comment: decided.comment, data: decided.data }) };
      });
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return null;
      throw error;
    }
  }

  /**
   * Moves a merged customer's tasks (closed ones too) to the survivor; registered as a customer merge
   * listener. Each move is one conditional write with a history entry, and the task's open-task index
   * entry follows it. A task found already moved (a merge resumed after a crash) only has its index
   * entry moved, so running this again finishes the job and otherwise changes nothing.
   */
  async moveCustomerTasks(merge: { fromCustomerId: string; intoCustomerId: string }): Promise<void> {
    const { fromCustomerId, intoCustomerId } = merge;
    let moved = 0;
    for (const id of await this.deps.repository.taskIdsOfCustomer(fromCustomerId)) {
      let wrote = false;
      try {
        await this.change(id, null, async (stored) => {
          // Decided afresh on each attempt: a lost race re-reads the task.
          wrote = stored.customerId === fromCustomerId;
          if (!wrote) return null;
          return { set: { customerId: intoCustomerId }, entry: this.entry('customer_merged', systemActor, { data: { fromCustomerId, toCustomerId: intoCustomerId } }) };
        });
      } catch (error) {
        // Listed from a stale index entry of a task that no longer exists.
        if (error instanceof AppError && error.code === 'not_found') continue;
        throw error;
      }
      if (wrote) {
        moved += 1;
        continue;
      }
      const stored = await this.deps.repository.findById(id);
      if (stored && stored.customerId !== fromCustomerId) await this.deps.repository.indexForCustomer(stored, fromCustomerId);
    }
    this.deps.log.info({ customerId: intoCustomerId, mergedCustomerId: fromCustomerId, moved }, 'tasks moved after merge');
  }

  /** The customer's answer to "is it solved?": yes verifies and closes the task, no reopens it. */
  async recordCustomerVerdict(id: string, solved: boolean, detail: { text?: string; interactionId?: string } = {}): Promise<Task> {
    const task = await this.change(id, null, async (stored) => {
      const action: TransitionAction = solved ? 'verify' : 'reopen';
      const to = nextStatus(action, stored.status, Boolean(stored.assigneeId));
      if (!to) throw statusConflict(action, stored);
      const department = await this.deps.departments.get(stored.departmentId);
      return this.transitionChange(stored, action, to, department, customerActor(stored.customerId), { comment: detail.text }, null, detail.interactionId ? { interactionId: detail.interactionId } : undefined);
    });
    if (!solved) return task;
    // A confirmed solution needs nobody's further attention: close it in the same breath.
    return this.change(id, null, async (stored) => {
      const department = await this.deps.departments.get(stored.departmentId);
      return stored.status === 'verified' ? this.transitionChange(stored, 'close', 'closed', department, systemActor, { comment: 'Closed after the customer confirmed the solution' }, null) : null;
    });
  }

  /** A new contact from the customer about a finished task (quoted its reference): the task reopens. */
  async reopenByCustomerContact(id: string, interactionId: string): Promise<Task | null> {
    return this.change(id, null, async (stored) => {
      const to = nextStatus('reopen', stored.status, Boolean(stored.assigneeId));
      if (!to) return null;
      const department = await this.deps.departments.get(stored.departmentId);
      return this.transitionChange(stored, 'reopen', to, department, customerActor(stored.customerId), { comment: 'The customer contacted us again about this task' }, null, { interactionId });
    });
  }

  private async transitionChange(
    task: TaskDocument,
    action: TransitionAction,
    to: TaskStatus,
    department: Department,
    actor: TaskActor,
    input: TransitionInput,
    principal: Principal | null,
    data?: Record<string, unknown>,
  ): Promise<TaskChange> {
    const now = this.now();
    const set: NonNullable<TaskChange['set']> = { status: to };
    const unset: Array<keyof TaskDocument> = [];
    let assigneeId = task.assigneeId;
    let headUserId = department.headUserId;
    const details: Record<string, unknown> = { ...data };
    switch (action) {
      case 'accept':
        if (task.assigneeId && task.assigneeId !== principal?.id && task.status !== 'reopened') throw statusConflict(action, task);
        assigneeId = principal?.kind === 'user' ? principal.id : task.assigneeId;
        set.acceptedAt = task.acceptedAt ?? now;
        break;
      case 'assign': {
        const assignee = await this.activeUser(requireField(input.assigneeId, 'assigneeId', 'name the department user to assign'), 'assigneeId');
        if (assignee.role !== 'department' || assignee.departmentId !== task.departmentId) throw AppError.validation([{ field: 'assigneeId', message: `is not a member of ${department.name}` }]);
        assigneeId = assignee.id;
        details.assigneeId = assignee.id;
        if (to === 'accepted') set.acceptedAt = task.acceptedAt ?? now;
        break;
      }
      case 'resolve':
        set.resolution = requireField(input.resolution ?? input.comment, 'resolution', 'say what was done; the customer may read it');
        set.resolvedAt = now;
        break;
      case 'reject':
        set.rejectionReason = requireField(input.reason ?? input.comment, 'reason', 'say why, so the agent knows what to do next');
        set.rejectedAt = now;
        break;
      case 'verify':
        set.verifiedAt = now;
        break;
      case 'close':
        set.closedAt = now;
        break;
      case 'reopen':
        set.reopenCount = (task.reopenCount ?? 0) + 1;
        set.dueAt = addBusinessMinutes(now, task.slaMinutes, department.businessHours, department.timezone);
        unset.push('warnedAt', 'breachedAt', 'closedAt', 'verifiedAt');
        break;
      case 'forward': {
        const wanted = requireField(input.toDepartmentId, 'toDepartmentId', 'name the department to forward to');
        if (principal && !mayUseDepartment(principal, wanted)) throw AppError.notFound('Department', wanted);
        const target = await this.deps.departments.get(wanted);
        if (target.id === task.departmentId) throw AppError.validation([{ field: 'toDepartmentId', message: 'is the department the task is already in' }]);
        const typeCode = input.toTypeCode ?? task.typeCode;
        const type = target.taskTypes.find((candidate) => candidate.code === typeCode);
        if (!type) throw AppError.validation([{ field: 'toTypeCode', message: `${target.name} has no task type "${typeCode}"; choose one of: ${target.taskTypes.map((t) => t.code).join(', ') || 'none'}` }]);
        requireField(input.reason ?? input.comment, 'reason', 'say why it goes to another department');
        Object.assign(set, { departmentId: target.id, typeCode, slaMinutes: type.slaMinutes, dueAt: addBusinessMinutes(now, type.slaMinutes, target.businessHours, target.timezone) });
        unset.push('warnedAt', 'breachedAt', 'acceptedAt');
        const watchers = await this.watchersWhoMaySee(task.watcherIds, target.id);
        if (watchers.length !== task.watcherIds.length) set.watcherIds = watchers;
        assigneeId = undefined;
        headUserId = target.headUserId;
        Object.assign(details, { fromDepartmentId: task.departmentId, toDepartmentId: target.id });
        break;
      }
      case 'start':
        break;
    }
    if (assigneeId) set.assigneeId = assigneeId;
    else if (task.assigneeId) unset.push('assigneeId');
    const ownerId = ownerFor(to, { assigneeId, headUserId, filerId: task.createdBy.kind === 'user' ? task.createdBy.id : undefined });
    if (ownerId) set.ownerId = ownerId;
    else unset.push('ownerId');
    const comment = action === 'resolve' ? set.resolution : action === 'reject' ? set.rejectionReason : (input.reason ?? input.comment);
    const entry = this.entry(pastTense[action], actor, { fromStatus: task.status, toStatus: to, comment, data: Object.keys(details).length ? details : undefined });
    return { set, unset, entry };
  }

  /**
   * Read, decide, write only if nobody wrote in between; on a lost race, read again and decide
   * again (so a second "accept" sees the first and answers 409 instead of overwriting it).
   */
  private async change(id: string, principal: Principal | null, decide: (task: TaskDocument) => Promise<TaskChange | null>): Promise<Task> {
    for (let attempt = 0; attempt < maxRaceRetries; attempt++) {
      const stored = await this.deps.repository.findById(id);
      if (!stored || (principal && !canSee(principal, stored))) throw AppError.notFound('Task', id);
      const decided = await decide(stored);
      if (!decided) return toTask(stored);
      const change = { ...decided, entry: { ...decided.entry, version: stored.version + 1 } };
      await this.deps.repository.announceOutbox(id, change.entry._id);
      const updated = await this.deps.repository.applyChange(id, stored.version, change);
      if (!updated) continue;
      await this.deps.repository.indexForCustomer(updated, stored.customerId);
      const entry = toHistoryEntry(change.entry);
      this.deps.log.info({ taskId: id, action: entry.action, status: updated.status, by: entry.actor.id }, 'task changed');
      const task = toTask(updated);
      await this.publish({ type: 'task_updated', action: entry.action, task, entry, previousStatus: stored.status, ...(stored.departmentId !== updated.departmentId ? { previousDepartmentId: stored.departmentId } : {}) });
      return task;
    }
    throw new AppError('conflict', 'The task is being changed by others right now; reload and try again', { taskId: id });
  }

  private entry(action: TaskAction, actor: TaskActor, rest: Omit<StoredHistoryEntry, '_id' | 'at' | 'action' | 'actor'>): StoredHistoryEntry {
    const cleaned = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined && value !== ''));
    return { _id: new Types.ObjectId().toHexString(), at: this.now(), action, actor, ...cleaned };
  }

  private async activeUser(id: string, field: string) {
    try {
      const user = await this.deps.users.getUser(id);
      if (!user.active) throw AppError.validation([{ field, message: `user ${id} is disabled` }]);
      return user;
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') throw AppError.validation([{ field, message: `user ${id} does not exist` }]);
      throw error;
    }
  }

  /**
   * Every must-succeed listener succeeded: the id leaves the outbox, and with nothing else owed the
   * dispatcher's pointer goes too, unless a later change announced itself there meanwhile. (A
   * writer that announced before us but writes after us lost the version race and announces again.)
   */
  private async delivered(taskId: string, entryId: string): Promise<void> {
    const left = await this.deps.repository.clearPendingEvent(taskId, entryId);
    if (left?.length === 0) await this.deps.repository.dropOutboxPointer(taskId, entryId);
  }

  /**
   * Listeners run in registration order; one failing does not stop the others or fail the change (it
   * is stored, and its outbox id brings must-succeed work back). A change a listener makes while
   * handling an event (a notification recorded on `resolved`) is queued behind it, so every
   * listener sees events in the order they happened.
   */
  private async publish(event: TaskEvent): Promise<void> {
    await this.events.publish(event);
  }
}

const pastTense: Record<TransitionAction, TaskAction> = {
  accept: 'accepted',
  start: 'started',
  resolve: 'resolved',
  reject: 'rejected',
  verify: 'verified',
  close: 'closed',
  reopen: 'reopened',
  assign: 'assigned',
  forward: 'forwarded',
};

/**
 * Who sees (and so may change) a task: department users their department's tasks, API keys limited
 * to departments those departments' tasks, everyone else all. Not seeing a task means 404.
 */
function canSee(principal: Principal, task: Pick<TaskDocument, 'departmentId'>): boolean {
  if (principal.role === 'department' && principal.departmentId !== task.departmentId) return false;
  return mayUseDepartment(principal, task.departmentId);
}

/** Front-line users may watch any task; department users only their own department's. */
function mayWatch(user: { role: string; departmentId?: string }, departmentId: string): boolean {
  if (user.role === 'admin' || user.role === 'supervisor' || user.role === 'agent') return true;
  return user.role === 'department' && user.departmentId === departmentId;
}

/** False only for an API key limited to departments that does not include this one. */
export function mayUseDepartment(principal: Pick<Principal, 'departmentIds'>, departmentId: string): boolean {
  return !principal.departmentIds || principal.departmentIds.includes(departmentId);
}

function statusConflict(action: TransitionAction, task: TaskDocument): AppError {
  const holder = task.assigneeId ? ` (assignee ${task.assigneeId})` : '';
  const message =
    action === 'accept' && task.assigneeId
      ? `Task ${task.reference} was already accepted by someone else${holder}; reload the board`
      : `Task ${task.reference} is ${task.status}${holder}: it cannot be ${pastTense[action]} now; reload it`;
  return new AppError('conflict', message, { status: task.status, assigneeId: task.assigneeId, version: task.version });
}

function requireField(value: string | undefined, field: string, hint: string): string {
  if (!value?.trim()) throw AppError.validation([{ field, message: `is required: ${hint}` }]);
  return value.trim();
}

/** The task type's fields: required ones present, patterns matched, unknown keys refused (typos would be lost). */
export function checkFields(type: TaskType, values: Record<string, string>): Record<string, string> {
  const problems: Array<{ field: string; message: string }> = [];
  const known = new Set(type.fields.map((field) => field.key));
  for (const key of Object.keys(values)) if (!known.has(key)) problems.push({ field: `fields.${key}`, message: `is not a field of ${type.name} (fields: ${[...known].join(', ') || 'none'})` });
  const result: Record<string, string> = {};
  for (const field of type.fields) {
    const value = values[field.key]?.trim();
    if (!value) {
      if (field.required) problems.push({ field: `fields.${field.key}`, message: `is required for ${type.name} (${field.label})` });
      continue;
    }
    if (field.pattern && !new RegExp(`^(?:${field.pattern})$`).test(value)) problems.push({ field: `fields.${field.key}`, message: `does not look like a ${field.label}` });
    result[field.key] = value;
  }
  if (problems.length) throw AppError.validation(problems);
  return result;
}

/** Priority one step up, never past urgent (breached tasks climb the board). */
export function raisedPriority(priority: TaskPriority): TaskPriority {
  return priorityOrder[Math.min(priorityOrder.indexOf(priority) + 1, priorityOrder.length - 1)];
}

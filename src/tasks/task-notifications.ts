import type { Connection } from 'mongoose';
import type { SmsReplyClaimer } from '../channels/sms';
import type { CustomerService } from '../customers';
import type { InteractionService } from '../interactions';
import type { DeliveryMode } from '../platform/domain-events';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { QueueFactory } from '../platform/queues';
import type { DepartmentService } from './department.service';
import type { Task, TaskEvent } from './task.contracts';
import type { Repair } from '../platform/repair';
import { enqueueTaskNotification, notificationKey, restoreTaskNotification, startTaskNotificationWorker, type TaskNotificationKind, type TaskNotifyJob } from './task-notifications.jobs';
import { fillTemplate, renderTaskMessage, taskEmailSubject, updateTemplate } from './task-templates';
import { customerContactListener, PendingVerifications, verificationSmsClaimer, type VerificationDeps } from './task-verification';

type Sent = { interactionId: string; entryId: string };

/** The channel ports the notifier needs (the SMS and email channel modules satisfy them). */
export interface NotifierChannels {
  sms?: { sendSms(input: { customerId: string; interactionId?: string; to?: string; text: string; idempotencyKey: string }): Promise<Sent> };
  email?: { sendEmail(input: { customerId: string; interactionId?: string; subject: string; text: string; automatic?: boolean; idempotencyKey: string }): Promise<Sent> };
}

export interface TaskNotifierDeps extends NotifierChannels {
  tasks: {
    findTask(id: string): Promise<Task | null>;
    recordSystemChange: (id: string, apply: (task: Task) => { action: 'customer_notified'; comment?: string; data?: Record<string, unknown> } | null) => Promise<Task | null>;
  };
  departments: Pick<DepartmentService, 'get'>;
  customers: Pick<CustomerService, 'getCustomer'>;
  interactions: Pick<InteractionService, 'getInteraction' | 'createInteraction'>;
  pending: PendingVerifications;
  queues: QueueFactory;
  verificationWindowMs: number;
  log: Logger;
}

type Attempt = { channel: 'sms' | 'email'; reason: string };

/**
 * Tells the customer about their task by the channel they used: when it is filed (if the type says
 * so), each customer-visible comment, and the resolution with "is it solved? reply YES/NO". Only
 * the resolution and `customer` comments ever leave; internal comments never do. Each outcome,
 * sent or not, is one `customer_notified` entry in the task's history.
 */
export class TaskNotifier {
  constructor(private readonly deps: TaskNotifierDeps) {}

  /** Task event listener: decides whether the event concerns the customer and queues the job. */
  async onEvent(event: TaskEvent): Promise<void> {
    const kind = await this.kindOf(event);
    if (!kind) return;
    // The version the change made (a redelivered event carries the task as it is now).
    const version = event.entry.version ?? event.task.version;
    await enqueueTaskNotification(this.deps.queues, { taskId: event.task.id, kind, version, ...(kind === 'update' ? { entryId: event.entry.id } : {}) });
  }

  private async kindOf(event: TaskEvent): Promise<TaskNotificationKind | null> {
    if (event.action === 'resolved') return 'resolved';
    if (event.action === 'commented') return event.entry.visibility === 'customer' && event.entry.comment ? 'update' : null;
    if (event.type !== 'task_created') return null;
    const department = await this.deps.departments.get(event.task.departmentId);
    return department.taskTypes.find((type) => type.code === event.task.typeCode)?.notifyCustomerOnCreate ? 'created' : null;
  }

  /** The job: builds the message from the stored task, sends it, remembers the question, records the outcome. */
  async notify(job: TaskNotifyJob): Promise<void> {
    const task = await this.deps.tasks.findTask(job.taskId);
    if (!task) return;
    const key = notificationKey(job);
    if (task.history?.some((entry) => entry.action === 'customer_notified' && entry.data?.key === key)) return;
    // Work resumed before we got to it: "it is resolved" would now be untrue.
    if (job.kind === 'resolved' && (task.status === 'reopened' || task.status === 'in_progress' || task.status === 'accepted')) {
      return this.record(task.id, key, { kind: job.kind, reason: 'superseded' }, 'Resolution not sent: the task was reopened first');
    }
    const department = await this.deps.departments.get(task.departmentId);
    const type = department.taskTypes.find((candidate) => candidate.code === task.typeCode);
    const values = { reference: task.reference, title: task.title, resolution: task.resolution, department: department.name };
    const ask = job.kind === 'resolved' && task.status === 'resolved';
    let text: string;
    if (job.kind === 'update') {
      const comment = task.history?.find((entry) => entry.id === job.entryId);
      if (comment?.visibility !== 'customer' || !comment.comment) return;
      text = fillTemplate(updateTemplate, { ...values, comment: comment.comment });
    } else {
      text = renderTaskMessage(job.kind, type?.templates, values);
      if (ask) text = `${text}\n${renderTaskMessage('verification', type?.templates, values)}`;
    }
    const subject = taskEmailSubject(job.kind, values);

    const attempts: Attempt[] = [];
    for (const channel of await this.plan(task)) {
      try {
        const sent = channel === 'sms' ? await this.sendSms(task, text, key) : await this.sendEmail(task, subject, text, key);
        if (ask) {
          const now = new Date();
          await this.deps.pending.ask({ taskId: task.id, reference: task.reference, customerId: task.customerId, channel, interactionId: sent.interactionId, askedAt: now, expiresAt: new Date(now.getTime() + this.deps.verificationWindowMs) });
        }
        this.deps.log.info({ taskId: task.id, kind: job.kind, channel, interactionId: sent.interactionId }, 'customer notified');
        return this.record(task.id, key, { kind: job.kind, channel, interactionId: sent.interactionId, entryId: sent.entryId, ...(attempts.length ? { fallbackFrom: attempts } : {}) }, `Customer told by ${channel === 'sms' ? 'SMS' : 'email'}`);
      } catch (error) {
        // A refusal (opted out, no mobile, channel not configured) moves on to the next channel; anything else is retried.
        if (!(error instanceof AppError && (error.code === 'conflict' || error.code === 'unavailable' || error.code === 'validation_failed'))) throw error;
        const reason = (error.details as { reason?: string } | undefined)?.reason ?? (error.code === 'unavailable' ? `${channel}_unavailable` : `${channel}_not_possible`);
        attempts.push({ channel, reason });
      }
    }
    const reason = attempts.length ? attempts.map((attempt) => attempt.reason).join(', ') : 'no_usable_channel';
    this.deps.log.info({ taskId: task.id, kind: job.kind, reason }, 'customer could not be told');
    return this.record(task.id, key, { kind: job.kind, reason, attempts }, `The customer could not be told (${describe(attempts)})`);
  }

  /** Channels to try, in order: the one the customer used, then email as the fallback for texts. */
  private async plan(task: Task): Promise<Array<'sms' | 'email'>> {
    const customer = await this.deps.customers.getCustomer(task.customerId);
    const hasMobile = customer.phones.some((phone) => phone.kind === 'e164');
    const hasEmail = customer.emails.length > 0;
    const order: Array<'sms' | 'email'> = task.customerChannel === 'email' ? ['email', 'sms'] : ['sms', 'email'];
    return order.filter((channel) => (channel === 'sms' ? hasMobile && this.deps.sms : hasEmail && this.deps.email));
  }

  /** To the number they texted (or called) from when we know it; the message gets its own interaction so the YES/NO lands there. */
  private async sendSms(task: Task, text: string, key: string): Promise<Sent> {
    const origin = task.interactionId ? await this.deps.interactions.getInteraction(task.interactionId).catch(() => null) : null;
    const from = [...(origin?.entries ?? [])].reverse().find((entry) => entry.direction === 'inbound' && typeof entry.data?.from === 'string')?.data?.from as string | undefined;
    // Closed, so the customer's unrelated next text does not join it (it goes to an agent as usual).
    const thread = await this.deps.interactions.createInteraction({ customerId: task.customerId, channel: 'sms', direction: 'outbound', status: 'closed', subject: `Task ${task.reference}` });
    return this.deps.sms!.sendSms({ customerId: task.customerId, interactionId: thread.id, ...(from && origin?.channel !== 'email' ? { to: from } : {}), text, idempotencyKey: key });
  }

  /** In the email thread the task came from, so a reply threads back to it; else a new thread. */
  private async sendEmail(task: Task, subject: string, text: string, key: string): Promise<Sent> {
    const interactionId = task.customerChannel === 'email' ? task.interactionId : undefined;
    return this.deps.email!.sendEmail({ customerId: task.customerId, ...(interactionId ? { interactionId } : {}), subject, text, automatic: true, idempotencyKey: key });
  }

  private async record(taskId: string, key: string, data: Record<string, unknown>, comment: string): Promise<void> {
    await this.deps.tasks.recordSystemChange(taskId, () => ({ action: 'customer_notified', comment, data: { key, ...data } }));
  }
}

function describe(attempts: Attempt[]): string {
  if (!attempts.length) return 'no mobile number or email address on file';
  return attempts.map((attempt) => `${attempt.channel}: ${attempt.reason.replace(/_/g, ' ')}`).join('; ');
}

type SmsPort = { outbound: NonNullable<NotifierChannels['sms']>; addReplyClaimer(claimer: SmsReplyClaimer): void };
type EmailPort = NonNullable<NotifierChannels['email']>;

/** What the composition root hands over: the stores, the task services and the channel modules. */
export interface CustomerLoopDeps extends Omit<TaskNotifierDeps, 'pending' | 'sms' | 'email' | 'tasks' | 'interactions'> {
  mongo: Connection;
  tasks: TaskNotifierDeps['tasks'] & VerificationDeps['tasks'] & { onEvent(listener: (event: TaskEvent) => Promise<void>, mode?: DeliveryMode, name?: string): void };
  interactions: TaskNotifierDeps['interactions'] & Pick<InteractionService, 'onChange'>;
  channels: ReadonlyArray<{ name: string }>;
}

/** Wires the customer side of tasks: notifications (queued, sent by workers), the SMS YES/NO claimer, and replies/new contacts that answer or reopen a task. */
export function startCustomerLoop(deps: CustomerLoopDeps): TaskNotifier {
  const sms = deps.channels.find((channel): channel is { name: string } & SmsPort => channel.name === 'sms' && 'outbound' in channel && 'addReplyClaimer' in channel);
  const email = deps.channels.find((channel): channel is { name: string } & EmailPort => channel.name === 'email' && 'sendEmail' in channel);
  const pending = new PendingVerifications(deps.mongo);
  const notifier = new TaskNotifier({ ...deps, pending, sms: sms?.outbound, email });
  // Must-succeed: replayed from the outbox; the job id and the `customer_notified` key make it one message.
  deps.tasks.onEvent((event) => notifier.onEvent(event), 'must-succeed', 'task-notifications');
  startTaskNotificationWorker(deps.queues, (job) => notifier.notify(job));
  const verification = { pending, tasks: deps.tasks, log: deps.log };
  sms?.addReplyClaimer(verificationSmsClaimer(verification));
  // Best-effort: nothing rebuilds a missed YES/NO or reopen from the interaction yet.
  deps.interactions.onChange(customerContactListener(verification), 'best-effort', 'task-customer-contact');
  return notifier;
}

/**
 * The notifications a task's history says are owed and not yet recorded as `customer_notified`,
 * for the entries written since `since`: the filing (when its type tells the customer), each
 * customer-visible comment, each resolution. An entry records the version its change made (the
 * version its event and job key carried); entries written before it did are placed by position
 * (one change, one entry, one version), and a task whose history does not match its version
 * then is left out rather than guessed at.
 */
export function owedNotifications(task: Task, notifyOnCreate: boolean, since: Date): TaskNotifyJob[] {
  const history = task.history ?? [];
  if (history.some((entry) => entry.version === undefined) && history.length !== task.version) return [];
  const notified = new Set(history.filter((entry) => entry.action === 'customer_notified').map((entry) => entry.data?.key));
  const owed: TaskNotifyJob[] = [];
  history.forEach((entry, index) => {
    if (Date.parse(entry.at) < since.getTime()) return;
    const version = entry.version ?? index + 1;
    let job: TaskNotifyJob | null = null;
    if (entry.action === 'created' && notifyOnCreate) job = { taskId: task.id, kind: 'created', version };
    else if (entry.action === 'resolved') job = { taskId: task.id, kind: 'resolved', version };
    else if (entry.action === 'commented' && entry.visibility === 'customer' && entry.comment) job = { taskId: task.id, kind: 'update', version, entryId: entry.id };
    if (job && !notified.has(notificationKey(job))) owed.push(job);
  });
  return owed;
}

export interface NotificationRepairDeps {
  scan: { changedSince(since: Date): AsyncIterable<Task> };
  departments: Pick<DepartmentService, 'get'>;
  queues: QueueFactory;
  /** How far back an owed notification is still sent (older ones are left for a person to judge). */
  windowMs: number;
  log: Logger;
  now?: () => Date;
}

/**
 * The reconciler's repair for customer notifications: the jobs of owed notifications are put back
 * under their usual ids. The notifier re-checks the history before sending, so a job that ran
 * meanwhile (or on another node) sends nothing twice.
 */
export function taskNotificationRepair(deps: NotificationRepairDeps): Repair {
  return {
    name: 'task-notifications',
    async run() {
      const since = new Date((deps.now?.() ?? new Date()).getTime() - deps.windowMs);
      let restored = 0;
      const seen = new Map<string, ReturnType<typeof departmentOf>>();
      const departmentOf = (id: string) =>
        deps.departments.get(id).catch((error: unknown) => {
          // A deleted department: its types are unknown, so only resolutions and comments are owed.
          if (error instanceof AppError && error.code === 'not_found') return undefined;
          throw error;
        });
      for await (const task of deps.scan.changedSince(since)) {
        if (!seen.has(task.departmentId)) seen.set(task.departmentId, departmentOf(task.departmentId));
        const department = await seen.get(task.departmentId);
        const notifyOnCreate = department?.taskTypes.find((type) => type.code === task.typeCode)?.notifyCustomerOnCreate ?? false;
        for (const job of owedNotifications(task, notifyOnCreate, since)) {
          const added = await restoreTaskNotification(deps.queues, job);
          if (added) deps.log.info({ taskId: task.id, kind: job.kind, version: job.version }, 'task notification restored');
          restored += added;
        }
      }
      return restored;
    },
  };
}

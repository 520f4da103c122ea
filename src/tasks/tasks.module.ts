import type { Router } from 'express';
import type { Connection } from 'mongoose';
import type { AuthService } from '../auth';
import type { AttachmentStore, ChannelModule } from '../channels';
import type { CustomerService } from '../customers';
import type { InteractionService } from '../interactions';
import type { Config } from '../platform/config';
import { durationMs } from '../platform/duration';
import type { RouteRegistry } from '../platform/http/route';
import type { Logger } from '../platform/logger';
import type { QueueFactory } from '../platform/queues';
import type { Repair } from '../platform/repair';
import type { RealtimeGateway } from '../realtime';
import { departmentRoutes } from './department.routes';
import type { DepartmentService } from './department.service';
import { TaskAttachments } from './task-attachments';
import { startCustomerLoop, taskNotificationRepair } from './task-notifications';
import { TaskOutbox } from './task-outbox';
import { startTaskSlaTimers } from './task-sla.jobs';
import { TaskScanRepository } from './task-scan.repository';
import { taskRealtime } from './task.realtime';
import { TaskRepository } from './task.repository';
import { taskRoutes } from './task.routes';
import type { TaskService } from './task.service';

export interface TasksModuleDeps {
  config: Config;
  log: Logger;
  mongo: Connection;
  queues: QueueFactory;
  channels: ChannelModule[];
  attachments: AttachmentStore;
  tasks: TaskService;
  departments: DepartmentService;
  customers: CustomerService;
  interactions: InteractionService;
  users: AuthService;
}

export interface TasksModule {
  routers(registry: RouteRegistry): Router[];
  /** Live delivery of task changes to boards, filers, watchers and owners. */
  connectRealtime(gateway: RealtimeGateway): void;
  /** Rebuild-from-MongoDB steps for the reconciler (issue 13): SLA timers and owed customer notifications. */
  repairs: Repair[];
  /** The outbox dispatcher (a Repair); `start()` runs it every TASK_OUTBOX_INTERVAL on this node. */
  outbox: TaskOutbox;
}

// A notification owed for longer than this is stale news; the reconciler leaves it to a person.
const notificationRepairWindowMs = 24 * 60 * 60_000;

/**
 * Everything around the task service: the customer loop (notifications, YES/NO verification,
 * reopening on a new contact), SLA timers, live delivery and the HTTP routes.
 */
export function createTasksModule(deps: TasksModuleDeps): TasksModule {
  const { config, log, tasks, departments } = deps;
  startCustomerLoop({
    mongo: deps.mongo, queues: deps.queues, channels: deps.channels, tasks, departments, customers: deps.customers, interactions: deps.interactions,
    verificationWindowMs: durationMs(config.TASK_VERIFICATION_WINDOW), log: log.child({ module: 'task-notifications' }),
  });
  const scan = new TaskScanRepository(deps.mongo);
  const sla = startTaskSlaTimers({ queues: deps.queues, tasks, departments, users: deps.users, scan, warnRatio: config.SLA_WARN_RATIO, timeScale: config.SLA_TIME_SCALE, log: log.child({ module: 'task-sla' }) });
  const notificationRepair = taskNotificationRepair({ scan, departments, queues: deps.queues, windowMs: notificationRepairWindowMs, log: log.child({ module: 'task-notifications' }) });
  const outbox = new TaskOutbox({
    repository: new TaskRepository(deps.mongo),
    redeliver: (taskId, entryId) => tasks.redeliverEvent(taskId, entryId),
    graceMs: durationMs(config.TASK_OUTBOX_GRACE),
    intervalMs: durationMs(config.TASK_OUTBOX_INTERVAL),
    log: log.child({ module: 'task-outbox' }),
  });
  return {
    repairs: [sla.repair, notificationRepair],
    routers: (registry) => [departmentRoutes(registry, departments), taskRoutes(registry, tasks, new TaskAttachments(tasks, deps.attachments))],
    // Best-effort: a board or desk that missed a push reloads the task; replaying old pushes would only confuse.
    connectRealtime: (gateway) => tasks.onEvent(taskRealtime({ gateway, departments, log }), 'best-effort', 'task-realtime'),
    outbox,
  };
}

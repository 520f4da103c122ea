import type { Principal } from '../platform/http/principal';
import type { Logger } from '../platform/logger';
import type { CommentVisibility, Task, TaskService, TransitionAction } from '../tasks';

/** Statuses an outside system may set, and the lifecycle step each one is. */
export const erpStatuses = ['accepted', 'in_progress', 'resolved', 'rejected'] as const;
export type ErpStatus = (typeof erpStatuses)[number];

const actionFor: Record<ErpStatus, TransitionAction> = { accepted: 'accept', in_progress: 'start', resolved: 'resolve', rejected: 'reject' };

export interface ErpStatusInput {
  status: ErpStatus;
  comment?: string;
  resolution?: string;
  reason?: string;
}

/** The task as an integration sees it: no history (it can follow changes through webhooks). */
export type IntegrationTask = Omit<Task, 'history'>;

/**
 * The inbound API for an ERP or dealer system: address a task by its reference, move its status, post
 * feedback. Lifecycle rules and permissions stay in the task service; this maps the ERP's words onto it.
 */
export class ErpService {
  constructor(private readonly tasks: TaskService, private readonly log: Logger) {}

  async setStatus(reference: string, input: ErpStatusInput, principal: Principal): Promise<IntegrationTask> {
    const task = await this.tasks.getByReference(reference, principal);
    const updated = await this.tasks.perform(task.id, actionFor[input.status], principal, { comment: input.comment, resolution: input.resolution, reason: input.reason });
    this.log.info({ taskId: task.id, status: updated.status, apiKeyId: principal.id }, 'task status set by integration');
    return withoutHistory(updated);
  }

  async postFeedback(reference: string, input: { text: string; visibility: CommentVisibility }, principal: Principal): Promise<IntegrationTask> {
    const task = await this.tasks.getByReference(reference, principal);
    const updated = await this.tasks.comment(task.id, principal, input);
    this.log.info({ taskId: task.id, visibility: input.visibility, apiKeyId: principal.id }, 'feedback posted by integration');
    return withoutHistory(updated);
  }
}

function withoutHistory(task: Task): IntegrationTask {
  const { history: _history, ...rest } = task;
  return rest;
}


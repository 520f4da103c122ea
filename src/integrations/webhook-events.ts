import { taskActions, type TaskEvent } from '../tasks';

/**
 * Which task events a subscription receives. A subscription lists any of:
 *   `*`             every event;
 *   `task_created`  a task was filed;
 *   `task_updated`  any later change (status moves, comments, assignment, SLA marks…);
 *   `task.<action>` one kind of change, e.g. `task.resolved`, `task.commented`, `task.created`.
 * The delivery's `X-Switchboard-Event` header is `task.<action>`, and the body carries `type` and `action`.
 */
export const webhookEventNames = ['*', 'task_created', 'task_updated', ...taskActions.map((action) => `task.${action}` as const)] as const;
export type WebhookEventName = (typeof webhookEventNames)[number];

export function eventName(event: Pick<TaskEvent, 'action'>): `task.${TaskEvent['action']}` {
  return `task.${event.action}`;
}

/** True when a subscription listening to `events` should receive `event`. */
export function subscribedTo(events: readonly string[], event: Pick<TaskEvent, 'type' | 'action'>): boolean {
  return events.includes('*') || events.includes(event.type) || events.includes(eventName(event));
}

/** 2xx delivered; 408, 429 and 5xx are worth retrying (the receiver is busy or broken for now); other answers are final. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

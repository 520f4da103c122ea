import type { ApiClient } from './api-client';
import { sleep } from './app-node';
import type { Delivery } from './deliveries';

/**
 * Task changes through the API, as agents and departments make them: a task is filed for a
 * customer who wrote or called earlier (its type notifies the customer on filing, and has a short
 * SLA so its breach timer comes due during the run); every other task is then accepted, started and
 * resolved, which tells the customer again. Filing is not idempotent (the API has no key for it), so
 * an unanswered filing is not repeated, only counted; transitions are repeated until they answer
 * 2xx or 409 (the task already moved), as a person clicking again would.
 */
export interface TaskOp {
  phase: string;
  customer: string;
  startedAt: number;
  id?: string;
  reference?: string;
  /** Why it was not filed (no answer, 5xx, customer not found…). */
  fileFailure?: string;
  resolve: boolean;
  resolvedAt?: number;
  transitionFailures: string[];
}

export interface TaskOpsContext {
  api: ApiClient;
  departmentId: string;
  typeCode: string;
  retryUntil: () => number;
}

let count = 0;

/** Files one task for the oldest acknowledged customer without one; resolves every other task. */
export async function runTaskOp(op: TaskOp, context: TaskOpsContext, customers: Delivery[]): Promise<void> {
  const { api } = context;
  const delivery = customers.shift();
  if (!delivery) {
    op.fileFailure = 'no acknowledged customer yet';
    return;
  }
  op.customer = delivery.externalId;
  const query = delivery.kind === 'email' ? `email=${encodeURIComponent(delivery.from)}` : `phone=${encodeURIComponent(delivery.from)}`;
  const found = await api.retrying<{ items?: { id: string }[] }>('GET', `/api/customers?${query}`, undefined, Math.min(context.retryUntil(), Date.now() + 30_000), (status) => status === 200);
  const customerId = found.status === 200 ? found.body.items?.[0]?.id : undefined;
  if (!customerId) {
    op.fileFailure = found.status === 200 ? 'customer not found' : `customer lookup ${found.status}`;
    return;
  }
  count += 1;
  const filed = await api.call<{ id: string; reference: string }>('POST', '/api/tasks', {
    departmentId: context.departmentId, typeCode: context.typeCode, title: `Chaos follow-up ${count}`, description: 'Filed by the chaos run', customerId,
  });
  if (filed.status !== 201) {
    op.fileFailure = `file ${filed.status || (filed.body as { error?: { code?: string } }).error?.code}`;
    return;
  }
  op.id = filed.body.id;
  op.reference = filed.body.reference;
  if (!op.resolve) return;
  await sleep(1_000);
  for (const [action, body] of [['accept', {}], ['start', {}], ['resolve', { resolution: 'Replaced the part; please try again.' }]] as const) {
    const answer = await api.retrying('POST', `/api/tasks/${op.id}/${action}`, body, context.retryUntil());
    if (answer.status < 200 || answer.status >= 300) {
      // 409 after a retry: the first try went through, the answer was lost.
      if (answer.status === 409) continue;
      op.transitionFailures.push(`${action} ${answer.status}`);
      return;
    }
  }
  op.resolvedAt = Date.now();
}

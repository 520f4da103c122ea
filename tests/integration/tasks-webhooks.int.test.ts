import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomInt, randomUUID } from 'node:crypto';
import { verifyWebhookSignature } from '../../src/integrations';
import type { Principal } from '../../src/platform/http/principal';
import type { Task } from '../../src/tasks';
import { createUserAndLogin, request, startTestApp, uniqueName, type TestApp, type TestUser } from '../support/test-app';

interface Received {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: any;
}

/** A local webhook receiver; `answer(n)` picks the status for the n-th request (0-based). */
async function startReceiver(answer: (n: number) => number = () => 200) {
  const received: Received[] = [];
  const waiters: Array<{ match: (all: Received[]) => boolean; resolve: () => void }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      res.statusCode = answer(received.length);
      res.end();
      received.push({ headers: req.headers, raw, body: JSON.parse(raw) });
      for (const waiter of [...waiters]) if (waiter.match(received)) waiter.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    url,
    received,
    /** Resolves once the requests matching `filter` number at least `count`; fails after the deadline. */
    waitFor(filter: (request: Received) => boolean, count: number, timeoutMs = 10_000): Promise<Received[]> {
      const pick = () => received.filter(filter);
      if (pick().length >= count) return Promise.resolve(pick());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${pick().length} of ${count} expected requests`)), timeoutMs);
        waiters.push({ match: () => pick().length >= count, resolve: () => { clearTimeout(timer); resolve(pick()); } });
      });
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('task webhooks and the inbound ERP API', () => {
  let app: TestApp;
  let admin: TestUser;
  let agentPrincipal: Principal;
  let departmentPrincipal: Principal;
  let departmentId: string;
  let customerId: string;
  const receivers: Receiver[] = [];

  const subscribe = async (receiver: Receiver, events: string[]) => {
    const response = await request(app, 'POST', '/api/webhooks', { token: admin.token, body: { url: receiver.url, events, description: 'test receiver' } });
    expect(response.status).toBe(201);
    return response.body as { subscription: { id: string }; secret: string };
  };
  const fileTask = () => app.services.tasks.fileTask({ departmentId, typeCode: 'claim', title: 'Gearbox noise under warranty', customerId }, agentPrincipal);
  const forTask = (task: Task) => (request: Received) => request.body.task.id === task.id;

  beforeAll(async () => {
    // The receivers run on 127.0.0.1, which the webhook guard refuses unless told otherwise (tests/security/authz-webhooks).
    app = await startTestApp({ WEBHOOK_RETRY_DELAY: '100ms', WEBHOOK_TIMEOUT: '2s', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }, { routing: false });
    admin = await createUserAndLogin(app, 'admin');
    const agent = await createUserAndLogin(app, 'agent');
    agentPrincipal = { kind: 'user', id: agent.id, role: 'agent', name: 'Test agent' };
    const department = await app.services.departments.create({ code: uniqueName('warranty').replace(/_/g, '-').toLowerCase().slice(0, 30), name: 'Warranty claims', timezone: 'Asia/Shanghai' });
    departmentId = department.id;
    await app.services.departments.update(departmentId, {
      taskTypes: [{ code: 'claim', name: 'Warranty claim', slaMinutes: 48 * 60, defaultPriority: 'normal', fields: [], checklist: [], notifyCustomerOnCreate: false, templates: {} }],
    });
    const worker = await createUserAndLogin(app, 'department', { departmentId });
    departmentPrincipal = { kind: 'user', id: worker.id, role: 'department', departmentId, name: 'Test department' };
    customerId = (await app.services.customers.resolveCustomer({ phone: `+86138${String(randomInt(0, 1e8)).padStart(8, '0')}` })).customer.id;
  });
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await app.destroy();
  });

  it('when a task is filed and accepted, then the subscribed receiver gets both events, each signed over the raw body', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const { subscription, secret } = await subscribe(receiver, ['task_created', 'task_updated']);
    expect(secret).toMatch(/^whsec_/);

    const listed = await request(app, 'GET', '/api/webhooks', { token: admin.token });
    expect(listed.body.items.map((item: { id: string }) => item.id)).toContain(subscription.id);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const task = await fileTask();
    await app.services.tasks.perform(task.id, 'accept', departmentPrincipal);
    // Deliveries run in parallel, so they may arrive in either order.
    const both = await receiver.waitFor(forTask(task), 2);
    const created = both.find((call) => call.body.action === 'created')!;
    const accepted = both.find((call) => call.body.action === 'accepted')!;

    expect([created.headers['x-switchboard-event'], accepted.headers['x-switchboard-event']]).toEqual(['task.created', 'task.accepted']);
    expect(accepted.body).toMatchObject({ type: 'task_updated', action: 'accepted', task: { id: task.id, reference: task.reference, status: 'accepted', version: 2 }, entry: { action: 'accepted' } });
    expect(accepted.body.task.history).toBeUndefined();
    expect(accepted.body.occurredAt).toBe(accepted.body.entry.at);
    for (const delivery of [created, accepted]) {
      expect(delivery.headers['x-switchboard-delivery']).toBe(delivery.body.id);
      expect(verifyWebhookSignature(secret, delivery.headers['x-switchboard-timestamp'] as string, delivery.raw, delivery.headers['x-switchboard-signature'] as string, 300)).toEqual({ valid: true });
      // The same signature does not fit a tampered body, nor another subscription's secret.
      expect(verifyWebhookSignature(secret, delivery.headers['x-switchboard-timestamp'] as string, delivery.raw.replace('accepted', 'rejected').replace('created', 'rejected'), delivery.headers['x-switchboard-signature'] as string, 300).valid).toBe(false);
      expect(verifyWebhookSignature('whsec_someone-else', delivery.headers['x-switchboard-timestamp'] as string, delivery.raw, delivery.headers['x-switchboard-signature'] as string, 300).valid).toBe(false);
    }
  });

  it('when the receiver answers 500 twice, then the same delivery arrives three times and the log shows three attempts, then delivered', async () => {
    const receiver = await startReceiver((n) => (n < 2 ? 500 : 200));
    receivers.push(receiver);
    const { subscription } = await subscribe(receiver, ['task.accepted']);

    const task = await fileTask();
    await app.services.tasks.perform(task.id, 'accept', departmentPrincipal);
    const calls = await receiver.waitFor(forTask(task), 3);

    const deliveryIds = new Set(calls.map((call) => call.headers['x-switchboard-delivery']));
    expect(deliveryIds.size).toBe(1);
    expect(calls.every((call) => call.body.action === 'accepted')).toBe(true);
    const [deliveryId] = [...deliveryIds] as string[];

    const delivery = await eventually(async () => {
      const log = await request(app, 'GET', `/api/webhooks/${subscription.id}/deliveries`, { token: admin.token });
      const entry = log.body.items.find((item: { id: string }) => item.id === deliveryId);
      return entry?.state === 'delivered' ? entry : undefined;
    });
    expect(delivery.attempts.map((attempt: { statusCode: number }) => attempt.statusCode)).toEqual([500, 500, 200]);
    expect(delivery).toMatchObject({ subscriptionId: subscription.id, taskId: task.id, event: 'task.accepted' });

    // The receiver saw nothing else for this task (a subscription to task.accepted does not get task.created).
    expect(receiver.received.filter(forTask(task))).toHaveLength(3);

    const redelivered = await request(app, 'POST', `/api/webhooks/deliveries/${deliveryId}/redeliver`, { token: admin.token });
    expect(redelivered.status).toBe(202);
    const again = await receiver.waitFor(forTask(task), 4);
    expect(again[3].headers['x-switchboard-delivery']).toBe(deliveryId);
  });

  it('when the receiver refuses with a 4xx other than 408/429, then the delivery fails after one attempt', async () => {
    const receiver = await startReceiver(() => 410);
    receivers.push(receiver);
    const { subscription } = await subscribe(receiver, ['task_created']);
    const task = await fileTask();
    const [call] = await receiver.waitFor(forTask(task), 1);
    const delivery = await eventually(async () => {
      const log = await request(app, 'GET', `/api/webhooks/${subscription.id}/deliveries`, { token: admin.token });
      const entry = log.body.items.find((item: { id: string }) => item.id === call.body.id);
      return entry?.state === 'failed' ? entry : undefined;
    });
    expect(delivery.attempts.map((attempt: { statusCode: number }) => attempt.statusCode)).toEqual([410]);
    expect(receiver.received.filter(forTask(task))).toHaveLength(1);
  });

  it('when a webhook URL is not http(s) or the caller is not an admin, then the subscription is refused', async () => {
    const ftp = await request(app, 'POST', '/api/webhooks', { token: admin.token, body: { url: 'ftp://erp.example.com/hooks', events: ['*'] } });
    expect(ftp.status).toBe(400);
    expect(ftp.body.error.details[0].field).toBe('body.url');
    const unknownEvent = await request(app, 'POST', '/api/webhooks', { token: admin.token, body: { url: 'https://erp.example.com/hooks', events: ['task.exploded'] } });
    expect(unknownEvent.status).toBe(400);
    const agent = await createUserAndLogin(app, 'agent');
    const forbidden = await request(app, 'POST', '/api/webhooks', { token: agent.token, body: { url: 'https://erp.example.com/hooks', events: ['*'] } });
    expect(forbidden.status).toBe(403);
  });

  it('when the ERP sets a status, then a bad key gets 401, a good key resolves the task once per Idempotency-Key and the resolved webhook fires', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const { secret } = await subscribe(receiver, ['task.resolved']);
    const keyResponse = await request(app, 'POST', '/api/api-keys', { token: admin.token, body: { name: 'ERP', role: 'integration' } });
    expect(keyResponse.status).toBe(201);
    const erpKey = keyResponse.body.key as string;

    const task = await fileTask();
    await app.services.tasks.perform(task.id, 'accept', departmentPrincipal);
    const path = `/api/integrations/tasks/${task.reference}/status`;
    const resolve = { status: 'resolved', resolution: 'Replaced the gearbox bearing' };

    const badKey = await request(app, 'POST', path, { apiKey: `${erpKey.slice(0, -4)}AAAA`, body: resolve });
    expect(badKey.status).toBe(401);
    expect(badKey.body.error.code).toBe('unauthenticated');
    const noKey = await request(app, 'POST', path, { body: resolve });
    expect(noKey.status).toBe(401);
    const agent = await createUserAndLogin(app, 'agent');
    const wrongRole = await request(app, 'POST', path, { token: agent.token, body: resolve });
    expect(wrongRole.status).toBe(403);
    const unknown = await request(app, 'POST', '/api/integrations/tasks/T-999999/status', { apiKey: erpKey, body: resolve });
    expect(unknown.status).toBe(404);

    const idempotencyKey = randomUUID();
    const first = await request(app, 'POST', path, { apiKey: erpKey, body: resolve, headers: { 'idempotency-key': idempotencyKey } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ reference: task.reference, status: 'resolved', resolution: 'Replaced the gearbox bearing' });
    expect(first.headers.get('idempotent-replayed')).toBe('false');

    const repeat = await request(app, 'POST', path, { apiKey: erpKey, body: resolve, headers: { 'idempotency-key': idempotencyKey } });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');

    const stored = await app.services.tasks.findTask(task.id);
    const history = stored!.history!;
    const resolvedAt = history.findIndex((entry) => entry.action === 'resolved');
    expect(history.filter((entry) => entry.action === 'resolved')).toHaveLength(1);
    expect(history[resolvedAt].actor).toMatchObject({ kind: 'api_key' });
    // The replay changed nothing; the only change after the resolution may be the customer's notice,
    // which its own job records whenever it runs (each change is one version and one history entry).
    const after = history.slice(resolvedAt + 1);
    expect(after.every((entry) => entry.action === 'customer_notified')).toBe(true);
    expect(stored!.version).toBe(first.body.version + after.length);

    // Without the key, the same request is a new attempt: the task is resolved already, so 409 with its status.
    const again = await request(app, 'POST', path, { apiKey: erpKey, body: resolve });
    expect(again.status).toBe(409);
    expect(again.body.error.details.status).toBe('resolved');
    // The same key on a different request is refused rather than answered with the wrong response.
    const reused = await request(app, 'POST', path, { apiKey: erpKey, body: { status: 'rejected', reason: 'no parts' }, headers: { 'idempotency-key': idempotencyKey } });
    expect(reused.status).toBe(409);

    const [hook] = await receiver.waitFor(forTask(task), 1);
    expect(hook.body).toMatchObject({ action: 'resolved', task: { status: 'resolved' }, entry: { actor: { kind: 'api_key' } } });
    expect(verifyWebhookSignature(secret, hook.headers['x-switchboard-timestamp'] as string, hook.raw, hook.headers['x-switchboard-signature'] as string, 300)).toEqual({ valid: true });
  });

  it('when the ERP posts feedback twice with one Idempotency-Key, then one comment is stored', async () => {
    const keyResponse = await request(app, 'POST', '/api/api-keys', { token: admin.token, body: { name: 'Dealer system', role: 'integration' } });
    const task = await fileTask();
    const path = `/api/integrations/tasks/${task.reference}/feedback`;
    const headers = { 'idempotency-key': randomUUID() };
    const body = { text: 'Parts ordered, arriving Thursday', visibility: 'internal' };
    const first = await request(app, 'POST', path, { apiKey: keyResponse.body.key, body, headers });
    const second = await request(app, 'POST', path, { apiKey: keyResponse.body.key, body, headers });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body).toEqual(first.body);
    const stored = await app.services.tasks.findTask(task.id);
    expect(stored!.history!.filter((entry) => entry.action === 'commented')).toHaveLength(1);
  });
});

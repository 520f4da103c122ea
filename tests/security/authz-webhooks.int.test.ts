import dns from 'node:dns/promises';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { WebhookService } from '../../src/integrations';
import { isForbiddenAddress } from '../../src/integrations/webhook-target';
import { WebhookRepository } from '../../src/integrations/webhook.repository';
import { fileWarrantyClaim, setUpTasksWorld, type TasksWorld } from '../integration/tasks-support';
import { eventually } from '../integration/routing-support';
import { createUserAndLogin, request, startTestApp, type TestApp, type TestUser } from '../support/test-app';

interface Receiver {
  port: number;
  hits: number;
  close(): Promise<void>;
}

/** A local receiver on every interface; `answer` may stream a large body back. */
async function startReceiver(answer: (res: http.ServerResponse) => void = (res) => res.end('ok')): Promise<Receiver> {
  const receiver = { hits: 0 } as Receiver;
  const server = http.createServer((req, res) => {
    receiver.hits += 1;
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return receiver;
}

/** Issue 12: outbound task webhooks could target 127.0.0.1, 169.254.169.254 and private ranges. */
describe('outbound webhook targets', () => {
  let app: TestApp;
  let world: TasksWorld;
  let admin: TestUser;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    app = await startTestApp({ WEBHOOK_ATTEMPTS: 3, WEBHOOK_RETRY_DELAY: '50ms' }, { routing: false });
    world = await setUpTasksWorld(app);
    admin = await createUserAndLogin(app, 'admin');
  });
  afterAll(async () => {
    for (const receiver of receivers) await receiver.close();
    await app.destroy();
  });

  const subscribe = (url: string) => request(app, 'POST', '/api/webhooks', { token: admin.token, body: { url, events: ['*'] } });

  it.each(['http://127.0.0.1:9/hook', 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.8/hook', 'http://100.64.1.1/hook', 'http://[::1]:9/hook', 'http://[fd00::1]/hook', 'http://localhost:9/hook', 'http://0.0.0.0:9/hook'])(
    'when an admin subscribes %s, then 400 naming url and nothing is stored',
    async (url) => {
      const response = await subscribe(url);
      expect(response.status).toBe(400);
      expect(response.body.error.details).toEqual([expect.objectContaining({ field: 'url' })]);
      expect((await request(app, 'GET', '/api/webhooks', { token: admin.token })).body.items.map((item: { url: string }) => item.url)).not.toContain(url);
    },
  );

  it('when a name passes the check but resolves to a private address at send time (DNS rebinding), then the connection is refused, the delivery fails without retries and the receiver gets nothing', async () => {
    // This machine's own name resolves to loopback or its private address: a stand-in for a rebinding name.
    const hostname = os.hostname();
    const addresses = await dns.lookup(hostname, { all: true });
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.every((entry) => isForbiddenAddress(entry.address))).toBe(true);
    const receiver = await startReceiver();
    receivers.push(receiver);
    const created = await subscribe(`http://${hostname}:${receiver.port}/hook`);
    expect(created.status).toBe(201);

    const task = await fileWarrantyClaim(app, world, 'Rebinding probe');
    const delivery = await eventually('the delivery to finish', async () => {
      const [found] = (await request(app, 'GET', `/api/webhooks/${created.body.subscription.id}/deliveries`, { token: admin.token })).body.items.filter((item: { taskId: string }) => item.taskId === task.id);
      return found?.state === 'failed' || found?.state === 'delivered' ? found : undefined;
    }, 10_000);
    expect(delivery.state).toBe('failed');
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0].error).toMatch(/refused/);
    expect(receiver.hits).toBe(0);
  }, 20_000);

  describe('the sender itself', () => {
    const repository = () => new WebhookRepository(app.mongo);
    /** A delivery of a stored subscription, ready for one attempt. */
    const pendingDelivery = async (url: string) => {
      const subscriptionId = `${Date.now().toString(16).padStart(12, '0')}${Math.floor(Math.random() * 0xffffffff).toString(16).padStart(12, '0')}`.slice(0, 24);
      await repository().insertSubscription({ _id: subscriptionId, url, events: ['*'], description: '', secret: 'whsec_test_secret_value_0123456789', createdBy: admin.id });
      const deliveryId = `${subscriptionId}-task-1-created`;
      await repository().insertDelivery({ _id: deliveryId, subscriptionId, taskId: 'task', taskVersion: 1, event: 'task.created', body: '{}', state: 'pending', attempts: [], redeliveries: 0 });
      return deliveryId;
    };
    const service = (policy: { httpsOnly: boolean; allowPrivateTargets: boolean }) =>
      new WebhookService({ repository: repository(), queue: { enqueue: async () => undefined }, log: app.log, timeoutMs: 5_000, policy, maxResponseBytes: 64 * 1024 });

    it('when production (https only) and a stored webhook is http://, then the send is refused and fails without retry', async () => {
      const receiver = await startReceiver();
      receivers.push(receiver);
      const deliveryId = await pendingDelivery(`http://127.0.0.1:${receiver.port}/hook`);
      expect(await service({ httpsOnly: true, allowPrivateTargets: true }).deliver(deliveryId, { final: false })).toBe('failed');
      expect(receiver.hits).toBe(0);
    });

    it('when the receiver answers with a huge body, then at most 64 KB of it is read and the delivery counts', async () => {
      let written = 0;
      let closedEarly = false;
      const receiver = await startReceiver((res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 7);
        const pump = () => {
          if (res.destroyed || written >= 10 * 1024 * 1024) return res.end();
          written += chunk.length;
          res.write(chunk);
          setTimeout(pump, 2);
        };
        res.on('close', () => {
          if (!res.writableFinished) closedEarly = true;
        });
        pump();
      });
      receivers.push(receiver);
      const deliveryId = await pendingDelivery(`http://127.0.0.1:${receiver.port}/hook`);
      expect(await service({ httpsOnly: false, allowPrivateTargets: true }).deliver(deliveryId, { final: false })).toBe('delivered');
      await eventually('the receiver sees the cut', () => closedEarly);
      expect(written).toBeLessThan(2 * 1024 * 1024);
    });
  });
});

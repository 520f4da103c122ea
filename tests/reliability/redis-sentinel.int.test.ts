import { Redis } from 'ioredis';
import { eventually, textFrom } from '../integration/routing-support';
import { startPrivateRedisSentinel, type PrivateSentinelRedis } from '../support/private-stores';
import { createUserAndLogin, request, startTestApp, type TestApp, type TestUser } from '../support/test-app';

/**
 * Production Redis runs behind Sentinel (issue 13, Operations). The app is given only a
 * redis+sentinel:// URL: it finds the master through the Sentinel, and when the master dies and
 * Sentinel promotes the replica, it reconnects to the new master on its own. Replication is
 * asynchronous, so what the replica missed is rebuilt from MongoDB by the reconciler (new run_id).
 */
describe('when Redis runs behind Sentinel and the master dies', () => {
  let stores: PrivateSentinelRedis;
  let app: TestApp;
  let supervisor: TestUser;
  let sequence = 0;

  beforeAll(async () => {
    stores = await startPrivateRedisSentinel({ downAfterMs: 1000, failoverTimeoutMs: 3000 });
    app = await startTestApp({ REDIS_URL: stores.url });
    supervisor = await createUserAndLogin(app, 'supervisor');
  }, 40_000);

  afterAll(async () => {
    await app?.destroy();
    await stores?.destroy();
  });

  const text = () => {
    sequence += 1;
    const unique = `${Date.now().toString(16)}${sequence.toString(16).padStart(4, '0')}`;
    return textFrom(app, `+8613900${String(100_000 + sequence)}`.slice(0, 14), `SM${unique.padStart(32, '0')}`);
  };

  const waiting = async (): Promise<string[]> => {
    const response = await request(app, 'GET', '/api/routing/queues/sms/waiting?limit=500', { token: supervisor.token });
    expect(response.status).toBe(200);
    return (response.body.items as { interactionId: string }[]).map((item) => item.interactionId);
  };

  const keysOn = async (port: number): Promise<number> => {
    const direct = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      await direct.connect();
      return (await direct.keys(`${app.config.REDIS_KEY_PREFIX}*`)).length;
    } finally {
      direct.disconnect();
    }
  };

  it('then the app works through Sentinel, reconnects to the promoted replica within 15 s, and what waited still waits', async () => {
    // Through Sentinel: contacts are queued, and the keys are on the master Sentinel named.
    const before = [await text(), await text(), await text()];
    await eventually('contacts queued through Sentinel', async () => (await waiting()).length === 3, 10_000);
    expect(new Set(await waiting())).toEqual(new Set(before));
    expect(await stores.masterPort()).toBe(stores.master.port);
    expect(await keysOn(stores.master.port)).toBeGreaterThan(0);

    // One more contact, and the master dies right after, as a crash would: its queue entry may not
    // have reached the replica (asynchronous replication); MongoDB has it, and the rebuild puts it back.
    const lastBefore = await text();
    const killedAt = Date.now();
    await stores.master.kill('SIGKILL');

    // Sentinel promotes the replica; the app finds it without being told.
    await eventually('Sentinel promoted the replica', async () => (await stores.masterPort()) === stores.replica.port, 15_000);
    await eventually('/readyz ready again', async () => {
      const response = await request(app, 'GET', '/readyz');
      return response.status === 200 && response.body.status === 'ready';
    }, 15_000);
    const after = await text();
    await eventually('a new contact queued on the new master', async () => {
      const now = await waiting();
      return now.includes(after) && now.includes(lastBefore);
    }, 15_000);
    const recoveredMs = Date.now() - killedAt;
    expect(recoveredMs).toBeLessThan(15_000);

    // Nothing that waited before the failover was lost, and the new master holds the app's state.
    expect(new Set(await waiting())).toEqual(new Set([...before, lastBefore, after]));
    expect(await keysOn(stores.replica.port)).toBeGreaterThan(0);
  }, 40_000);
});

import { Redis } from 'ioredis';
import { eventually, testQueues, textFrom } from '../integration/routing-support';
import { startTestApp, type TestApp } from '../support/test-app';

const phone = (n: number) => `+86138${String(20_000_000 + n * 104_729).slice(0, 8)}`;
const sid = (n: number) => `SM${Date.now().toString(16)}${n.toString(16).padStart(8, '0')}`;

/** What a lost enqueue leaves: the contact stored in MongoDB but in no queue (Redis never got it, or lost it). */
async function loseFromRouting(app: TestApp, interactionId: string, queue: string): Promise<void> {
  const prefix = `${app.config.REDIS_KEY_PREFIX}routing:`;
  await app.redis.multi().zrem(`${prefix}queue:${queue}`, interactionId).del(`${prefix}contact:${interactionId}`).exec();
}

const waitingIn = async (app: TestApp, queue: string) => (await app.redis.zrange(`${app.config.REDIS_KEY_PREFIX}routing:queue:${queue}`, '0', '-1'));

/** The reconciler's triggers: at start, a Redis reset, the connection back after a loss, the interval. */
describe('the reconciler', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const app of apps.reverse()) await app.destroy();
  });
  const start = async (overrides: Record<string, string | number> = {}, routing: false | undefined = undefined) => {
    const app = await startTestApp(overrides, { routing: routing === false ? false : { queuesConfig: testQueues() } });
    apps.push(app);
    return app;
  };

  it('when a contact was stored while no node routed it, then the next node to start queues it', async () => {
    // A node without routing records the text (as one whose Redis write failed would leave it).
    const recorder = await start({}, false);
    const interactionId = await textFrom(recorder, phone(1), sid(1));
    await recorder.close();
    const app = await start({ MONGODB_URI: recorder.config.MONGODB_URI, REDIS_KEY_PREFIX: recorder.config.REDIS_KEY_PREFIX });
    await eventually('the contact queued at start', async () => (await waitingIn(app, 'sms')).includes(interactionId));
    await eventually('the start run counted', () => app.reconciler.stats().runs >= 1);
    expect(app.reconciler.stats().repaired['routing.waiting']).toBe(1);
  }, 60_000);

  describe('on a running node', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await start();
      await eventually('the start run done', () => app.reconciler.stats().runs >= 1);
    }, 30_000);

    it('when the generation key vanishes with the routing keys (Redis emptied), then within a few seconds the contact waits again and the reset is counted', async () => {
      const interactionId = await textFrom(app, phone(2), sid(2));
      await eventually('queued', async () => (await waitingIn(app, 'sms')).includes(interactionId));
      const before = app.reconciler.stats();
      const keys = await app.redis.keys(`${app.config.REDIS_KEY_PREFIX}*`);
      await app.redis.del(...keys);
      await eventually('the contact back in its queue', async () => (await waitingIn(app, 'sms')).includes(interactionId), 6_000);
      const after = app.reconciler.stats();
      expect(after.resets).toBe(before.resets + 1);
      expect(after.last?.trigger).toMatch(/^reset: generation key vanished/);
      // A new generation is set, so the next check does not see a reset again.
      await expect(app.redis.get(`${app.config.REDIS_KEY_PREFIX}generation`)).resolves.toEqual(expect.any(String));
    }, 30_000);

    it('when the command connection is cut and comes back, then what routing lost meanwhile is put back', async () => {
      const interactionId = await textFrom(app, phone(3), sid(3));
      await eventually('queued', async () => (await waitingIn(app, 'sms')).includes(interactionId));
      await loseFromRouting(app, interactionId, 'sms');
      const killer = new Redis(app.config.REDIS_URL);
      try {
        const id = await app.redis.client('ID');
        await killer.client('KILL', 'ID', String(id));
      } finally {
        killer.disconnect();
      }
      await eventually('the contact back in its queue', async () => (await waitingIn(app, 'sms')).includes(interactionId), 6_000);
      expect(app.reconciler.stats().last?.trigger).toContain('reconnected');
    }, 30_000);

    it('when one repair fails, then the others still run and the failure is counted', async () => {
      const ran: string[] = [];
      app.reconciler.register({ name: 'test.failing', run: async () => Promise.reject(new Error('boom')) }, { name: 'test.after', run: async () => (ran.push('after'), 2) });
      const outcomes = await app.reconciler.request('test');
      expect(outcomes).toEqual(expect.arrayContaining([{ name: 'test.failing', error: 'boom' }, { name: 'test.after', repaired: 2 }]));
      expect(ran).toEqual(['after']);
      expect(app.reconciler.stats()).toMatchObject({ failures: { 'test.failing': 1 }, repaired: { 'test.after': 2 }, last: { result: 'failed' } });
    });
  });

  it('when RECONCILE_INTERVAL passes, then a contact routing lost without any reset is queued again', async () => {
    const app = await start({ RECONCILE_INTERVAL: '1s' });
    const interactionId = await textFrom(app, phone(4), sid(4));
    await eventually('queued', async () => (await waitingIn(app, 'sms')).includes(interactionId));
    await loseFromRouting(app, interactionId, 'sms');
    await eventually('the contact back in its queue', async () => (await waitingIn(app, 'sms')).includes(interactionId), 5_000);
    expect(app.reconciler.stats()).toMatchObject({ resets: 0 });
    expect(app.reconciler.stats().last?.trigger).toContain('interval');
  }, 30_000);
});

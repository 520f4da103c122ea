import { Redis } from 'ioredis';
import { eventually, testQueues, textFrom } from '../integration/routing-support';
import { connectSocket } from '../support/socket';
import { createUserAndLogin, request, startTestApp, type TestApp } from '../support/test-app';

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
  const start = async (overrides: Record<string, string | number> = {}, routing: false | { wrapUpSeconds: number } | undefined = undefined) => {
    const app = await startTestApp(overrides, { routing: routing === false ? false : { queuesConfig: testQueues(routing) } });
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
      // The contact is back before the run ends and counts it.
      const after = await eventually('the reset run counted', () => {
        const stats = app.reconciler.stats();
        return stats.last?.trigger.startsWith('reset: generation key vanished') ? stats : undefined;
      });
      expect(after.resets).toBe(before.resets + 1);
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
      await eventually('the run after the reconnect counted', () => app.reconciler.stats().last?.trigger.includes('reconnected'));
    }, 30_000);

    it('when an offer is pending for a contact routing lost, then the offer is rescinded, the agent freed, and the contact queued and offered again', async () => {
      const agent = await createUserAndLogin(app, 'agent');
      const desk = await connectSocket(app.url, { token: agent.token });
      try {
        expect((await desk.act('state:set', { state: 'available' })).ok).toBe(true);
        await textFrom(app, phone(6), sid(6));
        // The best-placed text in the queue (earlier tests left some waiting).
        const first = await desk.waitFor('offer');
        const interactionId = first.data.reservation.interactionId as string;
        await app.redis.del(`${app.config.REDIS_KEY_PREFIX}routing:contact:${interactionId}`);
        const outcomes = await app.reconciler.request('test');
        expect(outcomes).toEqual(expect.arrayContaining([{ name: 'routing.reservations', repaired: 1 }, { name: 'routing.waiting', repaired: 1 }]));
        const ended = await desk.waitFor('offer_ended', (payload) => payload.data.reservation.id === first.data.reservation.id);
        expect(ended.data.reservation.state).toBe('rescinded');
        const again = await desk.waitFor('offer', (payload) => payload.data.reservation.interactionId === interactionId && payload.data.reservation.id !== first.data.reservation.id);
        expect(again.data.reservation.agentId).toBe(agent.id);
        await desk.act('offer:reject', { reservationId: again.data.reservation.id });
      } finally {
        desk.close();
      }
    }, 20_000);

    it('when one repair fails, then the others still run and the failure is counted', async () => {
      const ran: string[] = [];
      app.reconciler.register({ name: 'test.failing', run: async () => Promise.reject(new Error('boom')) }, { name: 'test.after', run: async () => (ran.push('after'), 2) });
      const outcomes = await app.reconciler.request('test');
      expect(outcomes).toEqual(expect.arrayContaining([{ name: 'test.failing', error: 'boom' }, { name: 'test.after', repaired: 2 }]));
      expect(ran).toEqual(['after']);
      expect(app.reconciler.stats()).toMatchObject({ failures: { 'test.failing': 1 }, repaired: { 'test.after': 2 }, last: { result: 'failed' } });
    });
  });

  it('when Redis is emptied while an agent is in wrap-up, then the wrap-up is theirs again, ends on its timer, and they are available as before', async () => {
    const app = await start({}, { wrapUpSeconds: 4 });
    const agent = await createUserAndLogin(app, 'agent');
    const desk = await connectSocket(app.url, { token: agent.token });
    try {
      expect((await desk.act('state:set', { state: 'available' })).ok).toBe(true);
      const interactionId = await textFrom(app, phone(5), sid(5));
      const offer = await desk.waitFor('offer', (payload) => payload.data.reservation.interactionId === interactionId);
      expect((await desk.act('offer:accept', { reservationId: offer.data.reservation.id })).ok).toBe(true);
      expect((await desk.act('work:complete', { interactionId })).ok).toBe(true);
      const completedAt = Date.now();

      await app.redis.del(...(await app.redis.keys(`${app.config.REDIS_KEY_PREFIX}*`)));
      const me = async () => (await request(app, 'GET', '/api/routing/me', { token: agent.token })).body;
      // The work comes back first, the agent's state (available, as this node last saw it) right after.
      const restored = await eventually('the wrap-up back in hand', async () => {
        const snapshot = await me();
        return snapshot.work?.length && snapshot.state !== 'offline' ? snapshot : undefined;
      }, 3_500);
      expect(restored).toMatchObject({ state: 'wrap_up', load: 30, work: [expect.objectContaining({ interactionId, phase: 'wrap_up' })] });

      await eventually('the interaction closed by the wrap-up timer', async () => (await app.services.interactions.getInteractionState(interactionId)).status === 'closed', 8_000);
      // Not before the wrap-up time had passed since the agent completed the work.
      expect(Date.now() - completedAt).toBeGreaterThanOrEqual(3_500);
      await eventually('available with nothing in hand', async () => {
        const snapshot = await me();
        return snapshot.state === 'available' && snapshot.work.length === 0 && snapshot.load === 0;
      });
    } finally {
      desk.close();
    }
  }, 40_000);

  it('when Redis is emptied while an agent is connected who never chose a state, then they are put back away (recovered), not available', async () => {
    const app = await start();
    const agent = await createUserAndLogin(app, 'agent');
    const desk = await connectSocket(app.url, { token: agent.token });
    try {
      await desk.waitFor('snapshot');
      await app.redis.del(...(await app.redis.keys(`${app.config.REDIS_KEY_PREFIX}*`)));
      const state = await desk.waitFor('state', (payload) => payload.data?.stateReason === 'recovered', 6_000);
      expect(state.data).toMatchObject({ agentId: agent.id, state: 'away', stateReason: 'recovered' });
    } finally {
      desk.close();
    }
  }, 30_000);

  it('when Redis is emptied under two nodes, then each sees the reset and the node holding an agent\'s desk puts back the state it last saw', async () => {
    const first = await start();
    const second = await start({ MONGODB_URI: first.config.MONGODB_URI, REDIS_KEY_PREFIX: first.config.REDIS_KEY_PREFIX, AUTH_TOKEN_SECRET: first.config.AUTH_TOKEN_SECRET! });
    const agent = await createUserAndLogin(first, 'agent');
    const desk = await connectSocket(second.url, { token: agent.token });
    try {
      expect((await desk.act('state:set', { state: 'away', reason: 'lunch' })).ok).toBe(true);
      const interactionId = await textFrom(first, phone(7), sid(7));
      await eventually('queued', async () => (await waitingIn(first, 'sms')).includes(interactionId));
      const statesBefore = desk.received.filter((item) => item.event === 'state').length;
      await first.redis.del(...(await first.redis.keys(`${first.config.REDIS_KEY_PREFIX}*`)));

      await eventually('both nodes saw the reset', () => first.reconciler.stats().resets === 1 && second.reconciler.stats().resets === 1, 6_000);
      await eventually('the contact back in its queue', async () => (await waitingIn(first, 'sms')).includes(interactionId), 6_000);
      const state = await eventually('a fresh snapshot at the desk', () => desk.received.filter((item) => item.event === 'state')[statesBefore], 6_000);
      expect(state.payload.data).toMatchObject({ agentId: agent.id, state: 'away', stateReason: 'lunch' });
      // Read from the other node: the state is in Redis again, not only in the desk's memory.
      const me = await request(first, 'GET', '/api/routing/me', { token: agent.token });
      expect(me.body).toMatchObject({ state: 'away', stateReason: 'lunch' });
    } finally {
      desk.close();
    }
  }, 40_000);

  it('when RECONCILE_INTERVAL passes, then a contact routing lost without any reset is queued again', async () => {
    const app = await start({ RECONCILE_INTERVAL: '1s' });
    const interactionId = await textFrom(app, phone(4), sid(4));
    await eventually('queued', async () => (await waitingIn(app, 'sms')).includes(interactionId));
    await loseFromRouting(app, interactionId, 'sms');
    await eventually('the contact back in its queue', async () => (await waitingIn(app, 'sms')).includes(interactionId), 5_000);
    await eventually('the interval run counted', () => app.reconciler.stats().last?.trigger.includes('interval'));
    expect(app.reconciler.stats()).toMatchObject({ resets: 0 });
  }, 30_000);
});

import type { Redis } from 'ioredis';
import { createRedis } from '../../src/platform/redis';
import type { RoutingEvent } from '../../src/routing';
import { QueueCounters } from '../../src/routing/queue-counters.store';
import { RoutingStore, type StoredReservation, type WorkRecord } from '../../src/routing/routing.store';
import { createUserAndLogin, startTestApp, testConfig, uniqueName, type TestApp } from '../support/test-app';
import { eventually, startRouting, testQueues, type RoutingHarness, textFrom } from './routing-support';

/**
 * The day counters are written by the very script that makes each event happen, so the count and
 * the state change are one atomic step: whatever races, each contact is offered once, and either
 * answered or abandoned, never both. "Two processes" are two RoutingStores on their own Redis
 * connections with one prefix.
 */
describe('queue day counters (store level)', () => {
  const prefix = `${uniqueName('sbcounters')}:`;
  const url = testConfig().REDIS_URL;
  let here: Redis;
  let there: Redis;
  let a: RoutingStore;
  let b: RoutingStore;
  let counters: QueueCounters;

  beforeAll(() => {
    here = createRedis(url);
    there = createRedis(url);
    counters = new QueueCounters(here, prefix);
    a = new RoutingStore(here, prefix, { counters });
    b = new RoutingStore(there, prefix);
  });
  afterAll(async () => {
    const keys = await here.keys(`${prefix}*`);
    if (keys.length) await here.del(...keys);
    await Promise.all([here.quit(), there.quit()]);
  });

  const enqueue = (store: RoutingStore, interactionId: string, queue: string, enqueuedAt = Date.now(), options: { count?: boolean } = {}) =>
    store.enqueue({ interactionId, queue, channel: 'sms', customerId: 'customer-1', score: enqueuedAt, enqueuedAt }, options);
  let offers = 0;
  const offer = async (interactionId: string, queue: string, agentId: string): Promise<StoredReservation> => {
    const now = new Date();
    offers += 1;
    const reservation: StoredReservation = {
      id: `res-${interactionId}-${offers}`, interactionId, agentId, queue, channel: 'sms', state: 'pending', weight: 10,
      offeredAt: now.toISOString(), expiresAt: new Date(now.getTime() + 60_000).toISOString(),
    };
    expect(await a.claim({ reservation, expiresAtMs: now.getTime() + 60_000 })).toBe('ok');
    return reservation;
  };
  const workFor = (reservation: StoredReservation): WorkRecord => ({
    interactionId: reservation.interactionId, channel: 'sms', queue: reservation.queue, phase: 'active', since: new Date().toISOString(), reservationId: reservation.id, weight: reservation.weight,
  });

  it('when two processes enqueue the same contact at once, then it is queued and counted once; a put-back is not counted', async () => {
    const results = await Promise.all([enqueue(a, 'twice-1', 'q-enqueue'), enqueue(b, 'twice-1', 'q-enqueue'), enqueue(b, 'twice-1', 'q-enqueue')]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await a.waitingCount('q-enqueue')).toBe(1);
    expect((await counters.read('q-enqueue')).offered).toBe(1);

    expect(await enqueue(a, 'put-back-1', 'q-enqueue', Date.now(), { count: false })).toBe(true);
    expect((await counters.read('q-enqueue')).offered).toBe(1);
    // The counter keeps its TTL (a week and a day), like any other day hash.
    expect(await here.ttl(counters.key('q-enqueue', new Date()))).toBeGreaterThan(7 * 86_400);
  });

  it('when an accept and a rescind for an abandoned caller meet, in either order or at once, then each contact counts exactly one of answered and abandoned', async () => {
    await a.writeAgentState('agent-race', 'available', undefined, true);
    const reservations: StoredReservation[] = [];
    for (let index = 0; index < 9; index += 1) {
      await enqueue(a, `race-${index}`, 'q-race');
      reservations.push(await offer(`race-${index}`, 'q-race', 'agent-race'));
    }
    const outcomes = await Promise.all(
      reservations.map(async (reservation, index) => {
        // Each on its own connection: accept first, rescind first, or both sent at once.
        const accept = async () => (await a.accept(reservation, 'agent-race', workFor(reservation), { serviceLevelSeconds: 20 })) === 'ok';
        const rescind = async () => (await b.release(reservation, { state: 'rescinded', requeue: false, countMiss: false, maxMissed: 3, abandoned: true })).outcome === 'ok';
        if (index % 3 === 0) {
          const accepted = await accept();
          return { accepted, rescinded: await rescind() };
        }
        if (index % 3 === 1) {
          const rescinded = await rescind();
          return { accepted: await accept(), rescinded };
        }
        const [accepted, rescinded] = await Promise.all([accept(), rescind()]);
        return { accepted, rescinded };
      }),
    );
    for (const outcome of outcomes) expect(outcome.accepted).not.toBe(outcome.rescinded);
    expect(outcomes.filter((outcome) => outcome.accepted).length).toBeGreaterThanOrEqual(3);
    expect(outcomes.filter((outcome) => outcome.rescinded).length).toBeGreaterThanOrEqual(3);
    const day = await counters.read('q-race');
    const answered = outcomes.filter((outcome) => outcome.accepted).length;
    expect(day).toMatchObject({ offered: 9, answered, answered_in_sl: answered, abandoned: 9 - answered });
  });

  it('when a contact is accepted after the service level, then answered counts it and answered_in_sl does not', async () => {
    await a.writeAgentState('agent-sl', 'available', undefined, true);
    await enqueue(a, 'late-1', 'q-sl', Date.now() - 21_000);
    const reservation = await offer('late-1', 'q-sl', 'agent-sl');
    expect(await b.accept(reservation, 'agent-sl', workFor(reservation), { serviceLevelSeconds: 20 })).toBe('ok');
    // A second accept (a retried request) finds the offer accepted and counts nothing.
    expect(await a.accept(reservation, 'agent-sl', workFor(reservation), { serviceLevelSeconds: 20 })).toBe('accepted');
    expect(await counters.read('q-sl')).toMatchObject({ answered: 1, answered_in_sl: 0 });
  });

  it('when an accept is undone (the call could not be connected) and the contact put back and answered again, then it counts as answered once', async () => {
    await a.writeAgentState('agent-undo', 'available', undefined, true);
    await enqueue(a, 'undo-1', 'q-undo');
    const first = await offer('undo-1', 'q-undo', 'agent-undo');
    expect(await a.accept(first, 'agent-undo', workFor(first), { serviceLevelSeconds: 20 })).toBe('ok');
    expect(await counters.read('q-undo')).toMatchObject({ offered: 1, answered: 1, answered_in_sl: 1 });

    const undone = await Promise.all([a.undoAccept('agent-undo', 'undo-1', first.id), b.undoAccept('agent-undo', 'undo-1', first.id)]);
    expect(undone.filter(Boolean)).toHaveLength(1);
    expect(await counters.read('q-undo')).toMatchObject({ answered: 0, answered_in_sl: 0 });

    await enqueue(a, 'undo-1', 'q-undo', Date.now(), { count: false });
    const second = await offer('undo-1', 'q-undo', 'agent-undo');
    expect(await a.accept(second, 'agent-undo', workFor(second), { serviceLevelSeconds: 20 })).toBe('ok');
    expect(await counters.read('q-undo')).toMatchObject({ offered: 1, answered: 1, answered_in_sl: 1 });
  });

  it('when a contact is transferred and accepted again, then it is not answered twice', async () => {
    await a.writeAgentState('agent-t1', 'available', undefined, true);
    await a.writeAgentState('agent-t2', 'available', undefined, true);
    await enqueue(a, 'transfer-1', 'q-transfer');
    const first = await offer('transfer-1', 'q-transfer', 'agent-t1');
    expect(await a.accept(first, 'agent-t1', workFor(first), { serviceLevelSeconds: 20 })).toBe('ok');
    const contact = (await a.contact('transfer-1'))!;
    expect(await a.transfer({ item: workFor(first), contact, fromAgentId: 'agent-t1', queue: 'q-transfer', note: 'over to you', targetAgentId: 'agent-t2' })).toBe('ok');
    const second = await offer('transfer-1', 'q-transfer', 'agent-t2');
    expect(await b.accept(second, 'agent-t2', workFor(second), { serviceLevelSeconds: 20 })).toBe('ok');
    expect(await counters.read('q-transfer')).toMatchObject({ offered: 1, answered: 1 });
  });

  it('when two processes overflow the same contact at once, then it moves once and counts overflowed in one queue and offered in the other once', async () => {
    await enqueue(a, 'move-1', 'q-from');
    const moved = await Promise.all([a.move('move-1', 'q-from', 'q-to', 1), b.move('move-1', 'q-from', 'q-to', 1), b.move('move-1', 'q-from', 'q-to', 1)]);
    expect(moved.filter(Boolean)).toHaveLength(1);
    expect(await counters.read('q-from')).toMatchObject({ offered: 1, overflowed: 1 });
    expect(await counters.read('q-to')).toMatchObject({ offered: 1, overflowed: 0 });
  });

  it('when a caller hangs up while the contact moves to another queue, then the cancel aimed at the old queue removes nothing and says so', async () => {
    await enqueue(a, 'move-2', 'q-from2');
    expect(await a.move('move-2', 'q-from2', 'q-to2', 1)).toBe(true);
    expect(await b.cancel('move-2', 'q-from2', { abandoned: true })).toEqual({ state: 'moved' });
    expect(await a.waitingCount('q-to2')).toBe(1);
    expect(await b.cancel('move-2', 'q-to2', { abandoned: true })).toEqual({ state: 'removed' });
    expect(await a.waitingCount('q-to2')).toBe(0);
    expect(await counters.read('q-from2')).toMatchObject({ abandoned: 0, overflowed: 1 });
    expect(await counters.read('q-to2')).toMatchObject({ offered: 1, abandoned: 1 });
  });
});

describe('queue day counters through two routing processes', () => {
  let app: TestApp;
  let first: RoutingHarness;
  let second: RoutingHarness;

  beforeAll(async () => {
    app = await startTestApp({}, { routing: false });
    first = await startRouting(app, { queuesConfig: testQueues() });
    second = await startRouting(app, { queuesConfig: testQueues() });
  });
  afterAll(async () => {
    await first.close();
    await second.close();
    await app.destroy();
  });


  it('when texts arrive (both processes enqueue each) and each offer is accepted by the agent while the customer leaves, then the day counts every text once and each either answered or abandoned', async () => {
    const agent = await createUserAndLogin(app, 'agent');
    await first.routing.profiles.save({ agentId: agent.id, capacity: { sms: 10 } });
    const ids: string[] = [];
    for (let index = 0; index < 6; index += 1) ids.push(await textFrom(app, `+8613900001${String(index).padStart(3, '0')}`, `SMcount${index}`));
    await first.routing.desk.setAgentState(agent.id, 'available');
    const offers = await eventually('an offer for every text', () => {
      const made = first.events.concat(second.events).flatMap((event) => (event.type === 'offer' && event.agentId === agent.id ? [event as Extract<RoutingEvent, { type: 'offer' }>] : []));
      return made.length >= ids.length && made;
    });
    const accepted = await Promise.all(
      offers.map(async (offer) => {
        const [acceptedHere] = await Promise.all([
          first.routing.desk.accept(agent.id, offer.reservation.id).then(() => true, () => false),
          second.routing.cancel(offer.reservation.interactionId, 'abandoned'),
        ]);
        return acceptedHere;
      }),
    );
    const { today } = await first.routing.desk.queueSnapshot!('sms');
    const answered = accepted.filter(Boolean).length;
    expect(today).toMatchObject({ offered: ids.length, answered, abandoned: ids.length - answered });
  });
});

import type { Redis } from 'ioredis';
import { createRedis } from '../../src/platform/redis';
import { AgentPicture, displayedState } from '../../src/routing/agent-picture';
import type { Matcher } from '../../src/routing/matcher';
import { RoutingStore, type StoredReservation, type WorkRecord } from '../../src/routing/routing.store';
import { startTestApp, testConfig, uniqueName, type TestApp } from '../support/test-app';
import { offersFor, startRouting, testQueues, type RoutingHarness } from './routing-support';

/**
 * The agent change journal: a process's picture of the agents is brought up to date by reading only
 * the agents that changed since it last looked, so it must see every change any other process made.
 * "Another process" here is a second RoutingStore on its own Redis connection and the same prefix.
 */
describe('agent change journal (store level)', () => {
  const prefix = `${uniqueName('sbjournal')}:`;
  const url = testConfig().REDIS_URL;
  let here: Redis;
  let there: Redis;
  let local: RoutingStore;
  let remote: RoutingStore;

  beforeAll(() => {
    here = createRedis(url);
    there = createRedis(url);
    local = new RoutingStore(here, prefix);
    remote = new RoutingStore(there, prefix);
  });
  afterAll(async () => {
    const keys = await here.keys(`${prefix}*`);
    if (keys.length) await here.del(...keys);
    await Promise.all([here.quit(), there.quit()]);
  });

  const reservationFor = (interactionId: string, agentId: string, weight: number): StoredReservation => {
    const now = new Date();
    return {
      id: `res-${interactionId}`, interactionId, agentId, queue: 'sms', channel: 'sms', state: 'pending', weight,
      offeredAt: now.toISOString(), expiresAt: new Date(now.getTime() + 60_000).toISOString(),
    };
  };
  const offer = async (interactionId: string, agentId: string) => {
    await remote.enqueue({ interactionId, queue: 'sms', channel: 'sms', customerId: 'customer-1', score: Date.now(), enqueuedAt: Date.now() });
    const reservation = reservationFor(interactionId, agentId, 30);
    expect(await remote.claim({ reservation, expiresAtMs: Date.now() + 60_000 })).toBe('ok');
    return reservation;
  };

  it('when another process connects, sets state, offers, accepts, wraps up, finishes and disconnects, then each refresh shows exactly that', async () => {
    const picture = new AgentPicture(local);
    await remote.connect('agent-1', 'node-b', 's1');
    await picture.refresh();
    expect(picture.get('agent-1')).toMatchObject({ state: 'offline', connections: ['node-b:s1'], work: [] });

    await remote.writeAgentState('agent-1', 'available', undefined, true);
    await picture.refresh();
    expect(picture.get('agent-1')).toMatchObject({ state: 'available', load: 0 });

    const reservation = await offer('contact-1', 'agent-1');
    await picture.refresh();
    expect(picture.get('agent-1')).toMatchObject({ state: 'available', load: 30 });

    const work: WorkRecord = { interactionId: 'contact-1', channel: 'sms', queue: 'sms', phase: 'active', since: new Date().toISOString(), reservationId: reservation.id, weight: 30 };
    expect(await remote.accept(reservation, 'agent-1', work)).toBe('ok');
    await picture.refresh();
    expect(picture.get('agent-1')?.work).toEqual([work]);
    expect(displayedState(picture.get('agent-1')!)).toBe('busy');

    await remote.putWorkItem('agent-1', { ...work, phase: 'wrap_up' });
    await picture.refresh();
    expect(displayedState(picture.get('agent-1')!)).toBe('wrap_up');

    expect(await remote.finishWork('agent-1', 'contact-1', reservation.id)).toBe(true);
    await picture.refresh();
    expect(picture.get('agent-1')).toMatchObject({ load: 0, work: [] });
    expect(displayedState(picture.get('agent-1')!)).toBe('available');

    await remote.disconnect('agent-1', 'node-b', 's1');
    await picture.refresh();
    expect(picture.get('agent-1')?.connections).toEqual([]);
  });

  it('when an offer ends by timeout elsewhere, then the picture shows the capacity given back and the miss', async () => {
    const picture = new AgentPicture(local);
    await remote.writeAgentState('agent-2', 'available', undefined, true);
    const reservation = await offer('contact-2', 'agent-2');
    await picture.refresh();
    expect(picture.get('agent-2')).toMatchObject({ load: 30, missed: 0 });

    expect((await remote.release(reservation, { state: 'timeout', requeue: true, countMiss: true, maxMissed: 3 })).outcome).toBe('ok');
    await picture.refresh();
    expect(picture.get('agent-2')).toMatchObject({ load: 0, missed: 1, state: 'available' });
  });

  it('when a dead node\'s connection is swept elsewhere, then the picture loses it and marks the agent orphaned', async () => {
    const picture = new AgentPicture(local);
    const gen = await remote.connect('agent-3', 'node-dead', 's9');
    await remote.registerNode('node-dead', 60_000);
    await picture.refresh();
    expect(picture.get('agent-3')?.connections).toEqual(['node-dead:s9']);

    await remote.stopHeartbeat('node-dead');
    expect((await remote.sweepConnection('node-dead', 's9', 'agent-3')).outcome).toBe('swept');
    await picture.refresh();
    expect(picture.get('agent-3')).toMatchObject({ connections: [], orphanedGen: gen, presenceGen: gen });
  });

  it('when nothing changed since a journal number, then reading from it returns no agent; the journal keeps one entry per agent', async () => {
    const { seq } = await local.agentChanges(-1);
    expect(await local.agentChanges(seq)).toEqual({ seq, full: false, agents: [] });

    await remote.writeAgentState('agent-1', 'away', 'lunch', false);
    await remote.writeAgentState('agent-1', 'available', undefined, true);
    const changes = await local.agentChanges(seq);
    expect(changes.seq).toBe(seq + 2);
    expect(changes.agents.map((agent) => agent.agentId)).toEqual(['agent-1']);
    expect(await here.zcard(local.key.journal())).toBe((await here.smembers(local.key.agents())).length);
  });

  it('when the journal was reset (Redis lost it), then the next refresh reads every agent again instead of trusting its old number', async () => {
    const picture = new AgentPicture(local);
    await picture.refresh();
    expect(picture.get('agent-2')?.state).toBe('available');
    // What a Redis restart without persistence leaves: no journal, and agents written afresh.
    await here.del(local.key.journalSeq(), local.key.journal());
    await remote.writeAgentState('agent-2', 'away', 'meeting', false);
    await picture.refresh();
    expect(picture.get('agent-2')).toMatchObject({ state: 'away', reason: 'meeting' });
    expect(picture.get('agent-1')?.state).toBe('available');
  });

  it('when contacts wait with tier bonuses and offers ring, then the queue summary finds the oldest and the counter the offers in flight', async () => {
    const base = 1_700_000_000_000;
    const enqueue = (interactionId: string, enqueuedAt: number, score: number) => remote.enqueue({ interactionId, queue: 'summary', channel: 'voice', customerId: 'customer-1', enqueuedAt, score });
    expect(await local.waitingSummary('summary')).toEqual({ count: 0 });
    await enqueue('late-vip', base + 9_000, base + 9_000 - 180_000);
    await enqueue('early', base + 1_000, base + 1_000);
    await enqueue('later', base + 5_000, base + 5_000);
    expect(await local.waitingSummary('summary')).toEqual({ count: 3, oldestEnqueuedAt: base + 1_000 });

    const before = (await local.pendingByQueue()).get('sms') ?? 0;
    await remote.writeAgentState('agent-4', 'available', undefined, true);
    const first = await offer('contact-4a', 'agent-4');
    const second = await offer('contact-4b', 'agent-4');
    expect((await local.pendingByQueue()).get('sms')).toBe(before + 2);
    await remote.release(first, { state: 'rejected', requeue: true, countMiss: false, maxMissed: 3 });
    const work: WorkRecord = { interactionId: 'contact-4b', channel: 'sms', queue: 'sms', phase: 'active', since: new Date().toISOString(), reservationId: second.id, weight: 30 };
    await remote.accept(second, 'agent-4', work);
    expect((await local.pendingByQueue()).get('sms') ?? 0).toBe(before);
  });
});

describe('matching on one node after another node changed an agent', () => {
  let app: TestApp;
  let node: RoutingHarness;
  let otherRedis: Redis;
  let other: RoutingStore;
  /** This node's matching pass, awaited (the module runs it unawaited after each change). */
  let pass: () => Promise<void>;

  beforeAll(async () => {
    app = await startTestApp({}, { routing: false });
    node = await startRouting(app, { queuesConfig: testQueues() });
    const { matcher } = node.routing.desk as unknown as { matcher: Matcher };
    pass = () => matcher.request(['sms']);
    otherRedis = createRedis(app.config.REDIS_URL);
    other = new RoutingStore(otherRedis, app.config.REDIS_KEY_PREFIX);
    await other.registerNode('node-other', 60_000);
  });
  afterAll(async () => {
    await node.close();
    await otherRedis.quit();
    await app.destroy();
  });

  const enqueueText = (interactionId: string) => node.routing.enqueue({ interactionId, customerId: 'customer-journal', channel: 'sms' });

  it('when an agent turns available on another node after this node\'s last pass, then the next pass here offers to them', async () => {
    // Signed in on the other node, not available yet.
    await other.connect('journal-agent-1', 'node-other', 'socket-1');
    await enqueueText('journal-contact-1');
    // A pass with nobody available: this node reads its picture of the agents now.
    await pass();
    expect(offersFor(node.events, 'journal-contact-1')).toEqual([]);

    // The agent turns available over there; nothing tells this node.
    await other.writeAgentState('journal-agent-1', 'available', undefined, true);

    await pass();
    expect(offersFor(node.events, 'journal-contact-1')).toMatchObject([{ agentId: 'journal-agent-1' }]);
  });

  it('when an available agent\'s only desk is on a dead node and they reconnect to a live one elsewhere, then this node offers to them only after the reconnect', async () => {
    await other.registerNode('node-doomed', 60_000);
    await other.connect('journal-agent-2', 'node-doomed', 'socket-2');
    await other.writeAgentState('journal-agent-2', 'available', undefined, true);
    await other.stopHeartbeat('node-doomed');
    // Nobody else to offer to.
    await other.writeAgentState('journal-agent-1', 'away', 'break', false);

    await enqueueText('journal-contact-2');
    await pass();
    expect(offersFor(node.events, 'journal-contact-2')).toEqual([]);

    await other.connect('journal-agent-2', 'node-other', 'socket-3');
    await pass();
    expect(offersFor(node.events, 'journal-contact-2')).toMatchObject([{ agentId: 'journal-agent-2' }]);
  });
});

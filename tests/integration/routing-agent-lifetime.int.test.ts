import type { Redis } from 'ioredis';
import { createLogger } from '../../src/platform/logger';
import { createRedis } from '../../src/platform/redis';
import { AgentPicture } from '../../src/routing/agent-picture';
import { NodeLiveness } from '../../src/routing/node-liveness';
import { RoutingStore, type StoredReservation, type WorkRecord } from '../../src/routing/routing.store';
import { testConfig, uniqueName } from '../support/test-app';
import { eventually } from './routing-support';

/**
 * Agents' Redis keys do not live forever: an agent who is offline with no work, no offer and no
 * connection is idle, and their hash expires unless written again; a cleanup then forgets their id
 * everywhere, and every process's picture of the agents drops them without missing a later change.
 * "Two processes" are two RoutingStores on their own Redis connections with one prefix.
 */
describe('agent key lifetime', () => {
  const prefix = `${uniqueName('sblifetime')}:`;
  const url = testConfig().REDIS_URL;
  let here: Redis;
  let there: Redis;
  /** Idle agents keep a minute here, so a TTL can be looked at before it runs out. */
  let store: RoutingStore;
  /** The same keys with a one-second idle TTL, to watch an agent expire. */
  let brief: RoutingStore;

  beforeAll(() => {
    here = createRedis(url);
    there = createRedis(url);
    store = new RoutingStore(here, prefix, { idleAgentTtlSeconds: 60 });
    brief = new RoutingStore(there, prefix, { idleAgentTtlSeconds: 1 });
  });
  afterAll(async () => {
    const keys = await here.keys(`${prefix}*`);
    if (keys.length) await here.del(...keys);
    await Promise.all([here.quit(), there.quit()]);
  });

  const ttl = (agentId: string) => here.ttl(store.key.agent(agentId));
  const idle = async (agentId: string) => {
    const seconds = await ttl(agentId);
    return seconds > 0 && seconds <= 60;
  };
  let offers = 0;
  const offer = async (interactionId: string, agentId: string): Promise<StoredReservation> => {
    await store.enqueue({ interactionId, queue: 'sms', channel: 'sms', customerId: 'customer-1', score: Date.now(), enqueuedAt: Date.now() });
    offers += 1;
    const now = new Date();
    const reservation: StoredReservation = {
      id: `res-${interactionId}-${offers}`, interactionId, agentId, queue: 'sms', channel: 'sms', state: 'pending', weight: 30,
      offeredAt: now.toISOString(), expiresAt: new Date(now.getTime() + 60_000).toISOString(),
    };
    expect(await store.claim({ reservation, expiresAtMs: now.getTime() + 60_000 })).toBe('ok');
    return reservation;
  };
  /** An agent who was around and is now idle: their hash expires a second after this write. */
  const idleBriefly = async (agentId: string) => {
    await brief.connect(agentId, 'node-a', `socket-${agentId}`);
    await brief.writeAgentState(agentId, 'available', undefined, true);
    await brief.disconnect(agentId, 'node-a', `socket-${agentId}`);
    await brief.writeAgentState(agentId, 'offline', 'disconnected', false);
  };
  const expired = (agentId: string) => eventually(`${agentId}'s hash to expire`, async () => (await here.exists(store.key.agent(agentId))) === 0, 5_000);

  it('when an agent goes offline holding nothing, then their hash gets the idle TTL, and a connection or a state set takes it away again', async () => {
    await store.connect('agent-1', 'node-a', 's1');
    expect(await ttl('agent-1')).toBe(-1);
    await store.writeAgentState('agent-1', 'available', undefined, true);
    await store.disconnect('agent-1', 'node-a', 's1');
    // Available with no connection: the presence grace decides, not the TTL.
    expect(await ttl('agent-1')).toBe(-1);

    await store.writeAgentState('agent-1', 'offline', 'disconnected', false);
    expect(await idle('agent-1')).toBe(true);
    await store.connect('agent-1', 'node-a', 's2');
    expect(await ttl('agent-1')).toBe(-1);
    await store.disconnect('agent-1', 'node-a', 's2');
    expect(await idle('agent-1')).toBe(true);
    await store.writeAgentState('agent-1', 'away', 'training', false);
    expect(await ttl('agent-1')).toBe(-1);
  });

  it('when an agent goes offline while a contact or an offer is still theirs, then their hash is kept until the last of it ends', async () => {
    await store.writeAgentState('agent-2', 'available', undefined, true);
    const held = await offer('contact-2a', 'agent-2');
    const work: WorkRecord = { interactionId: 'contact-2a', channel: 'sms', queue: 'sms', phase: 'active', since: new Date().toISOString(), reservationId: held.id, weight: 30 };
    expect(await store.accept(held, 'agent-2', work)).toBe('ok');
    const ringing = await offer('contact-2b', 'agent-2');

    await store.writeAgentState('agent-2', 'offline', 'end of shift', false);
    expect(await ttl('agent-2')).toBe(-1);
    expect((await store.release(ringing, { state: 'rescinded', requeue: true, countMiss: false, maxMissed: 3 })).outcome).toBe('ok');
    // Still in wrap-up of the accepted one.
    await store.putWorkItem('agent-2', { ...work, phase: 'wrap_up' });
    expect(await ttl('agent-2')).toBe(-1);
    expect(await store.finishWork('agent-2', 'contact-2a', held.id)).toBe(true);
    expect(await idle('agent-2')).toBe(true);
  });

  it('when an idle agent\'s hash expires, then they read as offline, a cleanup forgets them everywhere, and every picture drops them', async () => {
    const picture = new AgentPicture(store);
    await store.writeAgentState('agent-stays', 'available', undefined, true);
    await idleBriefly('agent-3');
    await picture.refresh();
    expect(picture.get('agent-3')).toMatchObject({ state: 'offline', reason: 'disconnected' });

    await expired('agent-3');
    expect(await store.agent('agent-3')).toMatchObject({ state: 'offline', load: 0 });
    const node = new NodeLiveness({ store, log: createLogger('silent'), onOrphaned: async () => undefined }, { heartbeatTtlMs: 60_000, sweepIntervalMs: 60_000 });
    expect(await node.cleanupAgents()).toBe(1);
    expect(await store.isKnownAgent('agent-3')).toBe(false);
    expect(await here.zscore(store.key.journal(), 'agent-3')).toBeNull();
    expect(await here.sismember(store.key.available(), 'agent-3')).toBe(0);
    // Nothing left to forget: a second cleanup (another node's) changes nothing.
    expect(await node.cleanupAgents()).toBe(0);

    // This picture read the agent before: it reads everyone again, without them.
    await picture.refresh();
    expect(picture.get('agent-3')).toBeUndefined();
    expect(picture.get('agent-stays')?.state).toBe('available');
    expect(await here.zcard(store.key.journal())).toBe((await here.smembers(store.key.agents())).length);
  });

  it('when a forgotten agent signs in again, then every picture sees them, whether it last looked before or after they were forgotten', async () => {
    const before = new AgentPicture(store);
    const after = new AgentPicture(brief);
    await idleBriefly('agent-4');
    await before.refresh();
    expect(before.get('agent-4')?.state).toBe('offline');
    await expired('agent-4');
    expect(await store.forgetExpiredAgents()).toBe(1);
    await after.refresh();
    expect(after.get('agent-4')).toBeUndefined();

    await brief.connect('agent-4', 'node-b', 's4');
    await brief.writeAgentState('agent-4', 'available', undefined, true);
    await Promise.all([before.refresh(), after.refresh()]);
    for (const picture of [before, after]) expect(picture.get('agent-4')).toMatchObject({ state: 'available', connections: ['node-b:s4'] });
    expect(await store.isKnownAgent('agent-4')).toBe(true);
    expect(await ttl('agent-4')).toBe(-1);
  });

  it('when the cleanup runs while an idle agent has not expired yet, or one whose hash is gone still holds a connection, then it keeps them', async () => {
    await store.writeAgentState('agent-5', 'offline', undefined, false);
    expect(await idle('agent-5')).toBe(true);
    // What a hand edit (or an older release) can leave: the hash gone, a connection still there.
    await store.connect('agent-6', 'node-c', 's6');
    await here.del(store.key.agent('agent-6'));

    expect(await store.forgetExpiredAgents()).toBe(0);
    expect(await store.isKnownAgent('agent-5')).toBe(true);
    expect(await store.isKnownAgent('agent-6')).toBe(true);
  });
});

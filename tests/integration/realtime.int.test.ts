import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRealtimeGateway, type RealtimeGateway } from '../../src/realtime';
import { AppError } from '../../src/platform/errors';
import type { AgentDesk, AgentSnapshot, RequestedAgentState, Reservation } from '../../src/routing/routing.contracts';
import { SmsRepository } from '../../src/channels/sms/sms.repository';
import { connectError, connectSocket, type TestSocket } from '../support/socket';
import { createUserAndLogin, startTestApp, type TestApp, type TestUser } from '../support/test-app';

/** Stands in for the routing module: answers like it and records every call the gateway makes. */
class RecordingDesk implements AgentDesk {
  readonly calls: { method: string; args: unknown[] }[] = [];

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  callsOf(method: string): unknown[][] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  snapshotOf(agentId: string, state: AgentSnapshot['state'] = 'available'): AgentSnapshot {
    return { agentId, state, stateSince: '2026-03-01T09:00:00.000Z', offers: [], work: [], load: 0 };
  }

  async setAgentState(agentId: string, state: RequestedAgentState, reason?: string) {
    this.record('setAgentState', agentId, state, reason);
    return { ...this.snapshotOf(agentId, state), ...(reason ? { stateReason: reason } : {}) };
  }
  async accept(agentId: string, reservationId: string) {
    this.record('accept', agentId, reservationId);
    if (reservationId === 'res-taken') throw new AppError('conflict', 'The offer was taken by another agent', { reservationId });
    return reservation({ id: reservationId, agentId, state: 'accepted' });
  }
  async reject(agentId: string, reservationId: string) {
    this.record('reject', agentId, reservationId);
    return reservation({ id: reservationId, agentId, state: 'rejected' });
  }
  async completeWork(agentId: string, interactionId: string, outcome: { disposition?: string; notes?: string }) {
    this.record('completeWork', agentId, interactionId, outcome);
    return this.snapshotOf(agentId, 'wrap_up');
  }
  async agentConnected(agentId: string, connectionId: string) {
    this.record('agentConnected', agentId, connectionId);
    return this.snapshotOf(agentId);
  }
  async agentDisconnected(agentId: string, connectionId: string) {
    this.record('agentDisconnected', agentId, connectionId);
  }
  async snapshot(agentId: string) {
    this.record('snapshot', agentId);
    return this.snapshotOf(agentId);
  }
}

function reservation(fields: Partial<Reservation> & { id: string; agentId: string }): Reservation {
  return {
    interactionId: 'a'.repeat(24), queue: 'service', channel: 'voice', state: 'pending',
    offeredAt: '2026-03-01T10:00:00.000Z', expiresAt: '2026-03-01T10:00:30.000Z', ...fields,
  };
}

interface RunningGateway {
  gateway: RealtimeGateway;
  url: string;
  close(): Promise<void>;
}

/** A gateway on its own HTTP server, over the test app's stores and services, as a node would run it. */
async function startGateway(app: TestApp, desk: AgentDesk): Promise<RunningGateway> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const gateway = createRealtimeGateway({
    config: app.config, log: app.log, redis: app.redis, mongo: app.mongo, desk,
    auth: app.services.auth, customers: app.services.customers, interactions: app.services.interactions,
  });
  await gateway.attach(server);
  return {
    gateway,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the realtime gateway', () => {
  let app: TestApp;
  let desk: RecordingDesk;
  let node: RunningGateway;
  let agent: TestUser;
  let otherAgent: TestUser;
  let supervisor: TestUser;
  let department: TestUser;
  const sockets: TestSocket[] = [];

  const connect = async (user: TestUser, lastEventId?: string, url = node.url) => {
    const client = await connectSocket(url, { token: user.token, ...(lastEventId ? { lastEventId } : {}) });
    sockets.push(client);
    return client;
  };

  beforeAll(async () => {
    // This file runs gateways of its own over a stand-in desk.
    app = await startTestApp({}, { routing: false });
    desk = new RecordingDesk();
    node = await startGateway(app, desk);
    const parts = await app.services.departments.create({ code: 'parts', name: 'Parts', timezone: 'Asia/Shanghai' });
    [agent, otherAgent, supervisor, department] = await Promise.all([
      createUserAndLogin(app, 'agent'),
      createUserAndLogin(app, 'agent'),
      createUserAndLogin(app, 'supervisor'),
      createUserAndLogin(app, 'department', { departmentId: parts.id }),
    ]);
  });
  afterEach(() => {
    for (const client of sockets.splice(0)) client.close();
  });
  afterAll(async () => {
    await node?.close();
    await app?.destroy();
  });

  it('when a client connects without a token, then it is refused as unauthenticated and told to sign in', async () => {
    const error = await connectError(node.url);
    expect(error.data).toEqual({ code: 'unauthenticated' });
    expect(error.message).toMatch(/sign in again/i);
  });

  it('when a client connects with a forged token, then it is refused as unauthenticated', async () => {
    const error = await connectError(node.url, { token: `${agent.token.slice(0, -4)}AAAA` });
    expect(error.data).toEqual({ code: 'unauthenticated' });
    expect(error.message).toMatch(/expired or the token is invalid/);
  });

  it('when an agent connects, then presence is reported and a snapshot arrives', async () => {
    const client = await connect(agent);
    const snapshot = await client.waitFor('snapshot');
    expect(snapshot.data).toMatchObject({ agentId: agent.id, state: 'available' });
    expect(desk.callsOf('agentConnected')).toContainEqual([agent.id, client.socket.id]);
    const socketId = client.socket.id;
    client.close();
    await waitUntil(() => desk.callsOf('agentDisconnected').some(([id, connection]) => id === agent.id && connection === socketId));
  });

  it('when an event is sent to one agent, then only that agent’s sockets receive it, with an id', async () => {
    const [first, second, other] = await Promise.all([connect(agent), connect(agent), connect(otherAgent)]);
    const id = await node.gateway.toUser(agent.id, 'notice', { text: 'for agent one' });
    // Sent after the first: once the other agent has this, it would have had the first too.
    await node.gateway.toUser(otherAgent.id, 'marker', {});
    for (const client of [first, second]) expect(await client.waitFor('notice')).toMatchObject({ id, event: 'notice', data: { text: 'for agent one' } });
    await other.waitFor('marker');
    expect(other.received.filter((item) => item.event === 'notice')).toEqual([]);
    expect(id).toMatch(/^\d+-\d+$/);
  });

  it('when an offer is delivered, then the agent gets a screen pop with the customer and the cross-channel timeline', async () => {
    const { customers, interactions } = app.services;
    const { customer } = await customers.resolveCustomer({ phone: '+8613822220001', name: 'Li Wei' });
    await customers.addIdentifiers(customer.id, { phones: [], emails: ['li.wei.pop@example.cn'] });
    await customers.updateCustomer(customer.id, { tier: 'vip', tags: ['fleet'], attributes: { vin: 'LSVAB4180E2100001' } });
    await new SmsRepository(app.mongo).recordConsent('+8613822220001', { action: 'opt_out', at: new Date(), messageSid: 'SM'.padEnd(34, '1') });
    await interactions.recordInboundEvent({ externalId: 'test:pop-sms', customerId: customer.id, channel: 'sms', direction: 'inbound', entry: { kind: 'message', text: 'Is my car ready?', at: new Date(Date.now() - 86_400_000) } });
    await interactions.recordInboundEvent({ externalId: 'test:pop-email', customerId: customer.id, channel: 'email', direction: 'inbound', subject: 'Invoice', entry: { kind: 'message', text: 'Please resend the invoice', at: new Date(Date.now() - 3_600_000) } });
    const call = await interactions.recordInboundEvent({ externalId: 'test:pop-call', customerId: customer.id, channel: 'voice', direction: 'inbound', entry: { kind: 'call_event', data: { status: 'ringing' } } });
    await interactions.appendEntry(call.interaction.id, { kind: 'call_event', data: { event: 'menu', digits: '2', valid: true, choice: 'After-sales service' } });
    await interactions.updateInteraction(call.interaction.id, { status: 'queued', queue: 'service', queuedAt: new Date(Date.now() - 120_000) });
    const client = await connect(agent);

    await node.gateway.deliver({ type: 'offer', agentId: agent.id, reservation: reservation({ id: 'res-pop', agentId: agent.id, interactionId: call.interaction.id }) });

    const offer = await client.waitFor('offer');
    expect(offer.data.reservation.id).toBe('res-pop');
    const { pop } = offer.data;
    expect(pop.customer).toEqual({ id: customer.id, name: 'Li Wei', tier: 'vip', tags: ['fleet'], attributes: { vin: 'LSVAB4180E2100001' } });
    expect(pop.interaction).toMatchObject({ id: call.interaction.id, channel: 'voice', queue: 'service', ivrChoice: { label: 'After-sales service', digits: '2' } });
    expect(pop.interaction.waitSeconds).toBeGreaterThanOrEqual(120);
    expect(pop.interaction.waitSeconds).toBeLessThan(180);
    expect(pop.timeline.map((item: { channel: string }) => item.channel)).toEqual(['voice', 'email', 'sms']);
    expect(pop.timeline[1]).toMatchObject({ subject: 'Invoice', status: 'open' });
    expect(pop.openTasks).toEqual([]);
    expect(pop.smsOptedOut).toBe(true);
    expect(JSON.stringify(pop)).not.toContain('+8613822220001');
  });

  it('when the agent was away while two events were sent, then reconnecting replays both in order, once', async () => {
    const first = await connect(agent);
    const before = await node.gateway.toUser(agent.id, 'notice', { n: 0 });
    await first.waitFor('notice', (payload) => payload.id === before);
    first.close();
    await waitUntil(() => !first.socket.connected);

    const ended = reservation({ id: 'res-replay', agentId: agent.id, state: 'timeout' });
    await node.gateway.deliver({ type: 'offer_ended', agentId: agent.id, reservation: ended });
    await node.gateway.deliver({ type: 'assigned', agentId: agent.id, reservation: { ...ended, id: 'res-replay-2', state: 'accepted' } });

    const again = await connect(agent, before);
    const replay = await again.waitFor('replay');
    await again.waitFor('snapshot');
    expect(replay.complete).toBe(true);
    expect(replay.events.map((event: { event: string; data: any }) => [event.event, event.data.reservation.id])).toEqual([
      ['offer_ended', 'res-replay'],
      ['assigned', 'res-replay-2'],
    ]);
    expect(streamIdOrder(before, replay.events[0].id)).toBeLessThan(0);
    expect(streamIdOrder(replay.events[0].id, replay.events[1].id)).toBeLessThan(0);
    expect(again.received.filter((item) => item.event === 'offer_ended' || item.event === 'assigned')).toEqual([]);
    // The snapshot says where in the log it stands, so the client carries on from the last replayed event.
    expect((await again.waitFor('snapshot')).id).toBe(replay.events[1].id);
  });

  it('when the client’s last event is no longer in the log, then the replay says incomplete and sync returns a snapshot', async () => {
    await node.gateway.toUser(agent.id, 'notice', {});
    const client = await connect(agent, '1-0');
    expect(await client.waitFor('replay')).toEqual({ events: [], complete: false });
    expect((await client.waitFor('snapshot')).data.agentId).toBe(agent.id);

    const answer = await client.act('sync', { lastEventId: '1-0' });
    expect(answer).toMatchObject({ ok: true, data: { complete: false, snapshot: { agentId: agent.id } } });
    const bad = await client.act('sync', { lastEventId: 'yesterday' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'validation_failed', details: [{ field: 'payload.lastEventId' }] } });
  });

  it('when an agent acts over the socket, then the desk is called for that agent and the outcome is acknowledged', async () => {
    const client = await connect(agent);
    await client.waitFor('snapshot');
    desk.calls.length = 0;

    expect(await client.act('state:set', { state: 'away', reason: 'lunch' })).toEqual({ ok: true, data: expect.objectContaining({ state: 'away', stateReason: 'lunch' }) });
    expect(await client.act('offer:accept', { reservationId: 'res-1' })).toMatchObject({ ok: true, data: { id: 'res-1', state: 'accepted', agentId: agent.id } });
    expect(await client.act('offer:reject', { reservationId: 'res-2' })).toMatchObject({ ok: true, data: { state: 'rejected' } });
    expect(await client.act('work:complete', { interactionId: 'i-1', disposition: 'resolved' })).toMatchObject({ ok: true, data: { state: 'wrap_up' } });
    expect(await client.act('offer:accept', { reservationId: 'res-taken' })).toEqual({ ok: false, error: { code: 'conflict', message: expect.any(String), details: { reservationId: 'res-taken' } } });

    expect(desk.calls.map((call) => [call.method, ...call.args])).toEqual([
      ['setAgentState', agent.id, 'away', 'lunch'],
      ['accept', agent.id, 'res-1'],
      ['reject', agent.id, 'res-2'],
      ['completeWork', agent.id, 'i-1', { disposition: 'resolved', notes: undefined }],
      ['accept', agent.id, 'res-taken'],
    ]);
  });

  it('when an action payload is invalid, then it is refused as validation_failed naming the field, and the desk is not called', async () => {
    const client = await connect(agent);
    await client.waitFor('snapshot');
    desk.calls.length = 0;
    const busy = await client.act('state:set', { state: 'busy' });
    expect(busy).toMatchObject({ ok: false, error: { code: 'validation_failed', details: [{ field: 'payload.state' }] } });
    const missing = await client.act('offer:accept', {});
    expect(missing).toMatchObject({ ok: false, error: { code: 'validation_failed', details: [{ field: 'payload.reservationId' }] } });
    expect(desk.calls).toEqual([]);
  });

  it('when a department user tries to accept an offer, then it is forbidden and gets no desk snapshot', async () => {
    const client = await connect(department);
    desk.calls.length = 0;
    expect(await client.act('offer:accept', { reservationId: 'res-1' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await client.act('queue:join', { queue: 'service' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(desk.calls).toEqual([]);
    expect(client.received.map((item) => item.event)).not.toContain('snapshot');
  });

  it('when an agent’s state changes, then the agent gets state and supervisors get agent_state; other agents get neither', async () => {
    const [mine, boss, other] = await Promise.all([connect(agent), connect(supervisor), connect(otherAgent)]);
    await node.gateway.deliver({ type: 'agent_state', agentId: agent.id, snapshot: desk.snapshotOf(agent.id, 'busy') });
    expect((await mine.waitFor('state')).data).toMatchObject({ agentId: agent.id, state: 'busy' });
    expect(await boss.waitFor('agent_state')).toMatchObject({ id: null, data: { agentId: agent.id, state: 'busy' } });
    await node.gateway.toUser(otherAgent.id, 'marker', {});
    await other.waitFor('marker');
    expect(other.received.map((item) => item.event)).not.toEqual(expect.arrayContaining(['state']));
    expect(other.received.map((item) => item.event)).not.toContain('agent_state');
    expect(mine.received.map((item) => item.event)).not.toContain('agent_state');
  });

  it('when a queue changes, then supervisors and the queue room hear it, and agents do not', async () => {
    const [boss, mine] = await Promise.all([connect(supervisor), connect(agent)]);
    expect(await boss.act('queue:join', { queue: 'parts-desk' })).toEqual({ ok: true, data: { room: 'queue:parts-desk' } });
    await node.gateway.deliver({ type: 'queue_changed', queue: 'parts-desk' });
    // Once as a supervisor, once as a member of the queue's room.
    await waitUntil(() => boss.received.filter((item) => item.event === 'queue_changed').length === 2);
    expect(boss.received.find((item) => item.event === 'queue_changed')?.payload.data).toEqual({ queue: 'parts-desk' });
    await node.gateway.toUser(agent.id, 'marker', {});
    await mine.waitFor('marker');
    expect(mine.received.map((item) => item.event)).not.toContain('queue_changed');
  });

  describe('with two nodes sharing Redis', () => {
    let second: RunningGateway;
    beforeAll(async () => {
      second = await startGateway(app, new RecordingDesk());
    });
    afterAll(() => second?.close());

    it('when an event is sent through node A, then an agent connected to node B receives it', async () => {
      const onB = await connect(agent, undefined, second.url);
      await onB.waitFor('snapshot');
      const id = await node.gateway.toUser(agent.id, 'notice', { from: 'A' });
      expect(await onB.waitFor('notice')).toMatchObject({ id, data: { from: 'A' } });
    });

    it('when node A delivers an agent state, then a supervisor on node B sees it', async () => {
      const bossOnB = await connect(supervisor, undefined, second.url);
      await node.gateway.deliver({ type: 'agent_state', agentId: otherAgent.id, snapshot: desk.snapshotOf(otherAgent.id, 'away') });
      expect((await bossOnB.waitFor('agent_state')).data).toMatchObject({ agentId: otherAgent.id, state: 'away' });
    });
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Redis Stream ids are `<ms>-<seq>`; compares them as numbers. */
function streamIdOrder(left: string, right: string): number {
  const [leftMs, leftSeq] = left.split('-').map(BigInt);
  const [rightMs, rightSeq] = right.split('-').map(BigInt);
  return leftMs !== rightMs ? (leftMs < rightMs ? -1 : 1) : leftSeq === rightSeq ? 0 : leftSeq < rightSeq ? -1 : 1;
}

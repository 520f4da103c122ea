import type { RoutingEvent } from '../../src/routing';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';
import { callSid, eventually, offersFor, startRouting, testQueues, type RoutingHarness } from './routing-support';

describe('routing calls to agents', () => {
  let channel: ChannelTestApp;
  let harness: RoutingHarness;
  const agents: TestUser[] = [];
  let supervisor: TestUser;
  const connected: { interactionId: string; agentId: string }[] = [];

  beforeAll(async () => {
    // This file drives its own routing module; the app's own would compete for the same contacts.
    channel = await startChannelTestApp({}, { routing: false });
    // A 1 s reservation timeout so missed offers happen inside a test.
    harness = await startRouting(channel.app, { queuesConfig: testQueues({ reservationTimeoutSeconds: 1, wrapUpSeconds: 1 }), presenceGraceMs: 300 });
    // Records the bridge only; false tells routing to write its accept itself, as without a voice channel.
    harness.routing.setConnector(async ({ interactionId, agentId }) => {
      connected.push({ interactionId, agentId });
      return false;
    });
    for (let index = 0; index < 3; index += 1) agents.push(await createUserAndLogin(channel.app, 'agent'));
    supervisor = await createUserAndLogin(channel.app, 'supervisor');
  });
  afterAll(async () => {
    await harness.close();
    await channel.destroy();
  });

  const api = (user: TestUser, method: string, path: string, body?: unknown) => request({ url: harness.url }, method, path, { token: user.token, body });
  const setState = (user: TestUser, state: string) => api(user, 'PUT', '/api/routing/me/state', { state });
  const call = async (to = '+862159999999') => {
    const sid = callSid();
    const response = await channel.webhook('/webhooks/twilio/voice', { CallSid: sid, AccountSid: channel.twilio.accountSid, From: '+8613800138000', To: to, CallStatus: 'ringing' });
    expect(response.status).toBe(200);
    const known = await channel.app.services.interactions.findByExternalId(`twilio-call:${sid}`);
    return { sid, interactionId: known!.interactionId };
  };
  const hangUp = (sid: string) => channel.webhook('/webhooks/twilio/voice/status', { CallSid: sid, AccountSid: channel.twilio.accountSid, CallStatus: 'completed' });
  const allOffline = async () => {
    for (const agent of agents) await setState(agent, 'offline');
  };
  afterEach(allOffline);

  it('when a call comes in with one agent available, then that agent is offered it and accepting makes the interaction active', async () => {
    const [agent] = agents;
    expect((await setState(agent, 'available')).body.state).toBe('available');
    const { interactionId } = await call();
    const [offer] = await eventually('an offer', () => offersFor(harness.events, interactionId).length > 0 && offersFor(harness.events, interactionId));
    expect(offer.agentId).toBe(agent.id);
    expect((await api(agent, 'GET', '/api/routing/me')).body).toMatchObject({ state: 'busy', load: 100, offers: [{ id: offer.reservation.id, interactionId }] });

    // Another agent cannot take it.
    expect((await api(agents[1], 'POST', `/api/routing/reservations/${offer.reservation.id}/accept`)).status).toBe(403);
    const accepted = await api(agent, 'POST', `/api/routing/reservations/${offer.reservation.id}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body.state).toBe('accepted');
    expect(connected).toContainEqual({ interactionId, agentId: agent.id });
    const interaction = await channel.app.services.interactions.getInteraction(interactionId);
    expect(interaction).toMatchObject({ status: 'active', agentId: agent.id });
    expect(interaction.answeredAt).toBeDefined();
    expect(harness.events).toContainEqual(expect.objectContaining({ type: 'assigned', agentId: agent.id }));

    // A second accept is refused; completing starts wrap-up, which ends by itself.
    expect((await api(agent, 'POST', `/api/routing/reservations/${offer.reservation.id}/accept`)).status).toBe(409);
    expect((await api(agents[1], 'POST', `/api/routing/work/${interactionId}/complete`, {})).status).toBe(404);
    const completed = await api(agent, 'POST', `/api/routing/work/${interactionId}/complete`, { disposition: 'resolved', notes: 'battery replaced' });
    expect(completed.status).toBe(200);
    expect(completed.body).toMatchObject({ state: 'wrap_up', work: [{ interactionId, phase: 'wrap_up' }] });
    const after = await eventually('wrap-up to end', async () => {
      const me = (await api(agent, 'GET', '/api/routing/me')).body;
      return me.state === 'available' && me;
    });
    expect(after).toMatchObject({ load: 0, work: [] });
    expect((await channel.app.services.interactions.getInteraction(interactionId)).status).toBe('closed');
  });

  it('when the offered agent rejects, then the call is offered to the next available agent, never back to them', async () => {
    await setState(agents[0], 'available');
    await setState(agents[1], 'available');
    const { interactionId } = await call();
    const [first] = await eventually('a first offer', () => offersFor(harness.events, interactionId).length === 1 && offersFor(harness.events, interactionId));
    const rejecter = agents.find((agent) => agent.id === first.agentId)!;
    const other = agents.find((agent) => agent.id !== first.agentId && agent !== agents[2])!;
    expect((await api(rejecter, 'POST', `/api/routing/reservations/${first.reservation.id}/reject`)).body.state).toBe('rejected');
    const offers = await eventually('a second offer', () => offersFor(harness.events, interactionId).length === 2 && offersFor(harness.events, interactionId));
    expect(offers[1].agentId).toBe(other.id);
    // The other agent rejects too: with nobody left who has not declined, the call waits.
    await api(other, 'POST', `/api/routing/reservations/${offers[1].reservation.id}/reject`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(offersFor(harness.events, interactionId)).toHaveLength(2);
    const queues = await api(supervisor, 'GET', '/api/routing/queues');
    expect(queues.body.items.find((item: { queue: string }) => item.queue === 'general')).toMatchObject({ waiting: 1 });
    expect((await api(agents[0], 'GET', '/api/routing/queues')).status).toBe(403);
    await hangUp((await channel.app.services.interactions.getInteraction(interactionId)).externalIds[0].replace('twilio-call:', ''));
  });

  it('when offers time out three times in a row, then they are re-offered and the agent is set away for missed offers', async () => {
    const [agent] = agents;
    await setState(agent, 'available');
    const calls = [await call(), await call(), await call()];
    for (const [index, { interactionId }] of calls.entries()) {
      await eventually(`offer ${index + 1}`, () => offersFor(harness.events, interactionId).length > 0);
      const ended = await eventually(`timeout ${index + 1}`, () =>
        harness.events.find((event): event is Extract<RoutingEvent, { type: 'offer_ended' }> => event.type === 'offer_ended' && event.reservation.interactionId === interactionId && event.reservation.state === 'timeout'), 4_000);
      expect(ended.agentId).toBe(agent.id);
    }
    const me = (await api(agent, 'GET', '/api/routing/me')).body;
    expect(me).toMatchObject({ state: 'away', stateReason: 'missed offers', offers: [], load: 0 });
    // The missed calls wait for someone else, in their original order.
    await setState(agents[1], 'available');
    const reoffer = await eventually('a re-offer to another agent', () => offersFor(harness.events, calls[0].interactionId).find((event) => event.agentId === agents[1].id));
    expect(reoffer).toBeDefined();
    for (const { sid } of calls) await hangUp(sid);
  }, 15_000);

  it('when the caller hangs up while queued, then the call leaves the queue and is never offered', async () => {
    const { sid, interactionId } = await call();
    expect((await api(supervisor, 'GET', '/api/routing/queues')).body.items.find((item: { queue: string }) => item.queue === 'general').waiting).toBe(1);
    await hangUp(sid);
    await eventually('the abandoned status', async () => (await channel.app.services.interactions.getInteraction(interactionId)).status === 'abandoned');
    expect((await api(supervisor, 'GET', '/api/routing/queues')).body.items.find((item: { queue: string }) => item.queue === 'general').waiting).toBe(0);
    await setState(agents[2], 'available');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(offersFor(harness.events, interactionId)).toHaveLength(0);
  });

  it('when the caller hangs up during an offer, then the offer is rescinded', async () => {
    await setState(agents[2], 'available');
    const { sid, interactionId } = await call();
    const [offer] = await eventually('an offer', () => offersFor(harness.events, interactionId).length > 0 && offersFor(harness.events, interactionId));
    await hangUp(sid);
    const ended = await eventually('the rescind', () => harness.events.find((event): event is Extract<RoutingEvent, { type: 'offer_ended' }> => event.type === 'offer_ended' && event.reservation.id === offer.reservation.id));
    expect(ended.reservation.state).toBe('rescinded');
    expect((await api(agents[2], 'POST', `/api/routing/reservations/${offer.reservation.id}/accept`)).status).toBe(409);
    expect((await api(agents[2], 'GET', '/api/routing/me')).body).toMatchObject({ state: 'available', load: 0 });
  });

  it('when calls wait and an agent becomes available, then the oldest call (after the IVR choice) is offered at once', async () => {
    const first = await call();
    const sid = callSid();
    await channel.webhook('/webhooks/twilio/voice', { CallSid: sid, AccountSid: channel.twilio.accountSid, From: '+8613800138001', To: '+862150000000' });
    await channel.webhook('/webhooks/twilio/voice/menu?attempt=1', { CallSid: sid, AccountSid: channel.twilio.accountSid, To: '+862150000000', Digits: '3' });
    const warranty = (await channel.app.services.interactions.findByExternalId(`twilio-call:${sid}`))!.interactionId;
    expect((await channel.app.services.interactions.getInteraction(warranty)).queue).toBe('warranty');
    expect(offersFor(harness.events, first.interactionId)).toHaveLength(0);

    await setState(agents[2], 'available');
    const [offer] = await eventually('the backfill offer', () => offersFor(harness.events, first.interactionId).length > 0 && offersFor(harness.events, first.interactionId));
    expect(offer.agentId).toBe(agents[2].id);
    // One call fills the agent: the warranty call waits for the next free agent.
    expect(offersFor(harness.events, warranty)).toHaveLength(0);
    await api(agents[2], 'POST', `/api/routing/reservations/${offer.reservation.id}/reject`);
    const next = await eventually('the warranty call offered', () => offersFor(harness.events, warranty).length > 0 && offersFor(harness.events, warranty));
    expect(next[0].agentId).toBe(agents[2].id);
    await hangUp(first.sid);
    await hangUp(sid);
  });

  it('when the last connection of an agent closes, then they go offline after the grace period unless they reconnect', async () => {
    const [agent] = agents;
    await setState(agent, 'available');
    await harness.routing.desk.agentConnected(agent.id, 'socket-1');
    await harness.routing.desk.agentDisconnected(agent.id, 'socket-1');
    await harness.routing.desk.agentConnected(agent.id, 'socket-2');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await harness.routing.desk.snapshot(agent.id)).state).toBe('available');
    await harness.routing.desk.agentDisconnected(agent.id, 'socket-2');
    const snapshot = await eventually('offline', async () => {
      const current = await harness.routing.desk.snapshot(agent.id);
      return current.state === 'offline' && current;
    });
    expect(snapshot.stateReason).toBe('disconnected');
  });

  it('when a supervisor forces an agent away, then the agent is away with the reason; an agent cannot force others', async () => {
    const forced = await api(supervisor, 'PUT', `/api/routing/agents/${agents[1].id}/state`, { state: 'away', reason: 'coaching' });
    expect(forced.body).toMatchObject({ agentId: agents[1].id, state: 'away', stateReason: 'coaching' });
    expect((await api(agents[0], 'PUT', `/api/routing/agents/${agents[1].id}/state`, { state: 'available' })).status).toBe(403);
    const invalid = await api(agents[0], 'PUT', '/api/routing/me/state', { state: 'busy' });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toContain('body.state');
  });
});

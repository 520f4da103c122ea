import type { RoutingEvent } from '../../src/routing';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';
import { callSid, eventually, offersFor, startRouting, testQueues, type RoutingHarness } from './routing-support';

describe('transferring a contact', () => {
  let channel: ChannelTestApp;
  let harness: RoutingHarness;
  const agents: TestUser[] = [];
  const connected: { interactionId: string; agentId: string }[] = [];
  const sids: string[] = [];

  beforeAll(async () => {
    channel = await startChannelTestApp({}, { routing: false });
    harness = await startRouting(channel.app, { queuesConfig: testQueues({ reservationTimeoutSeconds: 5 }), presenceGraceMs: 300 });
    // Records the bridge only; false tells routing to write its accept itself, as without a voice channel.
    harness.routing.setConnector(async ({ interactionId, agentId }) => {
      connected.push({ interactionId, agentId });
      return false;
    });
    for (let index = 0; index < 3; index += 1) agents.push(await createUserAndLogin(channel.app, 'agent'));
    // Seen by routing, so they are valid transfer targets.
    for (const agent of agents) await request({ url: harness.url }, 'PUT', '/api/routing/me/state', { token: agent.token, body: { state: 'offline' } });
  });
  afterEach(async () => {
    for (const sid of sids.splice(0)) await hangUp(sid);
    for (const agent of agents) {
      // Calls they still hold stay their work until completed (wrap-up is 0 s here).
      for (const item of (await api(agent, 'GET', '/api/routing/me')).body.work) await api(agent, 'POST', `/api/routing/work/${item.interactionId}/complete`, {});
      await setState(agent, 'offline');
    }
  });
  afterAll(async () => {
    await harness.close();
    await channel.destroy();
  });

  const api = (user: TestUser, method: string, path: string, body?: unknown) => request({ url: harness.url }, method, path, { token: user.token, body });
  const setState = (user: TestUser, state: string) => api(user, 'PUT', '/api/routing/me/state', { state });
  const hangUp = (sid: string) => channel.webhook('/webhooks/twilio/voice/status', { CallSid: sid, AccountSid: channel.twilio.accountSid, CallStatus: 'completed' });
  const call = async () => {
    const sid = callSid();
    sids.push(sid);
    await channel.webhook('/webhooks/twilio/voice', { CallSid: sid, AccountSid: channel.twilio.accountSid, From: '+8613800138000', To: '+862159999999', CallStatus: 'ringing' });
    return (await channel.app.services.interactions.findByExternalId(`twilio-call:${sid}`))!.interactionId;
  };
  const offerTo = (agent: TestUser, interactionId: string) =>
    eventually(`an offer to the agent`, () => offersFor(harness.events, interactionId).find((event) => event.agentId === agent.id));
  const acceptedCall = async (agent: TestUser) => {
    await setState(agent, 'available');
    const interactionId = await call();
    const offer = await offerTo(agent, interactionId);
    expect((await api(agent, 'POST', `/api/routing/reservations/${offer.reservation.id}/accept`)).status).toBe(200);
    return interactionId;
  };

  it('when an agent transfers a call to a queue, then their capacity is freed, the note is logged and the call goes to the FRONT of the queue for someone else', async () => {
    const [first, second] = agents;
    const held = await acceptedCall(first);
    const waiting = await call();
    await setState(first, 'away');

    const transferred = await api(first, 'POST', `/api/routing/work/${held}/transfer`, { toQueue: 'general', note: 'wants a refund' });
    expect(transferred.status).toBe(200);
    expect(transferred.body).toMatchObject({ agentId: first.id, load: 0, work: [] });
    const interaction = await channel.app.services.interactions.getInteraction(held);
    expect(interaction).toMatchObject({ status: 'queued', queue: 'general' });
    expect(interaction.flags).toContain('transferred');
    expect(interaction.entries?.find((entry) => entry.kind === 'note')).toMatchObject({ text: 'wants a refund', authorId: first.id, data: { transfer: { from: first.id, toQueue: 'general' } } });

    // The transferred call waited already: it is offered before the call that was waiting behind it.
    await setState(second, 'available');
    const offer = await offerTo(second, held);
    expect(offer.reservation.transfer).toEqual({ fromAgentId: first.id, note: 'wants a refund' });
    expect(offersFor(harness.events, waiting)).toHaveLength(0);
    expect((await api(second, 'POST', `/api/routing/reservations/${offer.reservation.id}/accept`)).status).toBe(200);
    expect(connected.at(-1)).toEqual({ interactionId: held, agentId: second.id });
    expect(await channel.app.services.interactions.getInteraction(held)).toMatchObject({ status: 'active', agentId: second.id });
  });

  it('when an agent transfers to a named agent who is away, then only that agent is offered it once available, and if they reject it falls back to the queue', async () => {
    const [first, named, bystander] = agents;
    const held = await acceptedCall(first);
    await setState(bystander, 'available');
    expect((await api(first, 'POST', `/api/routing/work/${held}/transfer`, { toAgentId: named.id, note: 'VIP, asked for you' })).status).toBe(200);
    expect((await api(first, 'GET', '/api/routing/me')).body).toMatchObject({ load: 0, state: 'available' });

    await new Promise((resolve) => setTimeout(resolve, 300));
    // Neither the available bystander nor the freed first agent gets it: it waits for the named agent.
    expect(offersFor(harness.events, held).filter((event) => event.agentId !== first.id || event.reservation.transfer)).toHaveLength(0);

    await setState(named, 'available');
    const offer = await offerTo(named, held);
    expect(offer.reservation.transfer).toEqual({ fromAgentId: first.id, note: 'VIP, asked for you' });
    await api(named, 'POST', `/api/routing/reservations/${offer.reservation.id}/reject`);
    const fallback = await eventually('the fallback offer', () => offersFor(harness.events, held).find((event) => event.agentId !== named.id && event.reservation.transfer));
    expect([first.id, bystander.id]).toContain(fallback.agentId);
  });

  it('when a supervisor transfers a call an agent holds to a colleague on the agent\'s behalf, then it moves as the agent\'s own transfer would and the note records the supervisor; agents may not use that route', async () => {
    const [first, second] = agents;
    const supervisor = await createUserAndLogin(channel.app, 'supervisor');
    const held = await acceptedCall(first);
    const path = `/api/routing/agents/${first.id}/work/${held}/transfer`;
    expect((await api(second, 'POST', path, { toAgentId: second.id, note: 'taking it' })).status).toBe(403);
    const self = await api(supervisor, 'POST', path, { toAgentId: first.id, note: 'x' });
    expect(self.status).toBe(400);
    expect(JSON.stringify(self.body)).toContain('toAgentId');

    const moved = await api(supervisor, 'POST', path, { toAgentId: second.id, note: 'escalated by the floor lead' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ agentId: first.id, load: 0, work: [] });
    const interaction = await channel.app.services.interactions.getInteraction(held);
    expect(interaction.entries?.filter((entry) => entry.kind === 'note').at(-1)).toMatchObject({
      text: 'escalated by the floor lead', authorId: supervisor.id, data: { transfer: { from: first.id, toAgentId: second.id, by: supervisor.id } },
    });
    await setState(second, 'available');
    const offer = await offerTo(second, held);
    expect(offer.reservation.transfer).toEqual({ fromAgentId: first.id, note: 'escalated by the floor lead' });
    expect((await api(second, 'POST', `/api/routing/reservations/${offer.reservation.id}/accept`)).status).toBe(200);
    // Nothing left with the first agent: a second attempt finds no work item.
    expect((await api(supervisor, 'POST', path, { toQueue: 'general', note: 'again' })).status).toBe(404);
  });

  it('when the transfer names no target or a contact the agent does not hold, then it is refused naming the problem', async () => {
    const [first, second] = agents;
    const held = await acceptedCall(first);
    const missing = await api(first, 'POST', `/api/routing/work/${held}/transfer`, { note: 'x' });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('toAgentId');
    const unknownQueue = await api(first, 'POST', `/api/routing/work/${held}/transfer`, { toQueue: 'nowhere', note: 'x' });
    expect(unknownQueue.status).toBe(400);
    expect(JSON.stringify(unknownQueue.body)).toContain('toQueue');
    expect((await api(second, 'POST', `/api/routing/work/${held}/transfer`, { toQueue: 'sales', note: 'x' })).status).toBe(404);
    // Still the first agent's: nothing moved.
    expect((await api(first, 'GET', '/api/routing/me')).body.work).toEqual([expect.objectContaining({ interactionId: held, phase: 'active' })]);
    expect(harness.events.some((event: RoutingEvent) => event.type === 'offer' && event.reservation.interactionId === held && event.agentId !== first.id)).toBe(false);
  });
});

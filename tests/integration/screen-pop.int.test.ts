import { randomBytes } from 'node:crypto';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { connectSocket, type TestSocket } from '../support/socket';

/**
 * The whole path through the real wiring of the app: a Twilio-signed call webhook → routing →
 * the agent's socket receives the offer with the screen pop → accept over the socket → the live
 * call is bridged to the agent through the Twilio REST API.
 */
describe('screen pop through the real app', () => {
  let env: ChannelTestApp;
  let agent: TestUser;
  let otherAgent: TestUser;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    env = await startChannelTestApp();
    agent = await createUserAndLogin(env.app, 'agent');
    otherAgent = await createUserAndLogin(env.app, 'agent');
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await env.destroy();
  });

  const connect = async (user: TestUser) => {
    const socket = await connectSocket(env.app.url, { token: user.token });
    sockets.push(socket);
    return socket;
  };

  it('when a known customer calls, then the available agent gets the pop with their texts and emails, and accepting bridges the call', async () => {
    const phone = '+8613912349001';
    const email = `zhou.min.${randomBytes(3).toString('hex')}@example.cn`;
    const customer = await request(env.app, 'POST', '/api/customers', { token: agent.token, body: { name: 'Zhou Min', phones: [phone], emails: [email], tier: 'gold', attributes: { vin: 'LVVDB11B0ND000042', model: 'Tiggo 8 Pro' } } });
    // Earlier, finished contacts: history for the pop, not work for routing.
    await env.app.services.interactions.recordInboundEvent({ externalId: `test:sms-${phone}`, customerId: customer.body.id, channel: 'sms', direction: 'inbound', status: 'closed', entry: { kind: 'message', text: 'Engine light is on' } });
    await env.app.services.interactions.recordInboundEvent({ externalId: `test:email-${phone}`, customerId: customer.body.id, channel: 'email', direction: 'inbound', status: 'closed', subject: 'Warranty', entry: { kind: 'message', text: 'Is this covered?' } });

    const desk = await connect(agent);
    const bystander = await connect(otherAgent);
    expect((await desk.act('state:set', { state: 'available' })).ok).toBe(true);

    const callSid = `CA${randomBytes(16).toString('hex')}`;
    // An unlisted dialled number goes straight to the general queue.
    const answer = await env.webhook('/webhooks/twilio/voice', { CallSid: callSid, AccountSid: env.twilio.accountSid, From: phone, To: '+862159999999', CallStatus: 'ringing', Direction: 'inbound' });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('<Enqueue');

    const offer = await desk.waitFor('offer', undefined, 10_000);
    const { reservation, pop } = offer.data;
    expect(reservation.agentId).toBe(agent.id);
    expect(pop.customer).toMatchObject({ id: customer.body.id, name: 'Zhou Min', tier: 'gold', attributes: { model: 'Tiggo 8 Pro' } });
    expect(pop.timeline.map((interaction: { channel: string }) => interaction.channel).sort()).toEqual(['email', 'sms', 'voice']);
    expect(bystander.received.filter((event) => event.event === 'offer')).toEqual([]);

    const accepted = await desk.act('offer:accept', { reservationId: reservation.id });
    expect(accepted.ok).toBe(true);
    const call = env.twilio.calls.get(callSid);
    expect(call?.twiml).toContain(`<Client>agent-${agent.id}</Client>`);
    const interaction = await env.app.services.interactions.getInteraction(reservation.interactionId);
    expect(interaction).toMatchObject({ status: 'active', agentId: agent.id });
    expect((await desk.waitFor('state', (event) => event.data.state === 'busy')).data.work).toHaveLength(1);

    // The caller hangs up: the agent goes from busy to wrap-up without clicking anything.
    const ended = await env.webhook('/webhooks/twilio/voice/status', { CallSid: callSid, AccountSid: env.twilio.accountSid, CallStatus: 'completed', CallDuration: '95', SequenceNumber: '5' });
    expect(ended.status).toBe(200);
    const wrapUp = await desk.waitFor('state', (event) => event.data.state === 'wrap_up', 10_000);
    expect(wrapUp.data.work).toEqual([expect.objectContaining({ interactionId: reservation.interactionId, phase: 'wrap_up' })]);
  });
});

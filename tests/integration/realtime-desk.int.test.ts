import { randomBytes, randomInt } from 'node:crypto';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { connectSocket, type TestSocket } from '../support/socket';
import { createUserAndLogin, type TestUser } from '../support/test-app';
import { eventually, testQueues } from './routing-support';

const messageSid = () => `SM${randomBytes(16).toString('hex')}`;
const newMobile = () => `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
const ourNumber = '+862150000000';

/** The agent desk over the socket on an SMS conversation: live updates of the customer's texts, replies, offer time. */
describe('an agent handling an SMS conversation over the socket', () => {
  let env: ChannelTestApp;
  let agent: TestUser;
  let other: TestUser;
  let supervisor: TestUser;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    env = await startChannelTestApp({}, { routing: { queuesConfig: testQueues(), presenceGraceMs: 300 } });
    [agent, other, supervisor] = [await createUserAndLogin(env.app, 'agent'), await createUserAndLogin(env.app, 'agent'), await createUserAndLogin(env.app, 'supervisor')];
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await env.destroy();
  });

  const connect = async (user: TestUser, lastEventId?: string) => {
    const socket = await connectSocket(env.app.url, { token: user.token, ...(lastEventId ? { lastEventId } : {}) });
    sockets.push(socket);
    return socket;
  };
  const text = (from: string, body: string) =>
    env.webhook('/webhooks/twilio/sms', { MessageSid: messageSid(), AccountSid: env.twilio.accountSid, From: from, To: ourNumber, Body: body, NumMedia: '0' });

  /** A customer texts, the agent (the only one available) is offered the conversation and accepts. */
  const heldConversation = async (desk: TestSocket) => {
    const customer = newMobile();
    expect((await text(customer, 'my car will not start')).status).toBe(200);
    const offer = await desk.waitFor('offer', (payload) => payload.data.pop?.interaction?.firstMessage?.text === 'my car will not start');
    expect((await desk.act('offer:accept', { reservationId: offer.data.reservation.id })).ok).toBe(true);
    return { customer, interactionId: offer.data.reservation.interactionId as string, offer };
  };

  it('when the customer of a conversation the agent holds texts again, then that agent gets interaction_updated with the text, replayed on reconnect, and another agent gets nothing', async () => {
    const desk = await connect(agent);
    const bystander = await connect(other);
    expect((await desk.act('state:set', { state: 'available' })).ok).toBe(true);
    const { customer, interactionId } = await heldConversation(desk);
    // Only now: the first text could only have gone to the agent.
    expect((await bystander.act('state:set', { state: 'away' })).ok).toBe(true);

    expect((await text(customer, 'it clicks when I turn the key')).status).toBe(200);
    const update = await desk.waitFor('interaction_updated', (payload) => payload.data.entry.some((entry: { text?: string }) => entry.text === 'it clicks when I turn the key'));
    expect(update.id).toEqual(expect.any(String));
    expect(update.data).toMatchObject({ interactionId, status: 'active' });
    // Only what is new, not the conversation again.
    expect(update.data.entry.map((entry: { text?: string }) => entry.text)).not.toContain('my car will not start');
    expect(update.data.entry.find((entry: { text?: string }) => entry.text === 'it clicks when I turn the key')).toMatchObject({ kind: 'message', direction: 'inbound', id: expect.any(String) });

    // Kept in the agent's log: a desk that reconnects from before it gets it in the replay.
    const before = desk.received.filter((item) => item.event === 'assigned').at(-1)!.payload.id as string;
    const again = await connect(agent, before);
    const replay = await again.waitFor('replay');
    expect(replay.complete).toBe(true);
    expect(replay.events.map((event: { event: string }) => event.event)).toContain('interaction_updated');

    expect(bystander.received.map((item) => item.event)).not.toContain('interaction_updated');
    again.close();
    await desk.act('work:complete', { interactionId });
  }, 20_000);

  it('when a conversation is offered, rejected and offered again, then the accepted interaction carries the time of the first offer as offeredAt', async () => {
    const desk = await connect(agent);
    const colleague = await connect(other);
    await colleague.act('state:set', { state: 'away' });
    expect((await desk.act('state:set', { state: 'available' })).ok).toBe(true);
    expect((await text(newMobile(), 'where is my order')).status).toBe(200);
    const first = await desk.waitFor('offer', (payload) => payload.data.pop?.interaction?.firstMessage?.text === 'where is my order');
    const interactionId = first.data.reservation.interactionId as string;
    const offeredAt = first.data.reservation.offeredAt as string;

    await colleague.act('state:set', { state: 'available' });
    expect((await desk.act('offer:reject', { reservationId: first.data.reservation.id })).ok).toBe(true);
    const second = await colleague.waitFor('offer', (payload) => payload.data.reservation.interactionId === interactionId);
    expect(second.data.reservation.offeredAt > offeredAt).toBe(true);
    expect((await colleague.act('offer:accept', { reservationId: second.data.reservation.id })).ok).toBe(true);
    expect(await env.app.services.interactions.getInteraction(interactionId)).toMatchObject({ status: 'active', agentId: other.id, offeredAt });
    await colleague.act('work:complete', { interactionId });
    await colleague.act('state:set', { state: 'away' });
  }, 20_000);

  it('when the agent replies with work:reply, then the text goes out by SMS; an agent who does not hold the contact is refused and a supervisor may reply', async () => {
    const desk = await connect(agent);
    const bystander = await connect(other);
    const boss = await connect(supervisor);
    await bystander.act('state:set', { state: 'away' });
    expect((await desk.act('state:set', { state: 'available' })).ok).toBe(true);
    const { customer, interactionId } = await heldConversation(desk);

    const sent = await desk.act('work:reply', { interactionId, text: 'Please check the battery terminals' });
    expect(sent).toMatchObject({ ok: true, data: { entryId: expect.any(String), status: expect.any(String) } });
    await eventually('the reply sent through Twilio', () => env.twilio.messages.find((message) => message.to === customer && message.body === 'Please check the battery terminals'));

    expect(await bystander.act('work:reply', { interactionId, text: 'not mine' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await desk.act('work:reply', { interactionId, text: '   ' })).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    expect(await desk.act('work:reply', { interactionId: 'not-an-id', text: 'x' })).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    expect(await boss.act('work:reply', { interactionId, text: 'A supervisor here: a technician will call you' })).toMatchObject({ ok: true });
    await eventually('the supervisor reply sent', () => env.twilio.messages.find((message) => message.to === customer && message.body?.startsWith('A supervisor here')));
    expect(env.twilio.messages.some((message) => message.body === 'not mine')).toBe(false);

    // After completing (wrap-up 0 s) the agent holds it no longer.
    expect((await desk.act('work:complete', { interactionId })).ok).toBe(true);
    expect(await desk.act('work:reply', { interactionId, text: 'late' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  }, 20_000);
});

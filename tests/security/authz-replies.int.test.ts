import { randomBytes, randomInt } from 'node:crypto';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { connectSocket, type TestSocket } from '../support/socket';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';
import { eventually, testQueues } from '../integration/routing-support';

const messageSid = () => `SM${randomBytes(16).toString('hex')}`;
const newMobile = () => `+86137${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
const ourNumber = '+862150000000';

/** Finding 2 of issue 12: the REST reply and the socket's work:reply obey one rule, decided in the reply service. */
describe('who may answer a customer (REST and socket alike)', () => {
  let env: ChannelTestApp;
  let holder: TestUser;
  let bystander: TestUser;
  let supervisor: TestUser;
  let admin: TestUser;
  let department: TestUser;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    env = await startChannelTestApp({}, { routing: { queuesConfig: testQueues(), presenceGraceMs: 300 } });
    holder = await createUserAndLogin(env.app, 'agent');
    bystander = await createUserAndLogin(env.app, 'agent');
    supervisor = await createUserAndLogin(env.app, 'supervisor');
    admin = await createUserAndLogin(env.app, 'admin');
    const parts = await env.app.services.departments.create({ name: 'Parts', code: 'parts', timezone: 'Asia/Shanghai' });
    department = await createUserAndLogin(env.app, 'department', { departmentId: parts.id });
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
  const text = async (from: string, body: string) => {
    const sid = messageSid();
    expect((await env.webhook('/webhooks/twilio/sms', { MessageSid: sid, AccountSid: env.twilio.accountSid, From: from, To: ourNumber, Body: body, NumMedia: '0' })).status).toBe(200);
    return (await env.app.services.interactions.findByExternalId(`twilio-sms:${sid}`))!.interactionId;
  };
  const reply = (user: TestUser, interactionId: string, body: string) =>
    request(env.app, 'POST', `/api/interactions/${interactionId}/replies`, { token: user.token, body: { text: body } });
  const sentBodies = () => env.twilio.messages.map((message) => message.body);

  it('when an agent replies over REST on a conversation nobody holds, then 403 and nothing is queued or sent', async () => {
    const interactionId = await text(newMobile(), 'anyone there?');
    const response = await reply(bystander, interactionId, 'unasked-for reply');
    expect(response.status).toBe(403);
    expect(response.body.error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/handling/) });
    const stored = await env.app.services.interactions.getInteraction(interactionId);
    expect(stored.entries!.some((entry) => entry.text === 'unasked-for reply')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sentBodies()).not.toContain('unasked-for reply');
  });

  it('when a department user replies over REST, then 403 (the route is for the front line)', async () => {
    const interactionId = await text(newMobile(), 'hello');
    expect((await reply(department, interactionId, 'from parts')).status).toBe(403);
  });

  it('when an agent holds the conversation, then their REST reply goes out, another agent is refused on REST and socket, and a supervisor and an admin may step in', async () => {
    const desk = await connect(holder);
    const other = await connect(bystander);
    await other.act('state:set', { state: 'away' });
    expect((await desk.act('state:set', { state: 'available' })).ok).toBe(true);
    const customer = newMobile();
    const interactionId = await text(customer, 'my battery is flat');
    const offer = await desk.waitFor('offer', (payload) => payload.data.reservation.interactionId === interactionId);
    expect((await desk.act('offer:accept', { reservationId: offer.data.reservation.id })).ok).toBe(true);

    const byHolder = await reply(holder, interactionId, 'Jump-start it, then drive 20 minutes');
    expect(byHolder.status).toBe(202);
    await eventually('the holder reply sent', () => env.twilio.messages.find((message) => message.to === customer && message.body === 'Jump-start it, then drive 20 minutes'));

    expect((await reply(bystander, interactionId, 'not mine over REST')).status).toBe(403);
    expect(await other.act('work:reply', { interactionId, text: 'not mine over socket' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await reply(supervisor, interactionId, 'Supervisor here')).status).toBe(202);
    expect((await reply(admin, interactionId, 'Admin here')).status).toBe(202);
    await eventually('the admin reply sent', () => env.twilio.messages.find((message) => message.to === customer && message.body === 'Admin here'));
    expect(sentBodies()).not.toContain('not mine over REST');
    expect(sentBodies()).not.toContain('not mine over socket');

    // Once the work is complete the agent holds it no longer: REST refuses as the socket does.
    expect((await desk.act('work:complete', { interactionId })).ok).toBe(true);
    expect((await reply(holder, interactionId, 'late over REST')).status).toBe(403);
    expect(await desk.act('work:reply', { interactionId, text: 'late over socket' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  }, 20_000);
});

import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { newCallSid, newMessageSid, newMobile, ourNumber, timed, unlistedNumber } from '../support/edge-fixtures';
import { startEmailTestApp, sendEmail, type EmailTestApp } from '../support/email';
import { startPrivateRedis, type PrivateStore } from '../support/private-stores';
import { connectSocket, type TestSocket } from '../support/socket';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';


// Redis holds the queues; MongoDB is the record. With Redis gone, the edges still store and answer,
// and the contact waits in MongoDB (status queued/open, no agent) for the reconciler to queue again.
describe('edges while Redis is down', () => {
  let redis: PrivateStore;
  let channel: EmailTestApp;
  let agent: TestUser;
  // Desks signed in and available before the outage: what Redis loses of them (state, connections)
  // the reconciler takes back from this node's live sockets when Redis returns.
  let voiceDesk: TestSocket;
  let emailDesk: TestSocket;
  // What the outage tests stored, to be offered once Redis is back; and when it came back.
  let callStoredDuringOutage: string | undefined;
  let emailStoredDuringOutage: string | undefined;
  let redisBackAt = 0;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    channel = await startEmailTestApp({ REDIS_URL: redis.url });
    agent = await createUserAndLogin(channel.app, 'agent');
    const [voiceAgent, emailAgent] = [await createUserAndLogin(channel.app, 'agent'), await createUserAndLogin(channel.app, 'agent')];
    await channel.app.routing!.profiles.save({ agentId: voiceAgent.id, queues: ['general'], capacity: { voice: 100 } });
    await channel.app.routing!.profiles.save({ agentId: emailAgent.id, queues: ['email'], capacity: { email: 100 } });
    voiceDesk = await connectSocket(channel.app.url, { token: voiceAgent.token });
    emailDesk = await connectSocket(channel.app.url, { token: emailAgent.token });
    for (const desk of [voiceDesk, emailDesk]) expect((await desk.act('state:set', { state: 'available' })).ok).toBe(true);
    await redis.kill();
  }, 60_000);
  afterAll(async () => {
    voiceDesk?.close();
    emailDesk?.close();
    await redis.start();
    await channel.destroy();
    await redis.destroy();
  }, 60_000);

  const interactionOf = async (externalId: string) => {
    const link = await channel.app.services.interactions.findByExternalId(externalId);
    if (!link) throw new Error(`nothing recorded for ${externalId}`);
    return channel.app.services.interactions.getInteraction(link.interactionId);
  };

  it('when a customer calls while Redis is down, then Twilio gets TwiML that holds the caller within a few seconds and the call is stored as queued', async () => {
    const callSid = newCallSid();
    const { value: response, ms } = await timed(() =>
      channel.webhook('/webhooks/twilio/voice', { CallSid: callSid, AccountSid: channel.twilio.accountSid, From: newMobile(), To: unlistedNumber, CallStatus: 'ringing', Direction: 'inbound' }),
    );

    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/^text\/xml/);
    // <Enqueue> with our wait URL: Twilio plays the hold announcements until an agent is connected.
    expect(response.text).toContain('<Enqueue waitUrl=');
    expect(ms).toBeLessThan(5_000);
    const interaction = await interactionOf(`twilio-call:${callSid}`);
    expect(interaction).toMatchObject({ channel: 'voice', direction: 'inbound', status: 'queued', queue: 'general' });
    expect(interaction.agentId).toBeUndefined();
    expect(interaction.queuedAt).toBeDefined();
    callStoredDuringOutage = interaction.id;
  }, 30_000);

  it('when Twilio delivers the same call twice while Redis is down, then it is stored once and both deliveries get the same answer', async () => {
    const callSid = newCallSid();
    const params = { CallSid: callSid, AccountSid: channel.twilio.accountSid, From: newMobile(), To: unlistedNumber, CallStatus: 'ringing', Direction: 'inbound' };
    const first = await channel.webhook('/webhooks/twilio/voice', params);
    const again = await channel.webhook('/webhooks/twilio/voice', params);

    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.text).toBe(first.text);
    const interaction = await interactionOf(`twilio-call:${callSid}`);
    expect(interaction.entries).toHaveLength(1);
  }, 30_000);

  it('when a customer texts while Redis is down, then Twilio gets 200 within a few seconds and the text is stored waiting for an agent', async () => {
    const sid = newMessageSid();
    const { value: response, ms } = await timed(() =>
      channel.webhook('/webhooks/twilio/sms', { MessageSid: sid, AccountSid: channel.twilio.accountSid, From: newMobile(), To: ourNumber, Body: 'My car makes a noise', NumMedia: '0' }),
    );

    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/text\/xml/);
    expect(ms).toBeLessThan(5_000);
    const interaction = await interactionOf(`twilio-sms:${sid}`);
    // An inbound SMS/email conversation waits as `open` with no agent (routing queues it by channel).
    expect(interaction).toMatchObject({ channel: 'sms', direction: 'inbound', status: 'open' });
    expect(interaction.agentId).toBeUndefined();
  }, 30_000);

  it('when a delivery finds the same text claimed moments ago but not yet recorded, then without Redis to tell a duplicate in flight it is refused with 503 and Retry-After', async () => {
    const sid = newMessageSid();
    // What a delivery in progress on another node leaves: the durable claim, not yet marked recorded.
    await channel.app.mongo.collection('inbound_keys').insertOne({ _id: `twilio-sms:${sid}` as never, interactionId: new Types.ObjectId().toHexString(), entryId: new Types.ObjectId().toHexString(), at: new Date() });

    const response = await channel.webhook('/webhooks/twilio/sms', { MessageSid: sid, AccountSid: channel.twilio.accountSid, From: newMobile(), To: ourNumber, Body: 'Twice', NumMedia: '0' });

    expect(response.status).toBe(503);
    expect(JSON.parse(response.text).error.code).toBe('unavailable');
    expect(await channel.app.services.interactions.findByExternalId(`twilio-sms:${sid}`)).toBeNull();
  }, 30_000);

  it('when a delivery finds a claim older than any delivery lasts (its process died), then it finishes the record without Redis', async () => {
    const sid = newMessageSid();
    const from = newMobile();
    const claimedLongAgo = Types.ObjectId.createFromTime(Math.floor(Date.now() / 1000) - 120).toHexString();
    await channel.app.mongo.collection('inbound_keys').insertOne({ _id: `twilio-sms:${sid}` as never, interactionId: new Types.ObjectId().toHexString(), entryId: claimedLongAgo, at: new Date(Date.now() - 120_000) });

    const response = await channel.webhook('/webhooks/twilio/sms', { MessageSid: sid, AccountSid: channel.twilio.accountSid, From: from, To: ourNumber, Body: 'After a crash', NumMedia: '0' });

    expect(response.status).toBe(200);
    const interaction = await interactionOf(`twilio-sms:${sid}`);
    expect(interaction.entries).toEqual([expect.objectContaining({ id: claimedLongAgo, text: 'After a crash' })]);
  }, 30_000);

  it('when an email arrives over SMTP while Redis is down, then it is accepted with 250 within a few seconds and stored waiting for an agent', async () => {
    const from = `driver-${randomBytes(4).toString('hex')}@example.net`;
    const messageId = `<redis-down-${randomBytes(6).toString('hex')}@example.net>`;
    const { value: outcome, ms } = await timed(() =>
      sendEmail(channel.smtpPort, { from, to: channel.supportEmail, subject: 'Brakes squeak', text: 'Since Monday.', messageId }),
    );

    expect(outcome).toMatchObject({ accepted: true, response: expect.stringMatching(/^250 /) });
    expect(ms).toBeLessThan(5_000);
    const [interaction] = await channel.emailInteractions(from);
    expect(interaction).toMatchObject({ channel: 'email', direction: 'inbound', status: 'open' });
    expect(interaction!.agentId).toBeUndefined();
    expect(interaction!.entries).toHaveLength(1);
    emailStoredDuringOutage = interaction!.id;
  }, 30_000);

  it('when a job is queued while Redis is down, then the add rejects within a second instead of holding its request until Redis returns', async () => {
    // A queue already in use before the outage, and one first used during it.
    const used = channel.app.queues.queue<{ n: number }>('degraded-probe-used');
    await redis.start();
    try {
      // The producer connection reconnects on its own within half a second; until then adds fail fast too.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const added = await used.add('probe', { n: 1 }).then(() => true, () => false);
        if (added) break;
        if (Date.now() > deadline) throw new Error('the producer did not reconnect');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await redis.kill();
    }
    const fresh = channel.app.queues.queue<{ n: number }>('degraded-probe-fresh');

    for (const queue of [used, fresh]) {
      const started = Date.now();
      await expect(queue.add('probe', { n: 2 })).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(2_500);
    }
  }, 30_000);

  it('when the gateway sends to a room while Redis is down, then no rejection escapes (an unhandled one is an error per emit, or the end of a process without a handler)', async () => {
    const escaped: unknown[] = [];
    const onUnhandled = (reason: unknown) => escaped.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // The Socket.IO Redis adapter publishes to the other nodes without awaiting the publish.
      await channel.app.realtime!.toRoom('supervisors', 'queue_changed', { queue: 'general' });
      await channel.app.realtime!.toRoom('agents', 'queue_changed', { queue: 'general' });
      // ioredis gives up on the command after its retry (maxRetriesPerRequest 1, reconnects 500 ms apart).
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(escaped).toEqual([]);
  }, 30_000);

  it('when /readyz is asked while Redis is down, then it answers 200 degraded naming redis', async () => {
    const { value: response, ms } = await timed(() => request(channel.app, 'GET', '/readyz'));

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'degraded', down: ['redis'] });
    expect(ms).toBeLessThan(3_000);
  }, 30_000);

  it('when an API request needs Redis while it is down, then it fails fast with a 503 JSON error that says to retry', async () => {
    // An agent's routing state (presence, offers, work) lives in Redis only.
    const { value: response, ms } = await timed(() => request(channel.app, 'GET', '/api/routing/me', { token: agent.token }));

    expect(response.status).toBe(503);
    expect(response.body.error).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/retry/i) });
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(ms).toBeLessThan(3_000);
  }, 30_000);

  it('when Redis is started again, then /readyz answers ready', async () => {
    await redis.start();
    redisBackAt = Date.now();
    const deadline = Date.now() + 10_000;
    let body: unknown;
    for (;;) {
      const response = await request(channel.app, 'GET', '/readyz');
      body = response.body;
      if (response.status === 200 && (body as { status?: string }).status === 'ready') break;
      if (Date.now() > deadline) throw new Error(`not ready again: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(body).toMatchObject({ status: 'ready', down: [] });
  }, 30_000);

  it('when Redis is back, then the call and the email stored during the outage are offered to the desks within 10 s', async () => {
    expect(redisBackAt).toBeGreaterThan(0);
    expect(callStoredDuringOutage && emailStoredDuringOutage).toBeTruthy();
    const left = () => Math.max(1, 10_000 - (Date.now() - redisBackAt));
    // The oldest call in "general" is the first one stored during the outage; the only email, the email.
    const call = await voiceDesk.waitFor('offer', (payload) => payload.data.reservation.interactionId === callStoredDuringOutage, left());
    const email = await emailDesk.waitFor('offer', (payload) => payload.data.reservation.interactionId === emailStoredDuringOutage, left());

    expect(call.data.reservation).toMatchObject({ queue: 'general', channel: 'voice' });
    expect(email.data.reservation).toMatchObject({ queue: 'email', channel: 'email' });
    const offeredMs = Date.now() - redisBackAt;
    expect(offeredMs).toBeLessThan(10_000);
    process.stderr.write(`[edges-redis-down] call and email stored during the outage offered ${offeredMs} ms after Redis returned\n`);
  }, 30_000);
});

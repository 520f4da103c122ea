import { randomBytes, randomInt } from 'node:crypto';
import type { Entry, Interaction } from '../../src/interactions';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';

const messageSid = () => `SM${randomBytes(16).toString('hex')}`;
const newMobile = () => `+86138${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
const ourNumber = '+862150000000';

/** Polls until `check` returns a value (not undefined/false) or the time is up. */
async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('outbound SMS: replies, consent, sending and delivery status', () => {
  let channel: ChannelTestApp;
  let agent: TestUser;

  beforeAll(async () => {
    channel = await startChannelTestApp();
    // Replies without a routed offer: a supervisor may step in on any contact (agents only on one they hold).
    agent = await createUserAndLogin(channel.app, 'supervisor');
  });
  afterAll(() => channel.destroy());

  const text = async (from: string, body: string) => {
    const sid = messageSid();
    const response = await channel.webhook('/webhooks/twilio/sms', { MessageSid: sid, AccountSid: channel.twilio.accountSid, From: from, To: ourNumber, Body: body, NumMedia: '0' });
    const found = await channel.app.services.interactions.findByExternalId(`twilio-sms:${sid}`);
    return { response, interactionId: found?.interactionId };
  };
  const reply = (interactionId: string, body: string) => request(channel.app, 'POST', `/api/interactions/${interactionId}/replies`, { token: agent.token, body: { text: body } });
  const entry = async (interactionId: string, entryId: string): Promise<Entry | undefined> =>
    (await channel.app.services.interactions.getInteraction(interactionId)).entries?.find((candidate) => candidate.id === entryId);
  const entryWithStatus = (interactionId: string, entryId: string, status: string, timeoutMs?: number) =>
    waitFor(async () => {
      const found = await entry(interactionId, entryId);
      return found?.data?.deliveryStatus === status ? found : undefined;
    }, timeoutMs);
  const sentTo = (to: string) => channel.twilio.messages.filter((message) => message.to === to);
  const interaction = (id: string): Promise<Interaction> => channel.app.services.interactions.getInteraction(id);

  it('when an agent replies in a conversation, then the stand-in gets it once with a status callback and the entry ends delivered', async () => {
    const customer = newMobile();
    const { interactionId } = await text(customer, 'Is my car ready?');
    const response = await reply(interactionId!, 'Yes, pick it up after 5pm €20');
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ entryId: expect.any(String), status: 'queued' });
    const queued = await entry(interactionId!, response.body.entryId);
    expect(queued).toMatchObject({ kind: 'message', direction: 'outbound', authorId: agent.id, text: 'Yes, pick it up after 5pm €20', data: { segments: 1, encoding: 'GSM-7' } });

    const delivered = await entryWithStatus(interactionId!, response.body.entryId, 'delivered');
    const sent = sentTo(customer);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ from: ourNumber, body: 'Yes, pick it up after 5pm €20', statusCallback: `${channel.app.url}/webhooks/twilio/sms/status` });
    expect(delivered.data?.sid).toBe(sent[0].sid);
    expect(delivered.flags ?? []).not.toContain('undelivered');
    expect(await channel.app.services.interactions.findByExternalId(`twilio-sms:${sent[0].sid}`)).toEqual({ interactionId, entryId: response.body.entryId });
  });

  it.each(['STOP', 'stop please', ' Stop.'])('when the customer texts %j, then a reply is refused with 409, logged, and nothing is sent until START', async (keyword) => {
    const customer = newMobile();
    const { interactionId } = await text(customer, 'Hi');
    const stop = await text(customer, keyword);
    expect(stop.response.text).toMatch(/<Message>You are unsubscribed.*Reply START/);
    expect(stop.interactionId).toBe(interactionId);

    const refused = await reply(interactionId!, 'Your service is due');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/opted out.*START/) });
    const logged = await interaction(interactionId!);
    expect(logged.entries?.map((item) => item.text)).toContain(keyword);
    expect(logged.entries?.at(-1)).toMatchObject({ kind: 'system', flags: ['sms_refused_opted_out'], data: { event: 'sms_refused', reason: 'opted_out' } });
    expect(logged.flags).toEqual(expect.arrayContaining(['sms_opted_out', 'sms_send_refused']));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sentTo(customer)).toHaveLength(0);

    const start = await text(customer, 'START');
    expect(start.response.text).toMatch(/<Message>You are subscribed again/);
    const allowed = await reply(interactionId!, 'Welcome back');
    expect(allowed.status).toBe(202);
    await entryWithStatus(interactionId!, allowed.body.entryId, 'delivered');
    expect(sentTo(customer).map((message) => message.body)).toEqual(['Welcome back']);
    const consent = await channel.app.mongo.collection('sms_consents').findOne({ _id: customer as never });
    expect(consent).toMatchObject({ optedOut: false, history: [expect.objectContaining({ action: 'opt_out' }), expect.objectContaining({ action: 'opt_in' })] });
  });

  it('when the handset is unreachable, then the entry ends undelivered with the error code and both are flagged', async () => {
    const customer = newMobile();
    channel.twilio.undeliverable.add(customer);
    const { interactionId } = await text(customer, 'Call me');
    const response = await reply(interactionId!, 'Calling you now');
    const undelivered = await entryWithStatus(interactionId!, response.body.entryId, 'undelivered');
    expect(undelivered.data?.errorCode).toBe('30003');
    expect(undelivered.flags).toContain('undelivered');
    // The interaction flag follows the entry's update in the same callback; wait for it, too.
    await waitFor(async () => (await interaction(interactionId!)).flags.includes('sms_undelivered'));
  });

  it('when Twilio answers 503 on the first attempt, then the worker retries and the message goes out exactly once', async () => {
    const customer = newMobile();
    const { interactionId } = await text(customer, 'Any news?');
    channel.twilio.failNext(1, 503);
    const response = await reply(interactionId!, 'Parts arrive Monday');
    await entryWithStatus(interactionId!, response.body.entryId, 'delivered', 8_000);
    expect(sentTo(customer)).toHaveLength(1);
  });

  it('when Twilio took the message but the answer was lost, then the retry finds it instead of sending it again', async () => {
    const customer = newMobile();
    const { interactionId } = await text(customer, 'Price?');
    channel.twilio.dropResponseNext(1);
    const response = await reply(interactionId!, 'It is 300 CNY');
    const delivered = await entryWithStatus(interactionId!, response.body.entryId, 'delivered', 8_000);
    const sent = sentTo(customer);
    expect(sent).toHaveLength(1);
    expect(delivered.data?.sid).toBe(sent[0].sid);
  });

  it('when Twilio refuses the number with a 4xx, then the entry is failed at once with the code and nothing is retried', async () => {
    const customer = newMobile();
    channel.twilio.rejectTo.set(customer, 21211);
    const { interactionId } = await text(customer, 'Hello');
    const response = await reply(interactionId!, 'Hello back');
    const failed = await entryWithStatus(interactionId!, response.body.entryId, 'failed');
    expect(failed.data?.errorCode).toBe('21211');
    expect(failed.flags).toContain('undelivered');
    const send = await channel.app.mongo.collection('sms_sends').findOne({ _id: response.body.entryId as never });
    expect(send).toMatchObject({ state: 'failed', attempts: 1, errorCode: '21211' });
  });

  it('when status callbacks arrive out of order or repeated, then the entry never moves backwards', async () => {
    const customer = newMobile();
    const { interactionId } = await text(customer, 'ok?');
    const response = await reply(interactionId!, 'ok');
    const delivered = await entryWithStatus(interactionId!, response.body.entryId, 'delivered');
    const sid = String(delivered.data?.sid);
    for (const status of ['sent', 'queued', 'delivered', 'sending']) {
      const callback = await channel.webhook('/webhooks/twilio/sms/status', { MessageSid: sid, AccountSid: channel.twilio.accountSid, MessageStatus: status });
      expect(callback.status).toBe(200);
    }
    expect((await entry(interactionId!, response.body.entryId))?.data?.deliveryStatus).toBe('delivered');
    await channel.webhook('/webhooks/twilio/sms/status', { MessageSid: sid, AccountSid: channel.twilio.accountSid, MessageStatus: 'read' });
    expect((await entry(interactionId!, response.body.entryId))?.data?.deliveryStatus).toBe('read');
  });

  it('when a status callback names an unknown message or lacks its status, then 200 for the first and 400 naming the field for the second', async () => {
    const unknown = await channel.webhook('/webhooks/twilio/sms/status', { MessageSid: messageSid(), AccountSid: channel.twilio.accountSid, MessageStatus: 'delivered' });
    expect(unknown.status).toBe(200);
    const invalid = await channel.webhook('/webhooks/twilio/sms/status', { MessageSid: messageSid(), AccountSid: channel.twilio.accountSid });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text).error.details).toEqual([expect.objectContaining({ field: 'body.MessageStatus' })]);
  });

  it('when a notification is sent twice with one idempotency key, then one entry and one message exist', async () => {
    const customer = (await channel.app.services.customers.resolveCustomer({ phone: newMobile() })).customer;
    const sms = channel.app.channels.find((module) => module.name === 'sms') as unknown as { outbound: { sendSms: (input: object) => Promise<{ interactionId: string; entryId: string }> } };
    const input = { customerId: customer.id, text: '您的车辆已保养完毕 🚗', idempotencyKey: `service-done:${customer.id}` };
    const [first, second] = await Promise.all([sms.outbound.sendSms(input), sms.outbound.sendSms(input)]);
    expect(second).toMatchObject({ interactionId: first.interactionId, entryId: first.entryId });
    const sent = await entryWithStatus(first.interactionId, first.entryId, 'delivered');
    expect(sent.data).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect(sentTo(customer.phones[0].value)).toHaveLength(1);
    expect((await interaction(first.interactionId)).direction).toBe('outbound');
  });
});

import { randomBytes } from 'node:crypto';
import { newCallSid, newMessageSid, newMobile, ourNumber, timed, unlistedNumber } from '../support/edge-fixtures';
import { startEmailTestApp, sendEmail, type EmailTestApp } from '../support/email';
import { startPrivateFerretDb, type PrivateStore } from '../support/private-stores';
import { request, uniqueName } from '../support/test-app';


// MongoDB is the record: an edge answers success only for what is stored. With the database down,
// Twilio gets a 5xx and the mail server a 451, so both retry; the retry, once it is back, is stored once.
describe('edges while the database is down', () => {
  let ferret: PrivateStore;
  let channel: EmailTestApp;

  beforeAll(async () => {
    ferret = await startPrivateFerretDb(uniqueName('sbdown'));
    channel = await startEmailTestApp({ MONGODB_URI: ferret.url });
  }, 60_000);
  afterAll(async () => {
    await ferret.start();
    await channel.destroy();
    await ferret.destroy();
  }, 60_000);

  const callSid = newCallSid();
  const messageSid = newMessageSid();
  const caller = newMobile();
  const texter = newMobile();
  const mailer = `driver-${randomBytes(4).toString('hex')}@example.net`;
  const messageId = `<db-down-${randomBytes(6).toString('hex')}@example.net>`;
  const call = () => channel.webhook('/webhooks/twilio/voice', { CallSid: callSid, AccountSid: channel.twilio.accountSid, From: caller, To: unlistedNumber, CallStatus: 'ringing', Direction: 'inbound' });
  const text = () => channel.webhook('/webhooks/twilio/sms', { MessageSid: messageSid, AccountSid: channel.twilio.accountSid, From: texter, To: ourNumber, Body: 'Is my car ready?', NumMedia: '0' });
  const mail = () => sendEmail(channel.smtpPort, { from: mailer, to: channel.supportEmail, subject: 'Invoice', text: 'Please resend it.', messageId });

  // Counted in the database itself: one claim and one interaction entry per delivery id.
  const stored = async (externalId: string) => ({
    claims: await channel.app.mongo.collection('inbound_keys').countDocuments({ _id: externalId as never }),
    entries: await channel.app.mongo.collection('interactions').countDocuments({ 'entries.externalId': externalId }),
  });

  it('when the database is killed, then a text and a call get a retryable 503 and an email a 451, within a few seconds', async () => {
    await ferret.kill();

    const sms = await timed(text);
    expect(sms.value.status).toBe(503);
    expect(JSON.parse(sms.value.text).error.code).toBe('unavailable');
    expect(sms.ms).toBeLessThan(8_000);

    const voice = await timed(call);
    expect(voice.value.status).toBe(503);
    expect(voice.ms).toBeLessThan(8_000);

    const email = await timed(mail);
    expect(email.value).toMatchObject({ accepted: false, responseCode: 451 });
    expect(email.ms).toBeLessThan(8_000);
  }, 60_000);

  it('when the database is down, then /readyz answers 503 not_ready naming mongo', async () => {
    const response = await request(channel.app, 'GET', '/readyz');
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ status: 'not_ready', down: ['mongo'] });
  }, 30_000);

  it('when the database is back and the same deliveries are retried, then each is stored exactly once', async () => {
    await ferret.start();
    // The driver finds the server again on its own (heartbeat); the senders' retries come later than this.
    const deadline = Date.now() + 20_000;
    while ((await request(channel.app, 'GET', '/readyz')).status !== 200) {
      if (Date.now() > deadline) throw new Error('the app did not see the database come back');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    // Each retried twice, as Twilio and a mail server may do when an answer is lost.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      expect((await text()).status).toBe(200);
      const voice = await call();
      expect(voice.status).toBe(200);
      expect(voice.text).toContain('<Enqueue');
      expect(await mail()).toMatchObject({ accepted: true, response: expect.stringMatching(/^250 /) });
    }

    expect(await stored(`twilio-sms:${messageSid}`)).toEqual({ claims: 1, entries: 1 });
    expect(await stored(`twilio-call:${callSid}`)).toEqual({ claims: 1, entries: 1 });
    expect(await stored(`email:${messageId}`)).toEqual({ claims: 1, entries: 1 });
  }, 60_000);
});

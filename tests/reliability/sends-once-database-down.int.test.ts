import { randomInt } from 'node:crypto';
import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../../scripts/standins/smtp-sink';
import { standinCredentials, startTwilioStandin, type StandinMessage, type TwilioStandin } from '../../scripts/standins/twilio-standin';
import type { EmailChannel } from '../../src/channels/email';
import { EmailSendRepository } from '../../src/channels/email/email-send.repository';
import { outboundEmailQueueName, type OutboundEmailJob } from '../../src/channels/email/outbound-email.jobs';
import { createRedis } from '../../src/platform/redis';
import type { SmsChannel } from '../../src/channels/sms';
import { smsOutboundQueue, type SmsOutboundJob } from '../../src/channels/sms/sms.jobs';
import { freePort, startPrivateFerretDb, type PrivateStore } from '../support/private-stores';
import { startTestApp, uniqueName, type TestApp } from '../support/test-app';
import { eventuallyThroughOutages } from '../support/edge-fixtures';

/*
 * Issue 13, found by the chaos run: the mail server accepted an email (250), then MongoDB went down
 * before the outcome was written; the job failed, was retried once the database was back, found the
 * entry not `sent`, and sent it again. Here the SMTP sink (and the Twilio stand-in) kill the test's
 * own FerretDB at the moment they have the message and before they answer 250 (201), so the outcome
 * write surely fails.
 */
const eventually = <T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 30_000) => eventuallyThroughOutages(probe, what, timeoutMs, 100);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a send the provider accepted is not sent again when the database was down for its outcome', () => {
  let ferret: PrivateStore;
  let sink: SmtpSink;
  let twilio: TwilioStandin;
  let app: TestApp;
  /** Recipients (addresses, numbers) at whose first message the provider kills the database before answering. */
  const killOn = new Set<string>();
  const killIfArmed = async (recipients: string[]) => {
    const armed = recipients.find((to) => killOn.has(to));
    if (!armed) return;
    killOn.delete(armed);
    await ferret.kill('SIGKILL');
  };

  beforeAll(async () => {
    ferret = await startPrivateFerretDb(uniqueName('sbonce'));
    sink = await startSmtpSink({ beforeAnswer: (message: SinkMessage) => killIfArmed(message.envelope.rcptTo) });
    const credentials = standinCredentials();
    twilio = await startTwilioStandin({ ...credentials, callbackDelayMs: 5, beforeAnswer: (message: StandinMessage) => killIfArmed([message.to]) });
    const port = await freePort();
    app = await startTestApp({
      PORT: port,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      MONGODB_URI: ferret.url,
      TWILIO_ACCOUNT_SID: credentials.accountSid,
      TWILIO_AUTH_TOKEN: credentials.authToken,
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_NUMBERS: '+862150000000',
      SMTP_OUT_URL: sink.url,
      SUPPORT_EMAIL: 'support@switchboard.test',
    });
  }, 60_000);
  afterAll(async () => {
    await ferret?.start();
    await app?.destroy();
    await Promise.all([sink?.close(), twilio?.close()]);
    await ferret?.destroy();
  }, 60_000);

  const newCustomer = async () => {
    const mobile = `+86137${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
    const email = `${uniqueName('once')}@example.net`;
    const customer = await app.services.customers.createCustomer({ name: 'Li Wei', phones: [mobile], emails: [email] });
    return { id: customer.id, mobile, email };
  };
  const entryOf = async (interactionId: string, entryId: string) => (await app.services.interactions.getInteraction(interactionId)).entries?.find((candidate) => candidate.id === entryId);

  it('when the database dies as the mail server accepts an email, then the job retries record it as sent and the email reached the server once', async () => {
    const email = app.channels.find((candidate) => candidate.name === 'email') as EmailChannel;
    const customer = await newCustomer();
    const address = customer.email;
    const queue = app.queues.queue<OutboundEmailJob>(outboundEmailQueueName) as Queue<OutboundEmailJob>;

    // Arrange: the first message to this address kills the database.
    killOn.add(address);
    const armed = sink.waitFor((message) => message.envelope.rcptTo.includes(address), 30_000);
    const sent = await email.sendEmail({ customerId: customer.id, subject: 'Your car', text: 'Your car is ready', idempotencyKey: uniqueName('mail') });
    const first = await armed;
    const messageId = first.header('message-id')!;

    // The sink killed the database before answering; the outcome write fails and so does the job.
    await eventually(async () => {
      const job = (await queue.getJob(sent.entryId)) as Job<OutboundEmailJob> | undefined;
      return job && job.attemptsMade >= 1 && !ferret.running();
    }, 'the first attempt to fail with the database down');
    await ferret.start();

    const entry = await eventually(async () => {
      const found = await entryOf(sent.interactionId, sent.entryId);
      return found?.data?.status === 'sent' ? found : undefined;
    }, 'the entry recorded as sent', 60_000);
    expect(entry.data?.message).toMatchObject({ messageId });
    await eventually(async () => (await queue.getJob(sent.entryId))?.isCompleted(), 'the job completed');
    // Any further retry would have run by now.
    await pause(1_000);

    const arrivals = sink.messages.filter((message) => message.header('message-id') === messageId).map((message) => message.receivedAt.toISOString());
    expect(arrivals).toHaveLength(1);
  }, 120_000);

  it('when the database dies as Twilio accepts a text, then the job retries record its sid and Twilio got the text once', async () => {
    const sms = app.channels.find((candidate) => candidate.name === 'sms') as SmsChannel;
    const customer = await newCustomer();
    killOn.add(customer.mobile);
    const sent = await sms.outbound.sendSms({ customerId: customer.id, text: 'Your car is ready', idempotencyKey: uniqueName('sms') });
    // Taken after the send: the queue factory keeps the options of the first caller (here the job's retries).
    const queue = app.queues.queue<SmsOutboundJob>(smsOutboundQueue) as Queue<SmsOutboundJob>;
    await eventually(async () => {
      const job = (await queue.getJob(sent.entryId)) as Job<SmsOutboundJob> | undefined;
      return job && job.attemptsMade >= 1 && !ferret.running();
    }, 'the first attempt to fail with the database down');
    await ferret.start();

    const entry = await eventually(async () => {
      const found = await entryOf(sent.interactionId, sent.entryId);
      return typeof found?.data?.sid === 'string' ? found : undefined;
    }, 'the entry linked to its Twilio sid', 60_000);
    await eventually(async () => (await queue.getJob(sent.entryId))?.isCompleted(), 'the job completed');
    await pause(1_000);

    const texts = twilio.messages.filter((message) => message.to === customer.mobile).map((message) => message.sid);
    expect(texts).toHaveLength(1);
    expect(entry.data?.sid).toBe(texts[0]);
  }, 120_000);

  it('when an accepted email\'s job ran out of tries while the database was down, then the repair puts it back and it is recorded as sent without a resend', async () => {
    // A node of its own (own database and key prefix) without workers, so nothing takes the job but this test.
    const settings = { MONGODB_URI: ferret.url.replace(/\/[^/]+$/, `/${uniqueName('sbonce2')}`), REDIS_KEY_PREFIX: `${uniqueName('once2')}:`, SMTP_OUT_URL: sink.url, SUPPORT_EMAIL: 'support@switchboard.test' };
    const api = await startTestApp({ ...settings, ROLES: 'api' });
    let worker: TestApp | undefined;
    const redis = createRedis(api.config.REDIS_URL);
    try {
      await api.reconciler.stop();
      const email = api.channels.find((candidate) => candidate.name === 'email') as EmailChannel;
      const address = `${uniqueName('once')}@example.net`;
      const customer = await api.services.customers.createCustomer({ name: 'Li Wei', phones: [], emails: [address] });
      const sent = await email.sendEmail({ customerId: customer.id, subject: 'Your car', text: 'Your car is ready', idempotencyKey: uniqueName('mail') });

      // What six failed tries inside an outage leave: the server's answer in Redis, the send still
      // `sending` in MongoDB (since long ago), and the job failed for good under the entry id.
      const acceptedAt = new Date(Date.now() - 10 * 60_000);
      await redis.set(`${api.config.REDIS_KEY_PREFIX}sent:email:${sent.entryId}`, JSON.stringify({ status: 'sent', send: { accepted: [address], rejected: [], response: '250 taken before the outage', at: acceptedAt.toISOString(), attempt: 1 } }), 'EX', 3_600);
      await new EmailSendRepository(api.mongo).markSending(sent.entryId, acceptedAt);
      const exhaustConnection = createRedis(api.config.REDIS_URL, 'worker');
      const exhaust = new Worker<OutboundEmailJob>(outboundEmailQueueName, async () => { throw new UnrecoverableError('the database was down on every try'); }, { connection: exhaustConnection, prefix: `${api.config.REDIS_KEY_PREFIX}bull` });
      const queue = api.queues.queue<OutboundEmailJob>(outboundEmailQueueName) as Queue<OutboundEmailJob>;
      await eventually(async () => (await queue.getJob(sent.entryId))?.isFailed(), 'the job failed for good');
      await exhaust.close();
      exhaustConnection.disconnect();

      worker = await startTestApp({ ...settings, ROLES: 'worker' });
      await worker.reconciler.stop();
      const repair = api.repairs.find((candidate) => candidate.name === 'email-outbound')!;
      expect(await repair.run()).toBe(1);

      const entry = await eventually(async () => {
        const found = (await api.services.interactions.getInteraction(sent.interactionId)).entries?.find((candidate) => candidate.id === sent.entryId);
        return found?.data?.status === 'sent' ? found : undefined;
      }, 'the entry recorded as sent');
      expect(entry.data?.send).toMatchObject({ response: '250 taken before the outage', attempt: 1 });
      expect((await new EmailSendRepository(api.mongo).find(sent.entryId))?.state).toBe('done');
      await pause(500);
      expect(sink.messages.filter((message) => message.envelope.rcptTo.includes(address))).toHaveLength(0);
    } finally {
      await redis.quit();
      await worker?.close();
      await api.destroy();
    }
  }, 120_000);
});

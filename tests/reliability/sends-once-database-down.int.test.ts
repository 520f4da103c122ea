import { randomInt } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../../scripts/standins/smtp-sink';
import type { EmailChannel } from '../../src/channels/email';
import { outboundEmailQueueName, type OutboundEmailJob } from '../../src/channels/email/outbound-email.jobs';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { startPrivateFerretDb, type PrivateStore } from '../support/private-stores';
import { uniqueName } from '../support/test-app';

/*
 * Issue 13, found by the chaos run: the mail server accepted an email (250), then MongoDB went down
 * before the outcome was written; the job failed, was retried once the database was back, found the
 * entry not `sent`, and sent it again. Here the SMTP sink kills the test's own FerretDB at the moment
 * it has the message and before it answers 250, so the outcome write surely fails.
 */
async function eventually<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a send the provider accepted is not sent again when the database was down for its outcome', () => {
  let ferret: PrivateStore;
  let sink: SmtpSink;
  let channel: ChannelTestApp;
  /** Recipients at whose first message the sink kills the database (before answering 250). */
  const killOn = new Set<string>();

  beforeAll(async () => {
    ferret = await startPrivateFerretDb(uniqueName('sbonce'));
    sink = await startSmtpSink({
      beforeAnswer: async (message: SinkMessage) => {
        const armed = message.envelope.rcptTo.find((to) => killOn.has(to));
        if (!armed) return;
        killOn.delete(armed);
        await ferret.kill('SIGKILL');
      },
    });
    channel = await startChannelTestApp({ MONGODB_URI: ferret.url, SMTP_OUT_URL: sink.url, SUPPORT_EMAIL: 'support@switchboard.test' });
  }, 60_000);
  afterAll(async () => {
    await ferret?.start();
    await channel?.destroy();
    await sink?.close();
    await ferret?.destroy();
  }, 60_000);

  it('when the database dies as the mail server accepts an email, then the job retries record it as sent and the email reached the server once', async () => {
    const { app } = channel;
    const email = app.channels.find((candidate) => candidate.name === 'email') as EmailChannel;
    const address = `${uniqueName('once')}@example.net`;
    const customer = await app.services.customers.createCustomer({ name: 'Li Wei', phones: [`+86137${String(randomInt(0, 100_000_000)).padStart(8, '0')}`], emails: [address] });
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
      const interaction = await app.services.interactions.getInteraction(sent.interactionId);
      const found = interaction.entries?.find((candidate) => candidate.id === sent.entryId);
      return found?.data?.status === 'sent' ? found : undefined;
    }, 'the entry recorded as sent', 60_000);
    expect(entry.data?.message).toMatchObject({ messageId });
    await eventually(async () => (await queue.getJob(sent.entryId))?.isCompleted(), 'the job completed');
    // Any further retry would have run by now.
    await pause(1_000);

    const arrivals = sink.messages.filter((message) => message.header('message-id') === messageId).map((message) => message.receivedAt.toISOString());
    expect(arrivals).toHaveLength(1);
  }, 120_000);
});

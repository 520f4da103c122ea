import { randomBytes } from 'node:crypto';
import { eventually, sendEmail, startEmailTestApp, type EmailTestApp } from '../support/email';
import { normalizeMessageId } from '../../src/channels/email/threading';

// A node that stored an email and died before it answered 250 (or before it queued what the email
// must cause) leaves the MTA retrying: the retry is a duplicate, and must still finish the work.
describe('an email retried after the node that stored it died', () => {
  let env: EmailTestApp;

  beforeAll(async () => {
    env = await startEmailTestApp({ EMAIL_ACKNOWLEDGE: 'true' });
  });
  afterAll(() => env.destroy());

  const newAddress = () => `driver.${randomBytes(4).toString('hex')}@customer.example.cn`;
  const newMessageId = () => `<${randomBytes(8).toString('hex')}@mail.customer.example.cn>`;
  const toCustomer = (address: string) => env.sink.messages.filter((message) => message.envelope.rcptTo.includes(address));

  /** What the first delivery left when its node died right after the record: the email stored, nothing queued after it. */
  async function storedByADeadNode(from: string, messageId: string): Promise<string> {
    const { customer } = await env.app.services.customers.resolveCustomer({ email: from });
    const recorded = await env.app.services.interactions.recordInboundEvent({
      externalId: `email:${normalizeMessageId(messageId)}`, customerId: customer.id, channel: 'email', direction: 'inbound', subject: 'Gearbox noise',
      entry: { kind: 'message', direction: 'inbound', text: 'It whines at 60 km/h.' },
    });
    return recorded.interaction.id;
  }

  it('when the retry of a stored email arrives, then it is answered 250, stored once, and the acknowledgement the dead node never queued is sent, once', async () => {
    const from = newAddress();
    const messageId = newMessageId();
    const interactionId = await storedByADeadNode(from, messageId);
    const email = { from, to: env.supportEmail, subject: 'Gearbox noise', text: 'It whines at 60 km/h.', messageId };

    expect(await sendEmail(env.smtpPort, email)).toMatchObject({ accepted: true });
    await env.sink.waitFor((message) => message.envelope.rcptTo.includes(from), 10_000);
    // The MTA may retry once more (its 250 lost too): the acknowledgement is keyed by the message.
    expect(await sendEmail(env.smtpPort, email)).toMatchObject({ accepted: true });
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    expect(toCustomer(from)).toHaveLength(1);
    const interaction = await env.app.services.interactions.getInteraction(interactionId);
    expect(interaction.entries?.filter((entry) => entry.direction === 'inbound')).toHaveLength(1);
    await eventually(async () => (await env.app.services.interactions.getInteraction(interactionId)).entries?.some((entry) => entry.direction === 'outbound' && entry.data?.status === 'sent'), 10_000, 'the acknowledgement recorded as sent');
  }, 30_000);

  it('when the retry of an email that joined an existing conversation arrives, then no acknowledgement is sent (only a new conversation gets one)', async () => {
    const from = newAddress();
    const first = newMessageId();
    expect(await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Recall letter', text: 'Is my car affected?', messageId: first })).toMatchObject({ accepted: true });
    await env.sink.waitFor((message) => message.envelope.rcptTo.includes(from), 10_000);
    const ack = toCustomer(from)[0]!;
    const reply = newMessageId();
    const followUp = { from, to: env.supportEmail, subject: 'Re: Recall letter', text: 'VIN attached.', messageId: reply, inReplyTo: ack.header('message-id') ?? undefined, references: ack.header('message-id') ?? undefined };

    expect(await sendEmail(env.smtpPort, followUp)).toMatchObject({ accepted: true });
    expect(await sendEmail(env.smtpPort, followUp)).toMatchObject({ accepted: true });
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    expect(toCustomer(from)).toHaveLength(1);
  }, 30_000);
});

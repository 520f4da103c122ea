import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';
import { eventually, sendEmail, smtpConversation, startEmailTestApp, type EmailTestApp } from '../support/email';
import type { Entry, Interaction } from '../../src/interactions';

describe('the email channel', () => {
  let env: EmailTestApp;
  let agent: TestUser;

  beforeAll(async () => {
    env = await startEmailTestApp({ EMAIL_ACKNOWLEDGE: 'true', EMAIL_MAX_BYTES: 60_000, SMTP_FROM: 'Switchboard Support' });
    // Replies without a routed offer: a supervisor may step in on any contact (agents only on one they hold).
    agent = await createUserAndLogin(env.app, 'supervisor');
  });
  afterAll(() => env.destroy());

  // Each test writes from its own address, so customers, threads and rate limits never mix.
  const newAddress = (label: string) => `${label}.${randomBytes(4).toString('hex')}@customer.example.cn`;
  const newMessageId = () => `<${randomBytes(8).toString('hex')}@mail.customer.example.cn>`;
  const inbound = (interaction: Interaction) => (interaction.entries ?? []).filter((entry) => entry.direction === 'inbound');
  const outbound = (interaction: Interaction) => (interaction.entries ?? []).filter((entry) => entry.direction === 'outbound');

  async function onlyInteraction(address: string): Promise<Interaction> {
    const interactions = await env.emailInteractions(address);
    expect(interactions).toHaveLength(1);
    return interactions[0];
  }

  async function agentReply(interactionId: string, text: string): Promise<{ entryId: string }> {
    const response = await request(env.app, 'POST', `/api/interactions/${interactionId}/replies`, { token: agent.token, body: { text } });
    expect(response.status).toBe(202);
    return response.body as { entryId: string };
  }

  async function sentEntry(interactionId: string, entryId: string): Promise<Entry> {
    return eventually(async () => {
      const entry = (await env.app.services.interactions.getInteraction(interactionId)).entries?.find((candidate) => candidate.id === entryId);
      return entry?.data?.status === 'sent' ? entry : undefined;
    }, 10_000, 'the reply to be sent');
  }

  it('when a customer emails support, then the email lands in their customer log with the raw original kept', async () => {
    const from = newAddress('li.wei');
    const messageId = newMessageId();
    const outcome = await sendEmail(env.smtpPort, {
      from: { name: 'Li Wei', address: from },
      to: env.supportEmail,
      subject: 'Brake noise on my new car',
      text: 'The brakes squeal when cold.\n\nOn Mon, 2 Mar 2026 Li Wei wrote:\n> earlier text',
      html: '<p>The brakes squeal when cold.</p><script>alert(1)</script>',
      messageId,
    });
    expect(outcome).toMatchObject({ accepted: true });

    const interaction = await onlyInteraction(from);
    expect(interaction).toMatchObject({ channel: 'email', direction: 'inbound', subject: 'Brake noise on my new car' });
    const customer = await env.app.services.customers.getCustomer(interaction.customerId);
    expect(customer).toMatchObject({ name: 'Li Wei', emails: [from] });
    const [entry] = inbound(interaction);
    expect(entry.externalId).toBe(`email:${messageId}`);
    expect(entry.text).toBe('The brakes squeal when cold.');
    expect(entry.data?.textFull).toContain('> earlier text');
    expect(entry.data?.html).toContain('<p>The brakes squeal when cold.</p>');
    expect(entry.data?.html).not.toContain('<script');
    const raw = entry.data?.raw as { path: string; size: number; sha256: string };
    const stored = await fs.readFile(path.join(env.attachmentsDir, raw.path));
    expect(stored.length).toBe(raw.size);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(raw.sha256);
    expect(stored.toString('utf8')).toContain(`Message-ID: ${messageId}`);
  });

  it('when the same Message-ID arrives twenty times at once, then the log holds one entry', async () => {
    const from = newAddress('retry');
    const messageId = newMessageId();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Sent by a retrying server', text: 'hello', messageId })),
    );
    expect(outcomes.every((outcome) => outcome.accepted)).toBe(true);
    const interaction = await onlyInteraction(from);
    expect(interaction.entries).toHaveLength(inbound(interaction).length + outbound(interaction).length);
    expect(inbound(interaction)).toHaveLength(1);
    // One acknowledgement at most, since only the first delivery is new.
    await env.sink.waitFor((message) => message.envelope.rcptTo.includes(from));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(env.sink.messages.filter((message) => message.envelope.rcptTo.includes(from))).toHaveLength(1);
  });

  it('when an agent replies, then one email reaches the customer with threading headers and the send result is recorded', async () => {
    const from = newAddress('reply');
    const customerMessageId = newMessageId();
    await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Warranty question', text: 'Is rust covered?', messageId: customerMessageId, headers: { 'Auto-Submitted': 'no' } });
    const interaction = await onlyInteraction(from);
    const ack = await env.sink.waitFor((message) => message.envelope.rcptTo.includes(from));

    const { entryId } = await agentReply(interaction.id, 'Yes, for six years.');
    const sent = await env.sink.waitFor((message) => message.envelope.rcptTo.includes(from) && message.parsed.text?.includes('six years') === true);
    const entry = await sentEntry(interaction.id, entryId);

    const ref = /\[#(SB-[0-9A-F]{6})\]/.exec(sent.parsed.subject ?? '')?.[1];
    expect(ref).toBeDefined();
    expect(sent.parsed.subject).toBe(`Re: Warranty question [#${ref}]`);
    expect(sent.header('message-id')).toMatch(new RegExp(`^<${entryId}\\.[0-9a-f]+@switchboard\\.test>$`));
    expect(sent.header('in-reply-to')).toBe(customerMessageId);
    expect(sent.header('references')).toContain(customerMessageId);
    expect(sent.header('references')).toContain(ack.header('message-id'));
    expect(sent.parsed.replyTo?.value[0].address).toMatch(/^support\+[a-z2-7]{16}@switchboard\.test$/);
    expect(sent.parsed.from?.value[0]).toEqual({ name: 'Switchboard Support', address: sent.parsed.replyTo?.value[0].address });
    expect(sent.header('auto-submitted')).toBeUndefined();
    expect(entry.data).toMatchObject({ status: 'sent', to: from, send: { accepted: [from], rejected: [] }, message: { messageId: sent.header('message-id') } });
    expect(String((entry.data?.send as { response: string }).response)).toMatch(/^250 /);

    // A second run of the same delivery (a stalled job picked up again) finds the send recorded.
    await env.app.queues.queue('email-outbound').add('send', { interactionId: interaction.id, entryId }, { jobId: `${entryId}-again` });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(env.sink.messages.filter((message) => message.header('message-id') === sent.header('message-id'))).toHaveLength(1);
  });

  it('when a customer replies to our email from another mail client, then the reply threads by its References header', async () => {
    const from = newAddress('refs');
    await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Engine light', text: 'It is on.', messageId: newMessageId() });
    const interaction = await onlyInteraction(from);
    const { entryId } = await agentReply(interaction.id, 'Please come by on Monday.');
    const ourMail = await env.sink.waitFor((message) => message.envelope.rcptTo.includes(from) && message.parsed.text?.includes('Monday') === true);
    await sentEntry(interaction.id, entryId);

    // Plain address and a new subject: only References can tie it to the thread.
    await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Monday works', text: 'See you then.', messageId: newMessageId(), references: [newMessageId(), ourMail.header('message-id')!] });

    const after = await onlyInteraction(from);
    expect(after.id).toBe(interaction.id);
    expect(inbound(after).map((entry) => entry.text)).toEqual(['It is on.', 'See you then.']);
    expect(inbound(after)[1].data?.threadedBy).toBe('references');
  });

  it('when a customer writes to the reply address of a thread, then the email threads by its reply token', async () => {
    const from = newAddress('token');
    await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Seat heater', text: 'Broken.', messageId: newMessageId() });
    const interaction = await onlyInteraction(from);
    const ack = await env.sink.waitFor((message) => message.envelope.rcptTo.includes(from));
    const replyAddress = ack.parsed.replyTo!.value[0].address!;

    await sendEmail(env.smtpPort, { from, to: replyAddress, subject: 'One more thing', text: 'Also the left one.', messageId: newMessageId() });

    const after = await onlyInteraction(from);
    expect(after.id).toBe(interaction.id);
    expect(inbound(after)[1]).toMatchObject({ text: 'Also the left one.', data: { threadedBy: 'reply_token' } });
  });

  it('when a subject carries a case tag, then the email joins that case, but only for the same customer', async () => {
    const from = newAddress('tag');
    await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Paint scratch', text: 'On the door.', messageId: newMessageId() });
    const interaction = await onlyInteraction(from);
    const ack = await env.sink.waitFor((message) => message.envelope.rcptTo.includes(from));
    const ref = /\[#(SB-[0-9A-F]{6})\]/.exec(ack.parsed.subject ?? '')![1];

    await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: `Photos for [#${ref}]`, text: 'Attached.', messageId: newMessageId() });
    const stranger = newAddress('stranger');
    await sendEmail(env.smtpPort, { from: stranger, to: env.supportEmail, subject: `Guessing [#${ref}]`, text: 'Let me in.', messageId: newMessageId() });

    const after = await onlyInteraction(from);
    expect(after.id).toBe(interaction.id);
    expect(inbound(after)[1]).toMatchObject({ text: 'Attached.', data: { threadedBy: 'subject_ref' } });
    const strangers = await onlyInteraction(stranger);
    expect(strangers.id).not.toBe(interaction.id);
  });

  it('when an autoresponder writes, then it gets no acknowledgement while a person does', async () => {
    const robot = newAddress('robot');
    const person = newAddress('person');
    await sendEmail(env.smtpPort, { from: robot, to: env.supportEmail, subject: 'Out of office', text: 'I am away.', messageId: newMessageId(), headers: { 'Auto-Submitted': 'auto-replied' } });
    await sendEmail(env.smtpPort, { from: person, to: env.supportEmail, subject: 'Oil change', text: 'When is it due?', messageId: newMessageId() });

    const ack = await env.sink.waitFor((message) => message.envelope.rcptTo.includes(person));
    expect(ack.header('auto-submitted')).toBe('auto-replied');
    expect(ack.parsed.text).toMatch(/We received your message, ref #SB-[0-9A-F]{6}/);
    expect(ack.envelope.mailFrom).toBe(env.supportEmail);
    // The robot's mail was recorded before the person's; its acknowledgement would have come first.
    expect(await onlyInteraction(robot)).toBeDefined();
    expect(env.sink.messages.some((message) => message.envelope.rcptTo.includes(robot))).toBe(false);
  });

  it('when one sender opens many cases within the hour, then only three are acknowledged', async () => {
    const from = newAddress('chatty');
    for (let index = 0; index < 5; index += 1) {
      await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: `Question ${index}`, text: 'Hi', messageId: newMessageId() });
    }
    expect(await env.emailInteractions(from)).toHaveLength(5);
    await eventually(async () => env.sink.messages.filter((message) => message.envelope.rcptTo.includes(from)).length >= 3, 5_000, 'three acknowledgements');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(env.sink.messages.filter((message) => message.envelope.rcptTo.includes(from))).toHaveLength(3);
  });

  it('when an email is larger than EMAIL_MAX_BYTES, then it is refused with 552 and nothing is recorded', async () => {
    const from = newAddress('big');
    const outcome = await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Big', text: 'x'.repeat(70_000), messageId: newMessageId() });
    expect(outcome).toMatchObject({ accepted: false, responseCode: 552 });

    // Without a SIZE declaration the listener only learns the size by counting what it reads.
    const undeclared = await smtpConversation(env.smtpPort, ['EHLO client.example', `MAIL FROM:<${from}>`, `RCPT TO:<${env.supportEmail}>`, 'DATA'], Buffer.from(`From: ${from}\r\nSubject: big\r\n\r\n${'y'.repeat(70_000)}`));
    expect(undeclared.some((line) => /^250[ -]SIZE 60000$/.test(line))).toBe(true);
    expect(undeclared[undeclared.length - 1]).toMatch(/^552 /);
    expect(await env.emailInteractions(from)).toHaveLength(0);
  });

  it('when the outbound server defers an email, then it is retried once more with the same Message-ID', async () => {
    const from = newAddress('deferred');
    await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Deferred', text: 'hi', messageId: newMessageId(), headers: { 'List-Id': '<x.example.cn>' } });
    const interaction = await onlyInteraction(from);
    env.sink.rejectNext(1, 451);
    const { entryId } = await agentReply(interaction.id, 'Second time lucky.');
    const deferred = await eventually(async () => {
      const found = (await env.app.services.interactions.getInteraction(interaction.id)).entries?.find((candidate) => candidate.id === entryId);
      return found?.data?.status === 'retrying' ? found : undefined;
    }, 5_000, 'the deferral to be recorded');
    expect(deferred.data?.error).toMatchObject({ responseCode: 451, attempt: 1 });
    const firstMessageId = (deferred.data?.message as { messageId: string }).messageId;

    const delivered = await env.sink.waitFor((message) => message.envelope.rcptTo.includes(from), 15_000);
    expect(delivered.header('message-id')).toBe(firstMessageId);
    expect((await sentEntry(interaction.id, entryId)).data).toMatchObject({ status: 'sent', send: { attempt: 2 } });
    expect(env.sink.messages.filter((message) => message.envelope.rcptTo.includes(from))).toHaveLength(1);
  }, 25_000);

  it('when the outbound server refuses an email for good, then the entry shows the failure and it is not retried', async () => {
    const from = newAddress('refused');
    await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Refused', text: 'hi', messageId: newMessageId(), headers: { Precedence: 'bulk' } });
    const interaction = await onlyInteraction(from);
    env.sink.rejectNext(1, 550);
    const { entryId } = await agentReply(interaction.id, 'This will bounce.');
    const entry = await eventually(async () => {
      const found = (await env.app.services.interactions.getInteraction(interaction.id)).entries?.find((candidate) => candidate.id === entryId);
      return found?.data?.status === 'failed' ? found : undefined;
    }, 5_000, 'the failure to be recorded');
    expect(entry.data?.error).toMatchObject({ message: 'SMTP send failed (550)', responseCode: 550 });
    expect(entry.flags).toContain('send_failed');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(env.sink.messages.some((message) => message.envelope.rcptTo.includes(from))).toBe(false);
  });
});

import { randomBytes, randomInt } from 'node:crypto';
import mongoose from 'mongoose';
import { connectSocket, type TestSocket } from '../support/socket';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { eventually, sendEmail, startEmailTestApp, type EmailTestApp } from '../support/email';
import { createUserAndLogin, request, type TestApp, type TestUser } from '../support/test-app';
import { testQueues } from '../integration/routing-support';

/**
 * An interaction must never grow toward MongoDB's 16 MB document limit (past it every write for
 * that customer fails). Small caps here, so a few hundred messages roll over several times.
 */
const maxEntries = 50;
const maxBytes = 256 * 1024;
// The thread comes from one address (this test), like mail relayed by our MX: the per-IP message limit is raised as for a relay.
const caps = { INTERACTION_MAX_ENTRIES: maxEntries, INTERACTION_MAX_BYTES: maxBytes, SMTP_MAX_MESSAGES_PER_IP: 100_000 };

interface RawPart {
  _id: string;
  entries: { _id: string; text?: string }[];
  continuesFrom?: string;
  continuedIn?: string;
}

/** Every stored document of the customer's interactions, read raw: what the database holds. */
async function rawParts(app: TestApp, customerId: string): Promise<RawPart[]> {
  return app.mongo.collection('interactions').find({ customerId }).toArray() as unknown as Promise<RawPart[]>;
}

function expectUnderCaps(parts: RawPart[]): void {
  const largest = Math.max(...parts.map((part) => part.entries.length));
  expect(largest).toBeLessThanOrEqual(maxEntries);
  for (const part of parts) {
    // The byte cap counts entries as written; later entry updates (delivery status) add a little.
    expect(mongoose.mongo.BSON.calculateObjectSize(part)).toBeLessThan(maxBytes + 64 * 1024);
  }
}

/** Each part continues at most once and is continued by at most one part: a single chain. */
function expectOneChain(parts: RawPart[]): void {
  const continuations = parts.filter((part) => part.continuesFrom).map((part) => part.continuesFrom);
  expect(new Set(continuations).size).toBe(continuations.length);
  expect(parts.filter((part) => !part.continuesFrom)).toHaveLength(1);
  expect(parts.filter((part) => !part.continuedIn)).toHaveLength(1);
  for (const part of parts) {
    if (part.continuedIn) expect(parts.find((candidate) => candidate._id === part.continuedIn)?.continuesFrom).toBe(part._id);
  }
}

describe('a 300-message email thread', () => {
  let env: EmailTestApp;
  let agent: TestUser;
  let supervisor: TestUser;

  beforeAll(async () => {
    env = await startEmailTestApp(caps);
    agent = await createUserAndLogin(env.app, 'agent');
    supervisor = await createUserAndLogin(env.app, 'supervisor');
  });
  afterAll(() => env.destroy());

  it('when the customer writes 300 emails in one thread, then every one is stored in one conversation whose documents stay under the caps, and the timeline shows it whole', async () => {
    const from = `long.thread.${randomBytes(4).toString('hex')}@customer.example.cn`;
    const firstId = `<first.${randomBytes(6).toString('hex')}@mail.customer.example.cn>`;
    // ~1.5 KB each: the byte cap and the entry cap both come into play.
    const body = (index: number) => `Message ${index}\n${'The gearbox whines at 80 km/h. '.repeat(48)}`;
    const outcomes = [];
    outcomes.push(await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Gearbox', text: body(0), messageId: firstId }));
    // Four mail servers at a time, as a busy thread would arrive (and to keep the test short).
    for (let index = 1; index < 300; index += 4) {
      const batch = Array.from({ length: Math.min(4, 300 - index) }, (_, offset) =>
        sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Re: Gearbox', text: body(index + offset), inReplyTo: firstId, references: [firstId] }));
      outcomes.push(...(await Promise.all(batch)));
    }
    expect(outcomes.filter((outcome) => !outcome.accepted)).toEqual([]);

    const customer = (await env.app.services.customers.findByIdentity({ email: from }))!;
    const parts = await rawParts(env.app, customer.id);
    expectUnderCaps(parts);
    expectOneChain(parts);
    expect(parts.flatMap((part) => part.entries)).toHaveLength(300);

    // The agent sees one conversation: one timeline item, every message in order.
    const timeline = await request(env.app, 'GET', `/api/customers/${customer.id}/timeline?include=entries`, { token: agent.token });
    expect(timeline.status).toBe(200);
    expect(timeline.body.items).toHaveLength(1);
    const [conversation] = timeline.body.items as { id: string; entryCount: number; entries: { text: string }[] }[];
    expect(conversation.entryCount).toBe(300);
    const firstLines = conversation.entries.map((entry) => entry.text.split('\n')[0]);
    expect(firstLines[0]).toBe('Message 0');
    expect([...firstLines].sort()).toEqual(Array.from({ length: 300 }, (_, index) => `Message ${index}`).sort());
    const summary = await request(env.app, 'GET', `/api/customers/${customer.id}/timeline`, { token: agent.token });
    expect(summary.body.items).toMatchObject([{ id: conversation.id, entryCount: 300, preview: expect.stringMatching(/^Message \d+/) }]);
    const single = await request(env.app, 'GET', `/api/interactions/${conversation.id}`, { token: agent.token });
    expect(single.status).toBe(200);
    expect(single.body.entries).toHaveLength(300);

    // A reply after the rollover (by a supervisor: nobody holds this contact) goes out in the same thread.
    const reply = await request(env.app, 'POST', `/api/interactions/${conversation.id}/replies`, { token: supervisor.token, body: { text: 'Please bring the car in on Monday.' } });
    expect(reply.status).toBe(202);
    const sent = await env.sink.waitFor((message) => message.envelope.rcptTo.includes(from));
    expect(sent.header('in-reply-to')).toBeTruthy();
    // The customer answers our reply: it joins the same conversation (its newest part).
    await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: `Re: ${sent.header('subject')}`, text: 'Monday works.', inReplyTo: sent.header('message-id')! });
    const after = await eventually(async () => {
      const found = await env.app.services.interactions.getInteraction(conversation.id);
      return found.entries?.some((entry) => entry.text === 'Monday works.') ? found : undefined;
    }, 5_000, 'the answer to our reply in the conversation');
    expect(after.entries).toHaveLength(302);
    expect(await env.app.services.interactions.getTimeline(customer.id, { limit: 10 })).toMatchObject({ items: [{ id: conversation.id }] });
    expectUnderCaps(await rawParts(env.app, customer.id));

    // Closed, then the customer writes again: the conversation is queued and offered, and the screen
    // pop shows the conversation (its first message, one timeline item), not only its newest part.
    await env.app.services.interactions.updateInteraction(conversation.id, { status: 'closed', endedAt: new Date() });
    const desk = await connectSocket(env.app.url, { token: agent.token });
    try {
      expect((await desk.act('state:set', { state: 'available' })).ok).toBe(true);
      await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Re: Gearbox', text: 'It is back.', inReplyTo: firstId });
      const offer = await desk.waitFor('offer', (payload) => payload.data.reservation.interactionId === conversation.id, 10_000);
      expect(offer.data.pop.interaction).toMatchObject({ id: conversation.id, firstMessage: { text: expect.stringMatching(/^Message 0\n/) } });
      expect(offer.data.pop.timeline.map((item: { id: string }) => item.id)).toEqual([conversation.id]);
    } finally {
      desk.close();
    }
  }, 300_000);
});

describe('a 300-text SMS conversation held by an agent', () => {
  let env: ChannelTestApp;
  let agent: TestUser;
  const sockets: TestSocket[] = [];
  const ourNumber = '+862150000000';
  const messageSid = () => `SM${randomBytes(16).toString('hex')}`;

  beforeAll(async () => {
    env = await startChannelTestApp(caps, { routing: { queuesConfig: testQueues(), presenceGraceMs: 300 } });
    agent = await createUserAndLogin(env.app, 'agent');
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await env.destroy();
  });

  it('when the customer sends 300 texts to a conversation an agent holds, then all are stored under the caps, the agent keeps holding it and replies and delivery reports still work', async () => {
    const desk = await connectSocket(env.app.url, { token: agent.token });
    sockets.push(desk);
    expect((await desk.act('state:set', { state: 'available' })).ok).toBe(true);
    const from = `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
    const text = (body: string) => env.webhook('/webhooks/twilio/sms', { MessageSid: messageSid(), AccountSid: env.twilio.accountSid, From: from, To: ourNumber, Body: body, NumMedia: '0' });

    expect((await text('text 0')).status).toBe(200);
    const offer = await desk.waitFor('offer', (payload) => payload.data.pop?.interaction?.firstMessage?.text === 'text 0');
    expect((await desk.act('offer:accept', { reservationId: offer.data.reservation.id })).ok).toBe(true);
    const interactionId = offer.data.reservation.interactionId as string;

    const statuses: number[] = [];
    for (let index = 1; index < 300; index += 1) statuses.push((await text(`text ${index}`)).status);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);

    const customer = (await env.app.services.customers.findByIdentity({ phone: from }))!;
    const parts = await rawParts(env.app, customer.id);
    expectUnderCaps(parts);
    expectOneChain(parts);
    expect(parts.flatMap((part) => part.entries).filter((entry) => entry.text?.startsWith('text '))).toHaveLength(300);

    const conversation = await env.app.services.interactions.getInteraction(interactionId);
    expect(conversation.id).toBe(interactionId);
    expect(conversation).toMatchObject({ status: 'active', agentId: agent.id, entryCount: expect.any(Number) });
    expect(conversation.entries!.filter((entry) => entry.direction === 'inbound').map((entry) => entry.text)).toEqual(Array.from({ length: 300 }, (_, index) => `text ${index}`));
    expect((await env.app.services.interactions.getTimeline(customer.id, { limit: 10 })).items).toHaveLength(1);

    // The last texts reached the holding agent's desk as updates of the same conversation.
    const update = await desk.waitFor('interaction_updated', (payload) => payload.data.entry.some((entry: { text?: string }) => entry.text === 'text 299'));
    expect(update.data.interactionId).toBe(interactionId);

    // The holding agent replies (socket and REST); the texts go out and their delivery reports land on the entries.
    expect(await desk.act('work:reply', { interactionId, text: 'Socket reply after rollover' })).toMatchObject({ ok: true });
    const rest = await request(env.app, 'POST', `/api/interactions/${interactionId}/replies`, { token: agent.token, body: { text: 'REST reply after rollover' } });
    expect(rest.status).toBe(202);
    for (const body of ['Socket reply after rollover', 'REST reply after rollover']) {
      await eventually(async () => env.twilio.messages.find((message) => message.to === from && message.body === body), 5_000, `the reply "${body}" sent`);
    }
    await eventually(async () => {
      const found = await env.app.services.interactions.getInteraction(interactionId);
      const replies = found.entries!.filter((entry) => entry.direction === 'outbound');
      return replies.length === 2 && replies.every((entry) => entry.data?.deliveryStatus === 'delivered');
    }, 10_000, 'delivery reports on both replies');

    // Another text joins the same conversation, still held by the agent.
    expect((await text('one more')).status).toBe(200);
    const last = await env.app.services.interactions.getInteraction(interactionId);
    expect(last.entries!.at(-1)?.text).toBe('one more');
    expect(last).toMatchObject({ status: 'active', agentId: agent.id });
    expectUnderCaps(await rawParts(env.app, customer.id));
  }, 120_000);
});

describe('concurrent appends at the cap', () => {
  let env: ChannelTestApp;

  beforeAll(async () => {
    env = await startChannelTestApp(caps);
  });
  afterAll(() => env.destroy());

  it('when many events are appended at once to a full conversation, then exactly one continuation is made per full part and none is lost', async () => {
    const { interactions, customers } = env.app.services;
    const { customer } = await customers.resolveCustomer({ phone: `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}` });
    const first = await interactions.recordInboundEvent({ externalId: `test:${randomBytes(6).toString('hex')}`, customerId: customer.id, channel: 'sms', direction: 'inbound', entry: { kind: 'message', text: 'entry 0' } });
    const id = first.interaction.id;
    for (let index = 1; index < maxEntries; index += 1) await interactions.addNote(id, { text: `entry ${index}`, authorId: 'a'.repeat(24) });

    // Three bursts at the cap: 40, then 40 more, then 40 more, all at once.
    let next = maxEntries;
    for (let burst = 0; burst < 3; burst += 1) {
      const results = await Promise.allSettled(Array.from({ length: 40 }, () => {
        const text = `entry ${next++}`;
        return interactions.recordInboundEvent({ externalId: `test:${randomBytes(6).toString('hex')}`, customerId: customer.id, channel: 'sms', direction: 'inbound', appendTo: id, entry: { kind: 'message', text } });
      }));
      expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
      for (const result of results) if (result.status === 'fulfilled') expect(result.value.interaction.id).toBe(id);
    }

    const parts = await rawParts(env.app, customer.id);
    expectUnderCaps(parts);
    expectOneChain(parts);
    expect(parts).toHaveLength(Math.ceil(next / maxEntries));
    const conversation = await interactions.getInteraction(id);
    expect(conversation.entryCount).toBe(next);
    const state = await interactions.getInteractionState(id);
    expect(state).toMatchObject({ id, entryCount: next, status: 'open' });
    expect(state).not.toHaveProperty('entries');
    expect(conversation.entries!.map((entry) => entry.text).sort()).toEqual(Array.from({ length: next }, (_, index) => `entry ${index}`).sort());
    expect((await interactions.getTimeline(customer.id, { limit: 10 })).items).toMatchObject([{ id, entryCount: next }]);

    // Merged into another customer: every part moves, and the survivor's timeline shows the one conversation.
    const { customer: survivor } = await customers.resolveCustomer({ phone: `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}` });
    await customers.mergeCustomers(survivor.id, customer.id);
    expect(await rawParts(env.app, customer.id)).toEqual([]);
    expect(await rawParts(env.app, survivor.id)).toHaveLength(parts.length);
    expect((await interactions.getTimeline(survivor.id, { limit: 10 })).items).toMatchObject([{ id, customerId: survivor.id, entryCount: next }]);
  }, 60_000);

  it('when a writer died after claiming a rollover, then the next write creates the continuation; and a retried event whose entry is in an earlier part is not stored twice', async () => {
    const { interactions, customers } = env.app.services;
    const { customer } = await customers.resolveCustomer({ phone: `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}` });
    const firstKey = `test:${randomBytes(6).toString('hex')}`;
    const first = await interactions.recordInboundEvent({ externalId: firstKey, customerId: customer.id, channel: 'sms', direction: 'inbound', entry: { kind: 'message', text: 'entry 0' } });
    const id = first.interaction.id;
    for (let index = 1; index < maxEntries; index += 1) await interactions.addNote(id, { text: `entry ${index}`, authorId: 'a'.repeat(24) });
    // The claim landed, the continuation was never written.
    const orphan = new mongoose.Types.ObjectId().toHexString();
    await env.app.mongo.collection('interactions').updateOne({ _id: id as never }, { $set: { continuedIn: orphan } });

    await interactions.addNote(id, { text: `entry ${maxEntries}`, authorId: 'a'.repeat(24) });
    const parts = await rawParts(env.app, customer.id);
    expectOneChain(parts);
    expect(parts.find((part) => part._id === orphan)?.entries.map((entry) => entry.text)).toEqual([`entry ${maxEntries}`]);

    // The first event's claim as a crash would leave it (not marked recorded), delivered again.
    await env.app.mongo.collection('inbound_keys').updateOne({ _id: firstKey as never }, { $unset: { recordedAt: '' } });
    const retried = await interactions.recordInboundEvent({ externalId: firstKey, customerId: customer.id, channel: 'sms', direction: 'inbound', appendTo: id, entry: { kind: 'message', text: 'entry 0' } });
    expect(retried.interaction.id).toBe(id);
    const conversation = await interactions.getInteraction(id);
    expect(conversation.entries!.filter((entry) => entry.text === 'entry 0')).toHaveLength(1);
    expect(conversation.entries).toHaveLength(maxEntries + 1);
  }, 30_000);
});

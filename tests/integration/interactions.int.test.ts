import { createUserAndLogin, request, startTestApp, type TestApp, type TestUser } from '../support/test-app';
import { InteractionRepository } from '../../src/interactions';

describe('the unified interaction log', () => {
  let app: TestApp;
  let agent: TestUser;
  let department: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    agent = await createUserAndLogin(app, 'agent');
    const parts = await app.services.departments.create({ code: 'parts', name: 'Parts', timezone: 'Asia/Shanghai' });
    department = await createUserAndLogin(app, 'department', { departmentId: parts.id });
  });
  afterAll(() => app.destroy());

  const newCustomer = async (phone: string) => (await app.services.customers.resolveCustomer({ phone })).customer;

  it('when the same external id is recorded twice, then the log holds one entry', async () => {
    const customer = await newCustomer('+8613811110001');
    const event = { externalId: 'twilio-sms:SM0001', customerId: customer.id, channel: 'sms' as const, direction: 'inbound' as const, entry: { kind: 'message' as const, text: 'My car will not start' } };
    const first = await app.services.interactions.recordInboundEvent(event);
    const second = await app.services.interactions.recordInboundEvent(event);
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.interaction.id).toBe(first.interaction.id);
    const stored = await app.services.interactions.getInteraction(first.interaction.id);
    expect(stored.entries).toHaveLength(1);
    expect(stored.externalIds).toEqual(['twilio-sms:SM0001']);
    expect((await app.services.interactions.getTimeline(customer.id, { limit: 10 })).items).toHaveLength(1);
  });

  it('when ten deliveries of one event arrive at once, then exactly one is recorded', async () => {
    const customer = await newCustomer('+8613811110002');
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        app.services.interactions.recordInboundEvent({ externalId: 'twilio-call:CA0002', customerId: customer.id, channel: 'voice', direction: 'inbound', entry: { kind: 'call_event', data: { status: 'ringing' } } }),
      ),
    );
    expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
    expect(new Set(results.map((result) => result.interaction.id)).size).toBe(1);
    const interaction = await app.services.interactions.getInteraction(results[0].interaction.id);
    expect(interaction.entries).toHaveLength(1);
  });

  it('when a process died after claiming an event, then the retry completes it with the same ids', async () => {
    const customer = await newCustomer('+8613811110003');
    const repository = new InteractionRepository(app.mongo);
    // The claim exists but nothing else was written: the crash happened right after it.
    await repository.claimKey({ _id: 'email:<crash@example.cn>', interactionId: 'b'.repeat(24), entryId: 'c'.repeat(24), at: new Date('2026-02-01T10:00:00Z') });
    const retried = await app.services.interactions.recordInboundEvent({
      externalId: 'email:<crash@example.cn>', customerId: customer.id, channel: 'email', direction: 'inbound', subject: 'Warranty', entry: { kind: 'message', text: 'hello' },
    });
    expect(retried.duplicate).toBe(false);
    expect(retried.interaction.id).toBe('b'.repeat(24));
    expect(retried.interaction.entries?.map((entry) => entry.id)).toEqual(['c'.repeat(24)]);
    expect(retried.interaction.createdAt).toBe('2026-02-01T10:00:00.000Z');
  });

  it('when texts join an open conversation, then they are entries of one interaction in time order', async () => {
    const customer = await newCustomer('+8613811110004');
    const first = await app.services.interactions.recordInboundEvent({ externalId: 'twilio-sms:SM0041', customerId: customer.id, channel: 'sms', direction: 'inbound', entry: { kind: 'message', text: 'one', at: new Date('2026-03-01T10:00:00Z') } });
    await app.services.interactions.recordInboundEvent({ externalId: 'twilio-sms:SM0042', customerId: customer.id, channel: 'sms', direction: 'inbound', appendTo: first.interaction.id, entry: { kind: 'message', text: 'two', at: new Date('2026-03-01T10:01:00Z') } });
    const interaction = await app.services.interactions.getInteraction(first.interaction.id);
    expect(interaction.entries?.map((entry) => entry.text)).toEqual(['one', 'two']);
    expect(interaction.externalIds.sort()).toEqual(['twilio-sms:SM0041', 'twilio-sms:SM0042']);
  });

  it('when a customer has contacts on every channel, then the timeline pages newest first without repeats', async () => {
    const customer = await newCustomer('+8613811110005');
    const channels = ['voice', 'sms', 'email', 'web', 'fax', 'manual'] as const;
    for (const [index, channel] of [...channels, ...channels].entries()) {
      await app.services.interactions.recordInboundEvent({
        externalId: `test:timeline-${index}`, customerId: customer.id, channel, direction: 'inbound',
        entry: { kind: 'message', text: `contact ${index}`, at: new Date(Date.UTC(2026, 0, 1 + index)) },
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=5&cursor=${cursor}` : '?limit=5';
      const page = await request(app, 'GET', `/api/customers/${customer.id}/timeline${query}`, { token: agent.token });
      expect(page.status).toBe(200);
      // Timeline items are summaries: the preview is the start of the last message.
      seen.push(...page.body.items.map((interaction: { preview: string; entries?: unknown }) => (interaction.entries ? 'unexpected entries' : interaction.preview)));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, index) => `contact ${11 - index}`));
    const emailsOnly = await request(app, 'GET', `/api/customers/${customer.id}/timeline?channel=email&include=entries`, { token: department.token });
    expect(emailsOnly.body.items.map((interaction: { channel: string }) => interaction.channel)).toEqual(['email', 'email']);
    expect(emailsOnly.body.items.map((interaction: { entries: { text: string }[] }) => interaction.entries[0].text)).toEqual(['contact 8', 'contact 2']);
  });

  it('when an interaction changes, then its timeline summary follows without reading the interaction', async () => {
    const customer = await newCustomer('+8613811110010');
    const recorded = await app.services.interactions.recordInboundEvent({ externalId: 'test:summary-1', customerId: customer.id, channel: 'sms', direction: 'inbound', entry: { kind: 'message', text: 'first' } });
    await app.services.interactions.appendEntry(recorded.interaction.id, { kind: 'message', direction: 'outbound', text: 'second message' });
    await app.services.interactions.updateInteraction(recorded.interaction.id, { status: 'closed', endedAt: new Date('2026-05-01T00:00:00Z') }, ['resolved']);
    const [summary] = (await app.services.interactions.getTimeline(customer.id, { limit: 5 })).items;
    expect(summary).toMatchObject({ id: recorded.interaction.id, status: 'closed', entryCount: 2, preview: 'second message', flags: ['resolved'], endedAt: '2026-05-01T00:00:00.000Z' });
    expect(summary.entries).toBeUndefined();
    // What the summary says is what the full interaction says.
    const full = await app.services.interactions.getInteraction(recorded.interaction.id);
    expect(summary).toMatchObject({ status: full.status, entryCount: full.entryCount, lastActivityAt: full.lastActivityAt, customerId: full.customerId });
  });

  it('when an agent records a walk-in and adds a note, then both are in the log with the agent as author', async () => {
    const customer = await newCustomer('+8613811110006');
    const created = await request(app, 'POST', '/api/interactions', {
      token: agent.token,
      body: { customerId: customer.id, channel: 'manual', direction: 'inbound', subject: 'Walk-in at the Wuhu dealer', text: 'Customer brought the invoice' },
    });
    expect(created.status).toBe(201);
    const note = await request(app, 'POST', `/api/interactions/${created.body.id}/notes`, { token: agent.token, body: { text: 'Call back Friday' } });
    expect(note.status).toBe(201);
    const fetched = await request(app, 'GET', `/api/interactions/${created.body.id}`, { token: agent.token });
    expect(fetched.body.entries.map((entry: { kind: string; authorId: string }) => [entry.kind, entry.authorId])).toEqual([
      ['message', agent.id],
      ['note', agent.id],
    ]);
    const listed = await request(app, 'GET', `/api/interactions?customerId=${customer.id}`, { token: agent.token });
    expect(listed.body.items.map((interaction: { id: string }) => interaction.id)).toEqual([created.body.id]);
    const open = await request(app, 'GET', '/api/interactions?status=open&channel=manual', { token: agent.token });
    expect(open.body.items.map((interaction: { id: string }) => interaction.id)).toContain(created.body.id);
    expect(open.body.items.every((interaction: { channel: string; entries?: unknown }) => interaction.channel === 'manual' && !interaction.entries)).toBe(true);
  });

  it('when an integrator posts the same externalId twice, then one interaction is created', async () => {
    const customer = await newCustomer('+8613811110007');
    const body = { customerId: customer.id, channel: 'web', direction: 'inbound', subject: 'ERP case 881', text: 'Imported', externalId: 'erp-881' };
    const first = await request(app, 'POST', '/api/interactions', { token: agent.token, body });
    const second = await request(app, 'POST', '/api/interactions', { token: agent.token, body });
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.entries).toHaveLength(1);
  });

  it('when ids or bodies are bad, then 400 or 404 say which', async () => {
    const badId = await request(app, 'GET', '/api/interactions/xyz', { token: agent.token });
    expect(badId.status).toBe(400);
    expect(badId.body.error.details[0].field).toBe('params.id');
    const missing = await request(app, 'GET', `/api/interactions/${'f'.repeat(24)}`, { token: agent.token });
    expect(missing.status).toBe(404);
    const badNote = await request(app, 'POST', `/api/interactions/${'f'.repeat(24)}/notes`, { token: agent.token, body: { text: '' } });
    expect(badNote.status).toBe(400);
    expect(badNote.body.error.details[0].field).toBe('body.text');
    const badChannel = await request(app, 'POST', '/api/interactions', { token: agent.token, body: { customerId: 'f'.repeat(24), channel: 'pigeon', direction: 'inbound' } });
    expect(badChannel.body.error.details.map((problem: { field: string }) => problem.field)).toEqual(['body.channel']);
    const unknownCustomer = await request(app, 'GET', `/api/customers/${'e'.repeat(24)}/timeline`, { token: agent.token });
    expect(unknownCustomer.status).toBe(404);
  });

  it('when a channel updates an outbound entry and links its external id, then both are found again', async () => {
    const customer = await newCustomer('+8613811110008');
    const conversation = await app.services.interactions.createInteraction({ customerId: customer.id, channel: 'sms', direction: 'outbound' });
    await app.services.interactions.appendEntry(conversation.id, { kind: 'message', direction: 'inbound', text: 'first' });
    const reply = await app.services.interactions.appendEntry(conversation.id, { kind: 'message', direction: 'outbound', text: 'reply', data: { deliveryStatus: 'queued' } });
    await app.services.interactions.linkExternalId('twilio-sms:SMout1', { interactionId: conversation.id, entryId: reply.id });
    expect(await app.services.interactions.findByExternalId('twilio-sms:SMout1')).toEqual({ interactionId: conversation.id, entryId: reply.id });
    await Promise.all([
      app.services.interactions.updateEntry(conversation.id, reply.id, { data: { deliveryStatus: 'undelivered', errorCode: 30003 } }),
      app.services.interactions.updateEntry(conversation.id, reply.id, { flags: ['undelivered'] }),
    ]);
    const stored = await app.services.interactions.getInteraction(conversation.id);
    expect(stored.entries?.[1]).toMatchObject({ id: reply.id, text: 'reply', data: { deliveryStatus: 'undelivered', errorCode: 30003 }, flags: ['undelivered'] });
    expect(stored.entries?.[0].data).toBeUndefined();
  });

  it('when looking for an open conversation, then only a recent, open one on that channel is returned', async () => {
    const customer = await newCustomer('+8613811110009');
    const sms = await app.services.interactions.createInteraction({ customerId: customer.id, channel: 'sms', direction: 'inbound' });
    await app.services.interactions.createInteraction({ customerId: customer.id, channel: 'email', direction: 'inbound' });
    const hourAgo = new Date(Date.now() - 3_600_000);
    expect((await app.services.interactions.findOpenConversation(customer.id, 'sms', hourAgo))?.id).toBe(sms.id);
    expect(await app.services.interactions.findOpenConversation(customer.id, 'sms', new Date(Date.now() + 1000))).toBeNull();
    await app.services.interactions.updateInteraction(sms.id, { status: 'closed', endedAt: new Date() });
    expect(await app.services.interactions.findOpenConversation(customer.id, 'sms', hourAgo)).toBeNull();
  });

  it('when a department user lists interactions, then 403', async () => {
    expect((await request(app, 'GET', '/api/interactions?status=open', { token: department.token })).status).toBe(403);
  });
});

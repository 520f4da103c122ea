import { createUserAndLogin, request, startTestApp, type TestApp, type TestUser } from '../support/test-app';

describe('customers and identity resolution', () => {
  let app: TestApp;
  let agent: TestUser;
  let supervisor: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    agent = await createUserAndLogin(app, 'agent');
    supervisor = await createUserAndLogin(app, 'supervisor');
  });
  afterAll(() => app.destroy());

  it('when 50 resolves of one new number run in parallel, then exactly one customer exists and all get it', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        // Different spellings of the same number, as different webhooks would send them.
        app.services.customers.resolveCustomer({ phone: index % 2 ? '+86 139 0000 0001' : '13900000001' }),
      ),
    );
    const ids = new Set(results.map((result) => result.customer.id));
    expect(ids.size).toBe(1);
    expect(results.filter((result) => result.created)).toHaveLength(1);
    const found = await request(app, 'GET', `/api/customers?phone=${encodeURIComponent('+8613900000001')}`, { token: agent.token });
    expect(found.body.items).toHaveLength(1);
    expect(found.body.items[0].phones).toEqual([{ value: '+8613900000001', kind: 'e164' }]);
  });

  it('when 20 resolves of one new email run in parallel with different capitalisation, then one customer', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) => app.services.customers.resolveCustomer({ email: index % 2 ? 'Wang.Fang@Example.com' : 'wang.fang@example.com ' })),
    );
    expect(new Set(results.map((result) => result.customer.id)).size).toBe(1);
    expect(results[0].customer.emails).toEqual(['wang.fang@example.com']);
  });

  it('when a short code texts in, then it is kept verbatim and flagged as a short code', async () => {
    const { customer } = await app.services.customers.resolveCustomer({ phone: '10086' });
    expect(customer.phones).toEqual([{ value: '10086', kind: 'short_code' }]);
  });

  it('when a customer is created with a phone already owned by another, then 409 names that field', async () => {
    await app.services.customers.resolveCustomer({ phone: '+8613700000077' });
    const response = await request(app, 'POST', '/api/customers', {
      token: agent.token,
      body: { name: 'Dup', phones: ['+8613700000078', '13700000077'], emails: [] },
    });
    expect(response.status).toBe(409);
    expect(response.body.error.details[0].field).toBe('phones.1');
    // The claim on the first, free number was released: it can still be used.
    const retry = await request(app, 'POST', '/api/customers', { token: agent.token, body: { name: 'Free', phones: ['+8613700000078'] } });
    expect(retry.status).toBe(201);
  });

  it('when the input is bad, then 400 names each bad field', async () => {
    const response = await request(app, 'POST', '/api/customers', {
      token: agent.token,
      body: { name: 'Li', phones: ['not a phone'], emails: ['nope'], tier: 'platinum' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details.map((problem: { field: string }) => problem.field)).toEqual(['body.tier']);
    const semantic = await request(app, 'POST', '/api/customers', { token: agent.token, body: { name: 'Li', phones: ['+1 2'] } });
    expect(semantic.status).toBe(400);
    expect(semantic.body.error.details).toEqual([{ field: 'phones.0', message: 'is not a phone number, short code or sender id' }]);
    const search = await request(app, 'GET', '/api/customers', { token: agent.token });
    expect(search.status).toBe(400);
    expect(search.body.error.details[0].field).toBe('query.q');
  });

  it('when searching by name, email or a typed phone, then the right customer is found', async () => {
    const created = await request(app, 'POST', '/api/customers', {
      token: agent.token,
      body: { name: 'Zhao Lei', phones: ['+8613600000011'], emails: ['zhao.lei@example.cn'], tier: 'gold', attributes: { vin: 'LVVDB11B0ND000001' } },
    });
    expect(created.status).toBe(201);
    for (const query of ['q=zhao', 'q=Lei', 'email=ZHAO.LEI@example.cn', 'q=136%200000%200011', 'phone=13600000011']) {
      const response = await request(app, 'GET', `/api/customers?${query}`, { token: agent.token });
      expect(response.body.items.map((customer: { id: string }) => customer.id)).toContain(created.body.id);
    }
    const none = await request(app, 'GET', '/api/customers?q=.*', { token: agent.token });
    expect(none.body.items).toEqual([]);
  });

  it('when two customers are merged, then identifiers, interactions and history move to the survivor', async () => {
    const survivor = (await app.services.customers.resolveCustomer({ phone: '+8613500000001', name: 'Chen Jie' })).customer;
    const duplicate = (await app.services.customers.resolveCustomer({ email: 'chen.jie@example.cn' })).customer;
    await app.services.customers.updateCustomer(duplicate.id, { tier: 'vip', tags: ['warranty'], attributes: { vin: 'LVV1' } });
    await app.services.interactions.recordInboundEvent({
      externalId: 'test:email-1', customerId: duplicate.id, channel: 'email', direction: 'inbound', entry: { kind: 'message', text: 'brakes squeal' },
    });
    await app.services.interactions.recordInboundEvent({
      externalId: 'test:call-1', customerId: survivor.id, channel: 'voice', direction: 'inbound', entry: { kind: 'call_event' },
    });

    const agentTry = await request(app, 'POST', `/api/customers/${survivor.id}/merge`, { token: agent.token, body: { fromCustomerId: duplicate.id } });
    expect(agentTry.status).toBe(403);
    const merged = await request(app, 'POST', `/api/customers/${survivor.id}/merge`, { token: supervisor.token, body: { fromCustomerId: duplicate.id } });
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({ tier: 'vip', tags: ['warranty'], attributes: { vin: 'LVV1' }, emails: ['chen.jie@example.cn'] });

    const byEmail = await request(app, 'GET', '/api/customers?email=chen.jie@example.cn', { token: agent.token });
    expect(byEmail.body.items.map((customer: { id: string }) => customer.id)).toEqual([survivor.id]);
    const timeline = await request(app, 'GET', `/api/customers/${survivor.id}/timeline`, { token: agent.token });
    expect(timeline.body.items.map((interaction: { channel: string }) => interaction.channel).sort()).toEqual(['email', 'voice']);
    expect(timeline.body.items.every((interaction: { customerId: string }) => interaction.customerId === survivor.id)).toBe(true);
    const oldTimeline = await request(app, 'GET', `/api/customers/${duplicate.id}/timeline`, { token: agent.token });
    expect(oldTimeline.body.items).toEqual([]);
    const tombstone = await request(app, 'GET', `/api/customers/${duplicate.id}`, { token: agent.token });
    expect(tombstone.body.mergedInto).toBe(survivor.id);
    // A new email from the old address lands on the survivor.
    const resolved = await app.services.customers.resolveCustomer({ email: 'chen.jie@example.cn' });
    expect(resolved.customer.id).toBe(survivor.id);
    // Merging again is a no-op, not an error.
    const again = await request(app, 'POST', `/api/customers/${survivor.id}/merge`, { token: supervisor.token, body: { fromCustomerId: duplicate.id } });
    expect(again.status).toBe(200);
  });

  it('when a merge listener crashed half-way, then calling merge again finishes the job', async () => {
    const into = (await app.services.customers.resolveCustomer({ phone: '+8613500000101' })).customer;
    const from = (await app.services.customers.resolveCustomer({ phone: '+8613500000102' })).customer;
    await app.services.interactions.recordInboundEvent({ externalId: 'test:sms-crash', customerId: from.id, channel: 'sms', direction: 'inbound', entry: { kind: 'message', text: 'hi' } });
    let failOnce = true;
    app.services.customers.onMerge(async () => {
      if (failOnce) {
        failOnce = false;
        throw new Error('simulated crash');
      }
    });
    await expect(app.services.customers.mergeCustomers(into.id, from.id)).rejects.toThrow('simulated crash');
    expect((await app.services.customers.getCustomer(from.id)).mergedInto).toBeUndefined();
    await app.services.customers.mergeCustomers(into.id, from.id);
    expect((await app.services.customers.getCustomer(from.id)).mergedInto).toBe(into.id);
    const timeline = await app.services.interactions.getTimeline(into.id, { limit: 10 });
    expect(timeline.items.map((interaction) => interaction.externalIds)).toEqual([['test:sms-crash']]);
  });
});

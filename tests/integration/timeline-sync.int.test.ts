import type { CommandStartedEvent } from 'mongodb';
import { InteractionRepository } from '../../src/interactions';
import { withCommandMonitoring } from '../../src/platform/mongo';
import { startTestApp, testConfig, type TestApp } from '../support/test-app';

// The timeline summary is written without a lock or a read: one conditional update per change,
// ordered by the interaction's version. These tests check that FerretDB evaluates that condition
// (older writes lose, in any order, also when racing) and that a change costs what it should.
describe('timeline summaries without a lock', () => {
  let app: TestApp;
  let repository: InteractionRepository;
  const commands: string[] = [];

  beforeAll(async () => {
    // Command monitoring on the app's own connection, to count what each change sends.
    const { MONGODB_URI } = testConfig();
    app = await startTestApp({ MONGODB_URI: withCommandMonitoring(MONGODB_URI) });
    repository = new InteractionRepository(app.mongo);
    app.mongo.getClient().on('commandStarted', (event: CommandStartedEvent) => {
      const target = (event.command as Record<string, unknown>)[event.commandName];
      commands.push(`${event.commandName} ${typeof target === 'string' ? target : ''}`.trim());
    });
  });
  afterAll(() => app.destroy());

  const newCustomer = async (phone: string) => (await app.services.customers.resolveCustomer({ phone })).customer;
  const timelineDoc = (customerId: string) => app.mongo.collection<{ _id: string }>('customer_timelines').findOne({ _id: customerId });
  /** The commands sent while `work` ran, on the collections the interaction log owns. */
  const commandsOf = async (work: () => Promise<unknown>, collections = ['interactions', 'customer_timelines', 'inbound_keys']) => {
    // Reports count earlier changes in the background (reading timelines); let them finish first.
    await app.reports.settle();
    commands.length = 0;
    await work();
    return commands.filter((command) => collections.some((collection) => command.endsWith(` ${collection}`)));
  };
  const shuffled = <T>(values: T[]) => values.map((value) => ({ value, key: Math.random() })).sort((a, b) => a.key - b.key).map(({ value }) => value);

  it('when version 3 of a summary is written and then version 2, then version 3 is kept', async () => {
    const customer = await newCustomer('+8613822220001');
    const recorded = await app.services.interactions.recordInboundEvent({ externalId: 'test:sync-order', customerId: customer.id, channel: 'sms', direction: 'inbound', entry: { kind: 'message', text: 'hi' } });
    const stored = (await repository.findById(recorded.interaction.id))!;
    await repository.putSummary({ ...stored, status: 'closed', version: 3 });
    await repository.putSummary({ ...stored, status: 'active', version: 2 });
    const [item] = await repository.readTimeline(customer.id);
    expect(item.summary?.status).toBe('closed');
    expect(await timelineDoc(customer.id)).toMatchObject({ summaries: { [`i${stored._id}`]: { status: 'closed', version: 3 } } });
  });

  it('when twenty versions are written at once in random order, then the newest is kept, with or without a timeline document before', async () => {
    const customer = await newCustomer('+8613822220002');
    const recorded = await app.services.interactions.recordInboundEvent({ externalId: 'test:sync-race', customerId: customer.id, channel: 'voice', direction: 'inbound', entry: { kind: 'call_event' } });
    const stored = (await repository.findById(recorded.interaction.id))!;
    const versions = Array.from({ length: 20 }, (_, index) => index + 1);
    await Promise.all(shuffled(versions).map((version) => repository.putSummary({ ...stored, entryCount: version, version })));
    expect((await repository.readTimeline(customer.id))[0].summary?.entryCount).toBe(20);

    // No timeline yet: the writers' upserts race to create it; whichever lands first, the newest must win.
    const elsewhere = { ...stored, customerId: `no-timeline-${Date.now()}` };
    await Promise.all(shuffled(versions).map((version) => repository.putSummary({ ...elsewhere, entryCount: version, version })));
    expect(await timelineDoc(elsewhere.customerId)).toMatchObject({ summaries: { [`i${stored._id}`]: { entryCount: 20, version: 20 } } });
  });

  it('when ten changes of one interaction run at once, then its summary shows all of them', async () => {
    const customer = await newCustomer('+8613822220003');
    const created = await app.services.interactions.createInteraction({ customerId: customer.id, channel: 'manual', direction: 'inbound' });
    const flags = Array.from({ length: 10 }, (_, index) => `flag-${index}`);
    await Promise.all(flags.map((flag) => app.services.interactions.updateInteraction(created.id, {}, [flag])));
    const [summary] = (await app.services.interactions.getTimeline(customer.id, { limit: 5 })).items;
    expect([...summary.flags].sort()).toEqual([...flags].sort());
  });

  it('when a note is appended, then the log sends one write for it and one for the summary, and reads nothing', async () => {
    const customer = await newCustomer('+8613822220004');
    const created = await app.services.interactions.createInteraction({ customerId: customer.id, channel: 'manual', direction: 'inbound' });
    const sent = await commandsOf(() => app.services.interactions.addNote(created.id, { text: 'call back', authorId: 'agent-1' }));
    expect(sent).toEqual(['findAndModify interactions', 'update customer_timelines']);
  });

  it('when an interaction changes, then its summary costs one timeline write and no timeline read', async () => {
    const customer = await newCustomer('+8613822220005');
    const created = await app.services.interactions.createInteraction({ customerId: customer.id, channel: 'manual', direction: 'inbound' });
    // Listeners may read other things; the summary is what this module adds to the change.
    const sent = await commandsOf(() => app.services.interactions.updateInteraction(created.id, { status: 'active' }), ['customer_timelines']);
    expect(sent).toEqual(['update customer_timelines']);
    expect((await app.services.interactions.getTimeline(customer.id, { limit: 1 })).items[0].status).toBe('active');
  });

  it('when an event is delivered for the first time, then its claim is inserted without reading it first', async () => {
    const customer = await newCustomer('+8613822220006');
    const sent = await commandsOf(
      () => app.services.interactions.recordInboundEvent({ externalId: 'test:first-delivery', customerId: customer.id, channel: 'sms', direction: 'inbound', entry: { kind: 'message', text: 'hello' } }),
      ['inbound_keys', 'customer_timelines'],
    );
    expect(sent).toEqual(['insert inbound_keys', 'update customer_timelines', 'update inbound_keys']);
  });

  it('when an event should join an interaction that does not exist, then 404 and a later delivery of it is recorded afresh', async () => {
    const customer = await newCustomer('+8613822220007');
    const event = { externalId: 'test:join-missing', customerId: customer.id, channel: 'sms' as const, direction: 'inbound' as const, entry: { kind: 'message' as const, text: 'again' } };
    await expect(app.services.interactions.recordInboundEvent({ ...event, appendTo: 'a'.repeat(24) })).rejects.toMatchObject({ code: 'not_found' });
    const retried = await app.services.interactions.recordInboundEvent(event);
    expect(retried).toMatchObject({ duplicate: false, created: true });
    expect(retried.interaction.id).not.toBe('a'.repeat(24));
  });

  it('when a timeline was written by the old code (summaries inline), then it reads as before and a change replaces the inline summary', async () => {
    const customer = await newCustomer('+8613822220008');
    const id = 'd'.repeat(24);
    const at = new Date('2026-04-01T08:00:00Z');
    // As the old code stored them: no version on the interaction, the summary inside the item.
    await app.mongo.collection<Record<string, unknown>>('interactions').insertOne({
      _id: id as never, customerId: customer.id, channel: 'email', direction: 'inbound', status: 'open', externalIds: [], entries: [], entryCount: 0, flags: [], createdAt: at, updatedAt: at, lastActivityAt: at,
    });
    await app.mongo.collection<Record<string, unknown>>('customer_timelines').insertOne({
      _id: customer.id as never,
      items: [{ interactionId: id, at, channel: 'email', summary: { customerId: customer.id, direction: 'inbound', status: 'open', flags: [], externalIds: [], entryCount: 0, lastActivityAt: at, subject: 'Old one' } }],
    });
    expect((await app.services.interactions.getTimeline(customer.id, { limit: 5 })).items).toEqual([expect.objectContaining({ id, status: 'open', subject: 'Old one' })]);

    await app.services.interactions.updateInteraction(id, { status: 'closed', subject: 'Old one, answered' });
    const { items } = await app.services.interactions.getTimeline(customer.id, { limit: 5 });
    expect(items).toEqual([expect.objectContaining({ id, status: 'closed', subject: 'Old one, answered' })]);
  });

  it('when customers are merged, then a change of a moved interaction updates the survivor\'s summary and nothing shows on the merged one', async () => {
    const survivor = await newCustomer('+8613822220009');
    const duplicate = await newCustomer('+8613822220010');
    const recorded = await app.services.interactions.recordInboundEvent({ externalId: 'test:merge-move', customerId: duplicate.id, channel: 'sms', direction: 'inbound', entry: { kind: 'message', text: 'before merge' } });
    await app.services.interactions.moveCustomerInteractions({ fromCustomerId: duplicate.id, intoCustomerId: survivor.id });
    await app.services.interactions.appendEntry(recorded.interaction.id, { kind: 'message', direction: 'outbound', text: 'after merge' });
    const { items } = await app.services.interactions.getTimeline(survivor.id, { limit: 5 });
    expect(items).toEqual([expect.objectContaining({ id: recorded.interaction.id, customerId: survivor.id, preview: 'after merge', entryCount: 2 })]);
    expect((await app.services.interactions.getTimeline(duplicate.id, { limit: 5 })).items).toEqual([]);
  });

  it('when a transition\'s from-status no longer holds, then nothing is written; when it holds, the change, its entry and an unset end time go in one write', async () => {
    const customer = await newCustomer('+8613822220011');
    const recorded = await app.services.interactions.recordInboundEvent({ externalId: 'test:transition', customerId: customer.id, channel: 'voice', direction: 'inbound', status: 'queued', entry: { kind: 'call_event', data: { event: 'incoming' } } });
    const id = recorded.interaction.id;
    const entry = { kind: 'system' as const, direction: 'internal' as const, data: { event: 'work_completed' } };
    expect(await app.services.interactions.transitionInteraction(id, ['active'], { status: 'wrap_up' }, { entry })).toBeNull();
    expect((await repository.findById(id))!).toMatchObject({ status: 'queued', entryCount: 1 });

    const hungUpAt = new Date(Date.now() - 60_000);
    await app.services.interactions.updateInteraction(id, { status: 'wrap_up', endedAt: hungUpAt });
    const sent = await commandsOf(async () => {
      const closed = await app.services.interactions.transitionInteraction(id, ['wrap_up'], { status: 'closed' }, { entry, endedAtIfUnset: new Date() });
      // An end time already there (the caller hung up first) is kept.
      expect(closed).toMatchObject({ status: 'closed', endedAt: hungUpAt.toISOString(), entryCount: 2 });
    });
    expect(sent).toEqual(['findAndModify interactions', 'update customer_timelines']);

    const other = await app.services.interactions.recordInboundEvent({ externalId: 'test:transition-2', customerId: customer.id, channel: 'voice', direction: 'inbound', status: 'queued', entry: { kind: 'call_event', data: { event: 'incoming' } } });
    await app.services.interactions.updateInteraction(other.interaction.id, { status: 'wrap_up' });
    const before = Date.now();
    const closed = await app.services.interactions.transitionInteraction(other.interaction.id, ['wrap_up'], { status: 'closed' }, { endedAtIfUnset: new Date() });
    expect(new Date(closed!.endedAt!).getTime()).toBeGreaterThanOrEqual(before);
  });
});

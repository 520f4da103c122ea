import mongoose from 'mongoose';
import { InteractionRepository } from '../../src/interactions';
import { startTestApp, type TestApp } from '../support/test-app';

// The hot path of every call and text: what recording a new contact costs in store round trips, and
// that the cheaper path leaves the same log and timeline as the general one.
describe('the screen-pop path', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
    // The reconciler reads the log in the background (its start run, and on any Redis event): these
    // tests count the log commands one recording makes, so it is stopped.
    await app.reconciler.stop();
  });
  afterAll(() => app.destroy());

  const newCustomer = async (phone: string) => (await app.services.customers.resolveCustomer({ phone })).customer;

  /** Runs `act` counting the commands sent to the interaction log's collections. */
  async function countLogCalls<T>(act: () => Promise<T>): Promise<{ result: T; calls: string[] }> {
    const calls: string[] = [];
    const logCollections = new Set(['interactions', 'customer_timelines', 'inbound_keys']);
    mongoose.set('debug', (collection: string, method: string) => {
      if (logCollections.has(collection)) calls.push(`${collection}.${method}`);
    });
    try {
      return { result: await act(), calls };
    } finally {
      mongoose.set('debug', false);
    }
  }

  it('when a new contact is recorded, then it costs four log writes and no read, and its timeline summary matches it', async () => {
    const customer = await newCustomer('+8613822220001');
    const { result, calls } = await countLogCalls(() =>
      app.services.interactions.recordInboundEvent({
        externalId: 'test:path-new', customerId: customer.id, channel: 'sms', direction: 'inbound', status: 'queued', queue: 'support',
        entry: { kind: 'message', direction: 'inbound', text: 'Where is my order?' },
      }),
    );
    // Key claim, the interaction with its entry, the timeline item, the key marked recorded.
    expect(calls).toHaveLength(4);
    expect(result.interaction).toMatchObject({ status: 'queued', queue: 'support', entryCount: 1, externalIds: ['test:path-new'] });
    const full = await app.services.interactions.getInteraction(result.interaction.id);
    const { entries, ...withoutEntries } = full;
    expect(result.interaction).toEqual(full);
    expect(entries?.map((entry) => entry.text)).toEqual(['Where is my order?']);
    const { items } = await app.services.interactions.getTimeline(customer.id, { limit: 5 });
    expect(items).toEqual([{ ...withoutEntries, preview: 'Where is my order?' }]);
  });

  it('when a process died after writing the interaction and its timeline item, then the retry lists it once', async () => {
    const customer = await newCustomer('+8613822220002');
    const first = await app.services.interactions.recordInboundEvent({
      externalId: 'test:path-crash', customerId: customer.id, channel: 'email', direction: 'inbound', subject: 'Invoice', entry: { kind: 'message', text: 'hello' },
    });
    // Undo only the "recorded" mark: the state a crash just before it leaves behind.
    const repository = new InteractionRepository(app.mongo);
    await app.mongo.collection('inbound_keys').updateOne({ _id: 'test:path-crash' as never }, { $unset: { recordedAt: '' } });
    expect((await repository.findKey('test:path-crash'))?.recordedAt).toBeUndefined();
    const retried = await app.services.interactions.recordInboundEvent({
      externalId: 'test:path-crash', customerId: customer.id, channel: 'email', direction: 'inbound', subject: 'Invoice', entry: { kind: 'message', text: 'hello' },
    });
    expect(retried).toMatchObject({ duplicate: false, entryId: first.entryId });
    expect(retried.interaction.entries).toHaveLength(1);
    const { items } = await app.services.interactions.getTimeline(customer.id, { limit: 5 });
    expect(items.map((item) => item.id)).toEqual([first.interaction.id]);
  });

  it('when an interaction is updated, then the change costs one write and one timeline write', async () => {
    const customer = await newCustomer('+8613822220003');
    const recorded = await app.services.interactions.recordInboundEvent({ externalId: 'test:path-update', customerId: customer.id, channel: 'voice', direction: 'inbound', entry: { kind: 'call_event' } });
    const { result, calls } = await countLogCalls(() => app.services.interactions.updateInteraction(recorded.interaction.id, { status: 'active', agentId: 'agent-1' }, ['vip']));
    expect(calls).toHaveLength(2);
    expect(result).toMatchObject({ status: 'active', agentId: 'agent-1', flags: ['vip'] });
    const [summary] = (await app.services.interactions.getTimeline(customer.id, { limit: 5 })).items;
    expect(summary).toMatchObject({ id: recorded.interaction.id, status: 'active', agentId: 'agent-1', flags: ['vip'] });
  });

  it('when an unknown interaction is updated, then 404 and nothing is written', async () => {
    await expect(app.services.interactions.updateInteraction('f'.repeat(24), { status: 'closed' })).rejects.toMatchObject({ status: 404 });
    expect(await new InteractionRepository(app.mongo).findById('f'.repeat(24))).toBeNull();
  });
});

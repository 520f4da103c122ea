import { randomBytes, randomInt } from 'node:crypto';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';

/**
 * A customer's timeline must never grow toward MongoDB's 16 MB document limit, and reading its
 * first page must not cost more with every interaction ever recorded. The smallest head allowed
 * here, so 120 interactions fill several archive pages.
 */
const headItems = 40;

interface RawTimeline {
  items: { interactionId: string }[];
}

describe('bounded customer timeline', () => {
  let channel: ChannelTestApp;
  let agent: TestUser;
  const ourNumber = '+862150000000';
  const newMobile = () => `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
  const text = (from: string, body: string) =>
    channel.webhook('/webhooks/twilio/sms', { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: channel.twilio.accountSid, From: from, To: ourNumber, Body: body, NumMedia: '0' });

  beforeAll(async () => {
    channel = await startChannelTestApp({ TIMELINE_HEAD_ITEMS: headItems });
    agent = await createUserAndLogin(channel.app, 'agent');
  });
  afterAll(() => channel.destroy());

  const services = () => channel.app.services;
  const newCustomer = async (phone = newMobile()) => (await services().customers.resolveCustomer({ phone })).customer;
  const headOf = async (customerId: string) => (await channel.app.mongo.collection('customer_timelines').findOne({ _id: customerId as never })) as unknown as RawTimeline | null;
  const createMany = async (customerId: string, count: number) => {
    const ids: string[] = [];
    for (let index = 0; index < count; index++) {
      ids.push((await services().interactions.createInteraction({ customerId, channel: 'manual', direction: 'inbound', subject: `contact ${index}` })).id);
    }
    return ids;
  };
  /** Every page of the timeline through the API, in the order served. */
  const pageThrough = async (customerId: string, limit: number) => {
    const seen: { id: string; createdAt: string; subject?: string; customerId: string }[] = [];
    let cursor: string | null = null;
    for (let round = 0; round < 200; round++) {
      const query: string = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const response = await request(channel.app, 'GET', `/api/customers/${customerId}/timeline?${query}`, { token: agent.token });
      expect(response.status).toBe(200);
      seen.push(...response.body.items);
      cursor = response.body.nextCursor;
      if (!cursor) return seen;
    }
    throw new Error('the timeline never ended');
  };
  /** The customer's conversations as stored, newest first (ties by id, as the timeline orders them). */
  const storedNewestFirst = async (customerId: string) => {
    const stored = await channel.app.mongo.collection('interactions').find({ customerId, continuesFrom: { $exists: false } }).toArray();
    return stored
      .map((doc) => ({ id: String(doc._id), at: new Date(doc.createdAt as Date).getTime() }))
      .sort((left, right) => right.at - left.at || (left.id < right.id ? 1 : left.id > right.id ? -1 : 0))
      .map((doc) => doc.id);
  };

  it('when a customer has 120 interactions, then the head holds at most N, the API pages through all once newest first, and a late summary change shows', async () => {
    const mobile = newMobile();
    const sms = await text(mobile, 'my car will not start');
    expect(sms.status).toBe(200);
    const customer = await newCustomer(mobile);
    const manual = await createMany(customer.id, 118);

    // The head stays bounded while the customer's history grows.
    expect((await headOf(customer.id))!.items.length).toBeLessThanOrEqual(headItems);

    // A new text on the open SMS conversation (the oldest interaction by now) still joins it.
    const [first] = (await services().interactions.getTimeline(customer.id, { limit: 5, channel: 'sms' })).items;
    expect(first).toBeDefined();
    const again = await text(mobile, 'still not starting');
    expect(again.status).toBe(200);
    const smsItems = (await services().interactions.getTimeline(customer.id, { limit: 5, channel: 'sms' })).items;
    expect(smsItems.map((item) => item.id)).toEqual([first.id]);
    expect(smsItems[0].entryCount).toBe(2);

    // One more contact makes 120; an archived one changes afterwards.
    await services().interactions.createInteraction({ customerId: customer.id, channel: 'voice', direction: 'inbound' });
    const archived = manual[3];
    expect((await headOf(customer.id))!.items.map((item) => item.interactionId)).not.toContain(archived);
    await services().interactions.updateInteraction(archived, { subject: 'answered long after' });

    const served = await pageThrough(customer.id, 7);
    const expected = await storedNewestFirst(customer.id);
    expect(expected).toHaveLength(120);
    expect(served.map((item) => item.id)).toEqual(expected);
    expect(served.find((item) => item.id === archived)?.subject).toBe('answered long after');
    expect(served.find((item) => item.id === manual[100])?.subject).toBe('contact 100');
    expect(await channel.app.mongo.collection('customer_timeline_pages').countDocuments({ customerId: customer.id })).toBeGreaterThanOrEqual(2);
    expect((await headOf(customer.id))!.items.length).toBeLessThanOrEqual(headItems);

    // The screen pop's first page comes from the head alone, unchanged.
    const firstPage = await services().interactions.getTimeline(customer.id, { limit: 5 });
    expect(firstPage.items.map((item) => item.id)).toEqual(expected.slice(0, 5));
  });

  it('when many contacts are created at once at the head boundary while older ones change, then none is lost or listed twice and every change shows', async () => {
    const customer = await newCustomer();
    const older = await createMany(customer.id, headItems - 2);
    // Creates cross the boundary (items move to a page) while the oldest ones' summaries change.
    await Promise.all([
      ...Array.from({ length: 30 }, () => services().interactions.createInteraction({ customerId: customer.id, channel: 'manual', direction: 'inbound' })),
      ...older.slice(0, 15).map((id, index) => services().interactions.updateInteraction(id, { subject: `changed ${index}` })),
    ]);
    await createMany(customer.id, 3);
    const served = await pageThrough(customer.id, 9);
    expect(served.map((item) => item.id)).toEqual(await storedNewestFirst(customer.id));
    expect(served).toHaveLength(headItems - 2 + 33);
    for (const [index, id] of older.slice(0, 15).entries()) expect(served.find((item) => item.id === id)?.subject).toBe(`changed ${index}`);
    expect((await headOf(customer.id))!.items.length).toBeLessThanOrEqual(headItems);
  });

  it('when a move to an archive page was interrupted (copied, not yet removed from the head), then each interaction is listed once and the next move completes it', async () => {
    const customer = await newCustomer();
    await createMany(customer.id, headItems - 5);
    // What a crash right after the copy leaves: page 0 holds the oldest refs, the head still holds them too.
    const head = (await channel.app.mongo.collection('customer_timelines').findOne({ _id: customer.id as never })) as unknown as RawTimeline & { summaries: Record<string, unknown> };
    const copied = head.items.slice(0, 10);
    await channel.app.mongo.collection('customer_timeline_pages').insertOne({
      _id: `${customer.id}:0` as never,
      customerId: customer.id,
      number: 0,
      items: copied,
      summaries: Object.fromEntries(copied.map((item) => [`i${item.interactionId}`, head.summaries[`i${item.interactionId}`]])),
    });
    await createMany(customer.id, 40);
    const served = await pageThrough(customer.id, 12);
    expect(served.map((item) => item.id)).toEqual(await storedNewestFirst(customer.id));
    expect(served).toHaveLength(headItems + 35);
    expect((await headOf(customer.id))!.items.length).toBeLessThanOrEqual(headItems);
  });

  it('when a timeline was stored whole before heads were bounded, then the next contact moves its history to pages and all of it is still listed', async () => {
    const customer = await newCustomer();
    const earlier = await createMany(customer.id, 3 * headItems);
    // As the old code stored it: every ref and summary in one document, no count, no pages.
    const refs = await channel.app.mongo.collection('interactions').find({ customerId: customer.id }).toArray();
    const timelines = channel.app.mongo.collection('customer_timelines');
    const pages = channel.app.mongo.collection('customer_timeline_pages');
    const summaries = Object.assign({}, ...(await pages.find({ customerId: customer.id }).toArray()).map((page) => page.summaries), (await timelines.findOne({ _id: customer.id as never }))!.summaries);
    await pages.deleteMany({ customerId: customer.id });
    await timelines.replaceOne({ _id: customer.id as never }, { items: refs.map((doc) => ({ interactionId: String(doc._id), at: doc.createdAt, channel: doc.channel })), summaries });
    await services().interactions.updateInteraction(earlier[0], { subject: 'changed before the move' });

    await services().interactions.createInteraction({ customerId: customer.id, channel: 'manual', direction: 'inbound' });
    expect((await headOf(customer.id))!.items.length).toBeLessThanOrEqual(headItems);
    const served = await pageThrough(customer.id, 30);
    expect(served.map((item) => item.id)).toEqual(await storedNewestFirst(customer.id));
    expect(served).toHaveLength(3 * headItems + 1);
    expect(served.find((item) => item.id === earlier[0])?.subject).toBe('changed before the move');
  });

  it('when two customers with archived histories are merged, then the survivor lists every interaction once and the other none', async () => {
    const survivor = await newCustomer();
    const duplicate = await newCustomer();
    await createMany(survivor.id, 60);
    await createMany(duplicate.id, 60);
    await services().customers.mergeCustomers(survivor.id, duplicate.id);

    const served = await pageThrough(survivor.id, 25);
    expect(served).toHaveLength(120);
    expect(served.map((item) => item.id)).toEqual(await storedNewestFirst(survivor.id));
    expect(served.every((item) => item.customerId === survivor.id)).toBe(true);
    expect((await services().interactions.getTimeline(duplicate.id, { limit: 20 })).items).toEqual([]);
    expect((await headOf(survivor.id))!.items.length).toBeLessThanOrEqual(headItems);
    expect(await channel.app.mongo.collection('customer_timeline_pages').countDocuments({ customerId: duplicate.id })).toBe(0);
  });
});

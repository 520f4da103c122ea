import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';
import { callSid, eventually, offersFor, startRouting, testQueues, type RoutingHarness } from './routing-support';

/** general overflows to backup after 1 s; backup has a max wait but nowhere to go, so it keeps its calls. */
function overflowQueues() {
  const base = testQueues();
  return {
    ...base,
    queues: base.queues.map((queue) =>
      queue.name === 'general' ? { ...queue, maxWaitSeconds: 1, overflowQueue: 'sales' } : queue.name === 'sales' ? { ...queue, maxWaitSeconds: 1 } : queue,
    ),
  };
}

describe('overflow after the max wait', () => {
  let channel: ChannelTestApp;
  let harness: RoutingHarness;
  let agent: TestUser;
  let supervisor: TestUser;

  beforeAll(async () => {
    channel = await startChannelTestApp({}, { routing: false });
    harness = await startRouting(channel.app, { queuesConfig: overflowQueues() });
    agent = await createUserAndLogin(channel.app, 'agent');
    supervisor = await createUserAndLogin(channel.app, 'supervisor');
  });
  afterAll(async () => {
    await harness.close();
    await channel.destroy();
  });

  const api = (user: TestUser, method: string, path: string, body?: unknown) => request({ url: harness.url }, method, path, { token: user.token, body });
  const queue = async (name: string) => (await api(supervisor, 'GET', '/api/routing/queues')).body.items.find((item: { queue: string }) => item.queue === name);

  it('when a call waits longer than its queue max wait, then it moves to the overflow queue, logged on the interaction, and stays there', async () => {
    const sid = callSid();
    await channel.webhook('/webhooks/twilio/voice', { CallSid: sid, AccountSid: channel.twilio.accountSid, From: '+8613800138000', To: '+862159999999', CallStatus: 'ringing' });
    const interactionId = (await channel.app.services.interactions.findByExternalId(`twilio-call:${sid}`))!.interactionId;
    expect(await queue('general')).toMatchObject({ waiting: 1 });

    const moved = await eventually('the overflow', async () => {
      const interaction = await channel.app.services.interactions.getInteraction(interactionId);
      return interaction.queue === 'sales' && interaction;
    }, 5_000);
    expect(moved.flags).toContain('overflowed');
    expect(moved.status).toBe('queued');
    expect(moved.entries?.find((entry) => entry.data?.event === 'overflowed')?.data).toMatchObject({ from: 'general', to: 'sales' });
    // The day's counters are written by the move itself (the interaction is updated after it).
    expect(await queue('general')).toMatchObject({ waiting: 0, today: { offered: 1, overflowed: 1 } });
    const sales = await queue('sales');
    expect(sales).toMatchObject({ waiting: 1, today: { offered: 1, overflowed: 0 } });
    // Its wait still counts from when it first entered.
    expect(sales.longestWaitSeconds).toBeGreaterThanOrEqual(1);

    // sales has a max wait but no overflow queue: past it, the call stays put.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect((await channel.app.services.interactions.getInteraction(interactionId)).queue).toBe('sales');

    await harness.routing.profiles.save({ agentId: agent.id, queues: ['sales'] });
    await api(agent, 'PUT', '/api/routing/me/state', { state: 'available' });
    const [offer] = await eventually('an offer from the overflow queue', () => offersFor(harness.events, interactionId).length > 0 && offersFor(harness.events, interactionId));
    expect(offer.reservation.queue).toBe('sales');
    await channel.webhook('/webhooks/twilio/voice/status', { CallSid: sid, AccountSid: channel.twilio.accountSid, CallStatus: 'completed' });
  }, 15_000);
});

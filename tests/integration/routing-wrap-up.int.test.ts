import { startTestApp, createUserAndLogin, type TestApp, type TestUser } from '../support/test-app';
import { eventually, offersFor, startRouting, testQueues, textFrom, type RoutingHarness } from './routing-support';

// Completing work is on every contact's path: into wrap-up with its entry in one write, or, with no
// wrap-up time, straight to closed with both entries in one write, never walking back a status a
// hang-up (or anything else) set meanwhile.
describe('completing work and ending wrap-up', () => {
  let app: TestApp;
  let noWrapUp: RoutingHarness;
  let agent: TestUser;

  beforeAll(async () => {
    app = await startTestApp({}, { routing: false });
    noWrapUp = await startRouting(app, { queuesConfig: testQueues({ wrapUpSeconds: 0 }) });
    agent = await createUserAndLogin(app, 'agent');
  });
  afterAll(async () => {
    await noWrapUp.close();
    await app.destroy();
  });

  const offeredText = async (phone: string, sid: string) => {
    const interactionId = await textFrom(app, phone, sid);
    const offer = await eventually('the offer', () => offersFor(noWrapUp.events, interactionId)[0]);
    await noWrapUp.routing.desk.accept(agent.id, offer.reservation.id);
    return interactionId;
  };

  it('when a queue has no wrap-up time, then completing closes the contact in one write with both entries and frees the agent', async () => {
    await noWrapUp.routing.desk.setAgentState(agent.id, 'available');
    const interactionId = await offeredText('+8613833330001', 'SMWRAP0001');
    const versionBefore = (await app.mongo.collection<{ _id: string; version: number }>('interactions').findOne({ _id: interactionId }))!.version;

    const snapshot = await noWrapUp.routing.desk.completeWork(agent.id, interactionId, { disposition: 'solved', notes: 'told them the hours' });

    expect(snapshot.work).toEqual([]);
    const stored = await app.services.interactions.getInteraction(interactionId);
    expect(stored.status).toBe('closed');
    expect(stored.endedAt).toBeDefined();
    const events = stored.entries!.filter((entry) => entry.kind === 'system').map((entry) => (entry.data as { event: string }).event);
    expect(events.slice(-2)).toEqual(['work_completed', 'wrap_up_ended']);
    expect((await app.mongo.collection<{ _id: string; version: number }>('interactions').findOne({ _id: interactionId }))!.version).toBe(versionBefore + 1);
  });

  it('when the contact was closed before the agent completed, then it stays closed and the entries are still recorded', async () => {
    await noWrapUp.routing.desk.setAgentState(agent.id, 'available');
    const interactionId = await offeredText('+8613833330002', 'SMWRAP0002');
    const endedAt = new Date(Date.now() - 5_000);
    await app.services.interactions.updateInteraction(interactionId, { status: 'closed', endedAt });

    await noWrapUp.routing.desk.completeWork(agent.id, interactionId, {});

    const stored = await app.services.interactions.getInteraction(interactionId);
    expect(stored.status).toBe('closed');
    expect(stored.endedAt).toBe(endedAt.toISOString());
    const events = stored.entries!.filter((entry) => entry.kind === 'system').map((entry) => (entry.data as { event: string }).event);
    expect(events).toEqual(expect.arrayContaining(['work_completed', 'wrap_up_ended']));
  });
});

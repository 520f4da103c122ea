import { startTestApp, createUserAndLogin, request, type TestApp, type TestUser } from '../support/test-app';
import type { RoutingEvent } from '../../src/routing';
import { eventually, startRouting, testQueues, type RoutingHarness, textFrom } from './routing-support';

describe('routing capacity across processes', () => {
  let app: TestApp;
  let first: RoutingHarness;
  let second: RoutingHarness;
  const agents: TestUser[] = [];

  beforeAll(async () => {
    // This file drives its own routing modules; the app's own would compete for the same contacts.
    app = await startTestApp({}, { routing: false });
    // Two RoutingModules on one Redis and one database: two processes racing for the same contacts.
    first = await startRouting(app, { queuesConfig: testQueues() });
    second = await startRouting(app, { queuesConfig: testQueues() });
    for (let index = 0; index < 6; index += 1) agents.push(await createUserAndLogin(app, 'agent'));
  });
  afterAll(async () => {
    await first.close();
    await second.close();
    await app.destroy();
  });


  it('when a supervisor sets an agent profile, then GET returns it and an agent may not read it', async () => {
    const supervisor = await createUserAndLogin(app, 'supervisor');
    const agent = await createUserAndLogin(app, 'agent');
    const path = `/api/routing/agents/${agent.id}/profile`;
    const profile = { skills: { mandarin: 4, warranty: 2 }, queues: ['after-sales', 'warranty'], capacity: { voice: 100, sms: 25, email: 10 } };
    expect((await request(first, 'PUT', path, { token: supervisor.token, body: profile })).status).toBe(200);
    const read = await request(first, 'GET', path, { token: supervisor.token });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ agentId: agent.id, ...profile });
    expect((await request(first, 'GET', path, { token: agent.token })).status).toBe(403);
  });

  it('when an agent with sms weight 30 gets four conversations, then three are offered and the fourth waits', async () => {
    const agent = agents[5];
    const ids: string[] = [];
    for (let index = 0; index < 4; index += 1) ids.push(await textFrom(app, `+86139000000${10 + index}`, `SMcap${index}`));
    await first.routing.desk.setAgentState(agent.id, 'available');
    const offers = await eventually('three offers', () => {
      const made = first.events.concat(second.events).filter((event) => event.type === 'offer' && event.agentId === agent.id);
      return made.length >= 3 && made;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(first.events.concat(second.events).filter((event) => event.type === 'offer' && event.agentId === agent.id)).toHaveLength(3);
    const snapshot = await first.routing.desk.snapshot(agent.id);
    expect(snapshot.load).toBe(90);
    expect(snapshot.offers).toHaveLength(3);
    // The oldest three were offered, the newest waits.
    expect(offers.map((event) => (event as Extract<RoutingEvent, { type: 'offer' }>).reservation.interactionId).sort()).toEqual(ids.slice(0, 3).sort());
    await first.routing.desk.setAgentState(agent.id, 'offline');
    // Going offline gives the offers back to the queue.
    expect((await first.routing.desk.snapshot(agent.id)).load).toBe(0);
    for (const id of ids) await app.services.interactions.updateInteraction(id, { status: 'closed' });
  });

  it('when two processes race for 30 contacts and 5 agents, then each contact is offered to one agent at a time and no agent exceeds capacity', async () => {
    const racers = agents.slice(0, 5);
    for (const agent of racers) await first.routing.desk.setAgentState(agent.id, 'available');
    // Every offer is accepted and every assignment completed at once (wrap-up 0), alternating
    // between the two processes, so both keep matching while contacts arrive.
    const offeredTo = new Map<string, string[]>();
    const violations: string[] = [];
    const completed = new Set<string>();
    const handle = (harness: RoutingHarness, other: RoutingHarness) => async (event: RoutingEvent) => {
      if (event.type !== 'offer') return;
      const { interactionId, id } = event.reservation;
      offeredTo.set(interactionId, [...(offeredTo.get(interactionId) ?? []), event.agentId]);
      const snapshot = await harness.routing.desk.snapshot(event.agentId);
      if (snapshot.load > 100) violations.push(`${event.agentId} at ${snapshot.load}`);
      setTimeout(async () => {
        try {
          await other.routing.desk.accept(event.agentId, id);
          await harness.routing.desk.completeWork(event.agentId, interactionId, { disposition: 'done' });
          completed.add(interactionId);
        } catch (error) {
          violations.push(`accept/complete failed: ${(error as Error).message}`);
        }
      }, 30);
    };
    first.routing.onEvent(handle(first, second));
    second.routing.onEvent(handle(second, first));

    const ids = await Promise.all(Array.from({ length: 30 }, (_, index) => textFrom(app, `+86139100000${String(index).padStart(2, '0')}`, `SMrace${index}`)));
    await eventually('all 30 contacts handled', () => completed.size === 30, 20_000);

    expect(violations).toEqual([]);
    for (const id of ids) expect(offeredTo.get(id)).toHaveLength(1);
    // Capacity: never more than three sms conversations per agent at once, and every agent worked.
    const perAgent = new Map<string, number>();
    for (const [, [agentId]] of offeredTo) perAgent.set(agentId, (perAgent.get(agentId) ?? 0) + 1);
    expect([...perAgent.keys()].sort()).toEqual(racers.map((agent) => agent.id).sort());
    for (const agent of racers) expect((await first.routing.desk.snapshot(agent.id)).load).toBe(0);
  }, 30_000);
});

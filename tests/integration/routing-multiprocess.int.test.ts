import { testQueues, eventually } from './routing-support';
import { DeskBot, killNode, startCluster, type Cluster } from '../support/multiprocess';

/**
 * Two Switchboard processes on one database and one Redis (see tests/support/multiprocess.ts):
 * calls arrive through both nodes' webhooks at once, agents are connected half to each node, and
 * routing must still offer each contact to one agent at a time, never fill an agent past one call,
 * and lose nothing — also when one node dies with offers pending at its agents' desks.
 */
const agentsPerNode = 10;
const calls = 200;
const crashCalls = 40;


interface StoredInteraction {
  _id: string;
  status: string;
  agentId?: string;
}

describe('routing across two Switchboard processes', () => {
  let cluster: Cluster;
  const bots: DeskBot[] = [];

  beforeAll(async () => {
    cluster = await startCluster(2, { routing: { queuesConfig: testQueues({ reservationTimeoutSeconds: 2, wrapUpSeconds: 0 }) } });
    const users = await Promise.all(Array.from({ length: agentsPerNode * 2 }, () => cluster.createAgent()));
    // Half the desks on each node, as a load balancer without sticky sessions would spread them.
    bots.push(...(await Promise.all(users.map((user, index) => DeskBot.connect(user, cluster.nodes[index % 2].url, index % 2)))));
  }, 30_000);

  afterAll(async () => {
    for (const bot of bots) bot.close();
    await cluster?.destroy();
  });

  const voiceInteractions = async () =>
    (await cluster.nodes[0].app.mongo.collection<StoredInteraction>('interactions').find({ channel: 'voice' }, { projection: { status: 1, agentId: 1 } }).toArray()).map((doc) => ({ ...doc, _id: String(doc._id) }));

  const assignedBy = () => {
    const byInteraction = new Map<string, string[]>();
    for (const bot of bots) for (const id of bot.assigned) byInteraction.set(id, [...(byInteraction.get(id) ?? []), bot.user.id]);
    return byInteraction;
  };

  /** Overlaps that are real double bookings: the held offer was accepted (so its capacity was never freed). */
  const realOverlaps = async () => {
    const redis = cluster.nodes[0].app.redis;
    const real: unknown[] = [];
    for (const bot of bots) {
      for (const overlap of bot.overlaps) {
        const state = await redis.hget(`${cluster.config.REDIS_KEY_PREFIX}routing:reservation:${overlap.held.id}`, 'state');
        if (overlap.heldPhase === 'active' || state === 'accepted' || state === 'pending') real.push({ agentId: bot.user.id, ...overlap, heldState: state });
      }
    }
    return real;
  };

  it('when 200 calls arrive at once through both nodes, then each is assigned exactly once, no agent holds two calls, and all end closed', async () => {
    const began = Date.now();
    const answers = await Promise.all(Array.from({ length: calls }, (_, index) => cluster.webhook(index % 2, '/webhooks/twilio/voice', cluster.newCall())));
    expect(answers.filter((answer) => answer.status !== 200 || !answer.text.includes('<Enqueue'))).toEqual([]);

    const stored = await eventually('every call closed', async () => {
      const all = await voiceInteractions();
      return all.length === calls && all.every((interaction) => interaction.status === 'closed') && all;
    }, 80_000);
    await Promise.all(bots.map((bot) => bot.settle()));

    const assigned = assignedBy();
    const multiple = [...assigned].filter(([, agents]) => agents.length !== 1);
    expect(multiple).toEqual([]);
    expect(assigned.size).toBe(calls);
    for (const interaction of stored) expect(interaction.agentId).toBe(assigned.get(interaction._id)?.[0]);
    expect(await realOverlaps()).toEqual([]);
    // Both nodes' desks did work: offers crossed nodes through the Socket.IO Redis adapter.
    for (const node of [0, 1]) expect(bots.filter((bot) => bot.node === node).reduce((sum, bot) => sum + bot.assigned.length, 0)).toBeGreaterThan(0);
    const timedOut = bots.reduce((sum, bot) => sum + bot.failedAccepts.length, 0);
    process.stderr.write(`[multiprocess] ${calls} calls closed in ${Date.now() - began} ms: ${timedOut} offers expired before accept, ${bots.reduce((sum, bot) => sum + bot.awayForMisses, 0)} agents set away for misses\n`);
  }, 100_000);

  it('when node 2 dies with offers pending at its desks, then node 1 times them out, re-offers them to its own agents, and every call still ends closed', async () => {
    const before = new Set((await voiceInteractions()).map((interaction) => interaction._id));
    const survivors = bots.filter((bot) => bot.node === 0);
    const doomed = bots.filter((bot) => bot.node === 1);
    // Node 2's desks freeze: offers ring there and nobody answers.
    for (const bot of doomed) bot.working = false;

    const answers = await Promise.all(Array.from({ length: crashCalls }, (_, index) => cluster.webhook(index % 2, '/webhooks/twilio/voice', cluster.newCall())));
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    // Only offers that arrived after the freeze: an accept already on its way could still land.
    const stranded = await eventually('an unanswered offer at every desk of node 2', () => doomed.every((bot) => bot.ignored.length === 1 && bot.holding.length === 1) && doomed.map((bot) => bot.ignored[0]), 10_000);

    await killNode(cluster.nodes[1], () => doomed.forEach((bot) => bot.close()));
    const killedAt = Date.now();

    const stored = await eventually('every call closed after the crash', async () => {
      const fresh = (await voiceInteractions()).filter((interaction) => !before.has(interaction._id));
      return fresh.length === crashCalls && fresh.every((interaction) => interaction.status === 'closed') && fresh;
    }, 40_000);
    await Promise.all(survivors.map((bot) => bot.settle()));
    const recoveredMs = Date.now() - killedAt;

    // The stranded offers were timed out in Redis (by node 1's worker: node 2's is gone) ...
    const redis = cluster.nodes[0].app.redis;
    for (const reservation of stranded) {
      expect(await redis.hget(`${cluster.config.REDIS_KEY_PREFIX}routing:reservation:${reservation.id}`, 'state')).toBe('timeout');
    }
    // ... and each of those calls went to exactly one surviving agent, the one the store names.
    const assigned = assignedBy();
    const byId = new Map(stored.map((interaction) => [interaction._id, interaction]));
    for (const reservation of stranded) {
      const agents = assigned.get(reservation.interactionId) ?? [];
      expect(agents).toHaveLength(1);
      expect(survivors.map((bot) => bot.user.id)).toContain(agents[0]);
      expect(byId.get(reservation.interactionId)?.agentId).toBe(agents[0]);
    }
    for (const interaction of stored) expect(assigned.get(interaction._id)).toEqual([interaction.agentId]);
    expect(doomed.flatMap((bot) => bot.assigned).filter((id) => !before.has(id))).toEqual([]);
    expect(await realOverlaps()).toEqual([]);

    // With this test's 2 s offer timeout, the dead node's agents miss offers (and are set away)
    // before the node sweep (heartbeat TTL + grace, ~20 s by default) takes them offline; the
    // sweep itself is tested in routing-node-crash.int.test.ts with short timings.
    const deadAgentStates = await Promise.all(doomed.map((bot) => redis.hget(`${cluster.config.REDIS_KEY_PREFIX}routing:agent:${bot.user.id}`, 'state')));
    const doomedIds = new Set(doomed.map((bot) => bot.user.id));
    let offersToDead = 0;
    for (const key of await redis.keys(`${cluster.config.REDIS_KEY_PREFIX}routing:reservation:*`)) {
      const [agentId, interactionId] = await redis.hmget(key, 'agentId', 'interactionId');
      if (agentId && doomedIds.has(agentId) && interactionId && !before.has(interactionId)) offersToDead += 1;
    }
    process.stderr.write(`[multiprocess] crash: ${crashCalls} calls closed ${recoveredMs} ms after the kill; ${offersToDead} offers went to node 2's ${doomed.length} desks; their states now: ${deadAgentStates.join(',')}\n`);
  }, 60_000);
});

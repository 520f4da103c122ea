import { RoutingStore } from '../../src/routing/routing.store';
import { DeskBot, killNode, sleep, startCluster, type Cluster } from '../support/multiprocess';
import { eventually, testQueues } from './routing-support';

/**
 * A node dies; its agents stay "available" until the presence grace ends (long here: 60 s, and the
 * automatic sweep is off), but their desks are dark. The matcher must pass them over: first while
 * their connections are still listed on the dead node, then after a sweep took those connections.
 */
const heartbeatTtlMs = 1_000;


describe('offers while a dead node\'s agents are inside their presence grace', () => {
  let cluster: Cluster;
  const bots: DeskBot[] = [];

  beforeAll(async () => {
    cluster = await startCluster(2, {
      routing: { queuesConfig: testQueues({ reservationTimeoutSeconds: 20, wrapUpSeconds: 0 }), presenceGraceMs: 60_000, nodeHeartbeatTtlMs: heartbeatTtlMs, nodeSweepIntervalMs: 600_000 },
    });
  }, 30_000);

  afterAll(async () => {
    for (const bot of bots) bot.close();
    await sleep(1_200);
    await cluster?.destroy();
  });

  const key = (suffix: string) => `${cluster.config.REDIS_KEY_PREFIX}routing:${suffix}`;
  const redis = () => cluster.nodes[0].app.redis;
  const reservationsOf = async (agentId: string) => {
    const found: string[] = [];
    for (const reservationKey of await redis().keys(key('reservation:*'))) {
      if ((await redis().hget(reservationKey, 'agentId')) === agentId) found.push(reservationKey);
    }
    return found;
  };

  it('when node 2 is declared dead, then new calls go to the live agent on node 1, not to node 2\'s still-available agents, before and after their connections are swept', async () => {
    const doomedUsers = await Promise.all([cluster.createAgent(), cluster.createAgent()]);
    // Connected first, so longest-idle would pick them: only the liveness check keeps them out.
    const doomed = await Promise.all(doomedUsers.map((user) => DeskBot.connect(user, cluster.nodes[1].url, 1)));
    bots.push(...doomed);
    await sleep(20);
    const survivor = await DeskBot.connect(await cluster.createAgent(), cluster.nodes[0].url, 0);
    bots.push(survivor);

    await killNode(cluster.nodes[1], () => doomed.forEach((bot) => bot.close()));
    const deadNode = (await redis().smembers(key(`agent:${doomed[0].user.id}:conns`)))[0].split(':')[0];
    await eventually('node 2 declared dead', async () => (await redis().exists(key(`node:${deadNode}`))) === 0, heartbeatTtlMs + 3_000);

    // Dead, not yet swept: their connections are still listed.
    expect((await cluster.webhook(0, '/webhooks/twilio/voice', cluster.newCall())).status).toBe(200);
    await eventually('the first call assigned on node 1', () => survivor.assigned.length === 1, 5_000);
    for (const bot of doomed) {
      expect(await redis().hget(key(`agent:${bot.user.id}`), 'state')).toBe('available');
      expect(await redis().scard(key(`agent:${bot.user.id}:conns`))).toBe(1);
    }

    // Swept (what any node's sweep does): no connection left, still in the grace and "available".
    const store = new RoutingStore(redis(), cluster.config.REDIS_KEY_PREFIX);
    for (const [socketId, agentId] of Object.entries(await store.nodeConnections(deadNode))) {
      expect((await store.sweepConnection(deadNode, socketId, agentId)).outcome).toBe('swept');
    }
    await survivor.settle();
    expect((await cluster.webhook(0, '/webhooks/twilio/voice', cluster.newCall())).status).toBe(200);
    await eventually('the second call assigned on node 1', () => survivor.assigned.length === 2, 5_000);
    for (const bot of doomed) {
      expect(await redis().hget(key(`agent:${bot.user.id}`), 'state')).toBe('available');
      expect(await redis().scard(key(`agent:${bot.user.id}:conns`))).toBe(0);
      expect(await reservationsOf(bot.user.id)).toEqual([]);
    }
  }, 30_000);
});

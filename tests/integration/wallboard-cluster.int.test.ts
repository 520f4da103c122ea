import { connectSocket, type TestSocket } from '../support/socket';
import { createUserAndLogin, type TestApp } from '../support/test-app';
import { sleep, startCluster, type Cluster } from '../support/multiprocess';
import { eventually, testQueues } from './routing-support';

/** Two Switchboard nodes on the same stores: the wallboard's snapshots are rate-limited across both. */
describe('queue snapshots from two nodes', () => {
  let cluster: Cluster;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    cluster = await startCluster(2, { routing: { queuesConfig: testQueues() } });
  }, 30_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await sleep(1_200);
    await cluster?.destroy();
  });

  let counter = 0;
  const call = (node: number) => {
    counter += 1;
    const callSid = `CA${Date.now().toString(16).padStart(16, '0')}${(counter + 0xfeed).toString(16).padStart(16, '0')}`;
    return cluster.webhook(node, '/webhooks/twilio/voice', { CallSid: callSid, AccountSid: cluster.twilio.accountSid, From: `+86139${String(40_000_000 + counter).slice(-8)}`, To: '+862159999999', CallStatus: 'ringing', Direction: 'inbound' });
  };

  it('when calls queue in a burst through both nodes, then supervisors get at most 2 snapshots of the queue in any second in total, and the last one shows the final count', async () => {
    const asApp = { ...cluster.nodes[0].app, url: cluster.nodes[0].url } as TestApp;
    const supervisor = await createUserAndLogin(asApp, 'supervisor');
    const boss = await connectSocket(cluster.nodes[0].url, { token: supervisor.token });
    sockets.push(boss);
    const arrivals: { at: number; waiting: number }[] = [];
    boss.socket.on('queue_snapshot', (payload: { data: { queue: string; waiting: number } }) => {
      if (payload.data.queue === 'general') arrivals.push({ at: Date.now(), waiting: payload.data.waiting });
    });

    // About 2.5 s of changes, every 100 ms, alternating nodes: each node alone would send 1 a second.
    const calls = 24;
    for (let index = 0; index < calls; index += 1) {
      expect((await call(index % 2)).status).toBe(200);
      await sleep(100);
    }
    await eventually('the final count on the wallboard', () => arrivals.at(-1)?.waiting === calls, 5_000);
    await sleep(1_500);
    expect(arrivals.at(-1)!.waiting).toBe(calls);

    for (const [index, arrival] of arrivals.entries()) {
      const inWindow = arrivals.slice(index).filter((other) => other.at - arrival.at < 1_000);
      expect(inWindow.length).toBeLessThanOrEqual(2);
    }
    // Gated across nodes: about one a second in all (per node alone it would be about two).
    const spanSeconds = (arrivals.at(-1)!.at - arrivals[0].at) / 1000;
    expect(arrivals.length).toBeLessThanOrEqual(Math.ceil(spanSeconds) + 1);
  }, 30_000);
});

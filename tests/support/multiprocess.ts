import http from 'node:http';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { standinCredentials, startTwilioStandin, type TwilioStandin } from '../../scripts/standins/twilio-standin';
import { startSwitchboard, type StartOptions, type Switchboard } from '../../src/app';
import { signTwilioWebhook } from '../../src/channels/twilio/twilio-webhook';
import type { Config } from '../../src/platform/config';
import { createLogger } from '../../src/platform/logger';
import { freePort } from '../../scripts/standins/free-port';
import { createUserAndLogin, dropTestStores, testConfig, type TestApp, type TestUser } from './test-app';
import { connectSocket, type TestSocket } from './socket';

/**
 * Several Switchboard "processes" in one test process: each node is a full `startSwitchboard` with
 * its own Mongo and Redis connections, BullMQ workers and Socket.IO gateway, on its own port. They
 * share one config (same database, same Redis key prefix, same PUBLIC_BASE_URL, which is node 0's
 * address) and one Twilio stand-in, so they share state only through MongoDB and Redis, as real
 * processes would. Webhooks are signed for the public URL and posted to any node's local URL, as a
 * load balancer would forward them.
 */
export interface Cluster {
  config: Config;
  twilio: TwilioStandin;
  nodes: ClusterNode[];
  publicUrl: string;
  /** Posts a Twilio-signed form webhook to node `index` (signed for the shared public URL). */
  webhook(index: number, path: string, params: Record<string, string>): Promise<{ status: number; text: string }>;
  /** Creates a user on node 0's services and logs in over HTTP. */
  createAgent(): Promise<TestUser>;
  /** Parameters of a ringing inbound call from a new caller with a new CallSid, for `webhook(…, '/webhooks/twilio/voice', …)`. */
  newCall(): Record<string, string>;
  destroy(): Promise<void>;
}

export interface ClusterNode {
  app: Switchboard;
  url: string;
  port: number;
  killed: boolean;
}

export async function startCluster(size: number, options: Omit<StartOptions, 'log'> = {}): Promise<Cluster> {
  const credentials = standinCredentials();
  const twilio = await startTwilioStandin({ ...credentials, callbackDelayMs: 5 });
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const publicUrl = `http://127.0.0.1:${ports[0]}`;
  const config = testConfig({
    PORT: ports[0],
    PUBLIC_BASE_URL: publicUrl,
    TWILIO_ACCOUNT_SID: credentials.accountSid,
    TWILIO_AUTH_TOKEN: credentials.authToken,
    TWILIO_API_BASE_URL: twilio.url,
    TWILIO_NUMBERS: '+862150000000,+862150000001',
  });
  const nodes: ClusterNode[] = [];
  for (const port of ports) {
    // Same settings, another port: the config object is frozen, so each node gets a copy.
    const app = await startSwitchboard({ ...config, PORT: port }, { ...options, log: createLogger(config.LOG_LEVEL) });
    nodes.push({ app, url: app.url!, port, killed: false });
  }
  let calls = 0;
  const asTestApp = (node: ClusterNode): TestApp => ({ ...node.app, url: node.url, destroy: async () => undefined });
  return {
    config,
    twilio,
    nodes,
    publicUrl,
    async webhook(index, path, params) {
      const response = await fetch(`${nodes[index].url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioWebhook(credentials.authToken, `${publicUrl}${path}`, params) },
        body: new URLSearchParams(params).toString(),
      });
      return { status: response.status, text: await response.text() };
    },
    createAgent: () => createUserAndLogin(asTestApp(nodes[0]), 'agent'),
    newCall() {
      calls += 1;
      const callSid = `CA${Date.now().toString(16).padStart(16, '0')}${calls.toString(16).padStart(16, '0')}`;
      return { CallSid: callSid, AccountSid: twilio.accountSid, From: `+86139${String(10_000_000 + calls).slice(-8)}`, To: '+862159999999', CallStatus: 'ringing', Direction: 'inbound' };
    },
    async destroy() {
      // A killed node's close() finds its stores already gone; bounded so a test never hangs on it.
      // Routing before close(): close() shuts the gateway's Redis adapter while a match may still
      // emit through it, an unhandled rejection (see the report on src/app.ts).
      await Promise.all(nodes.map((node) => Promise.race([node.app.routing?.close().catch(() => undefined), sleep(5_000)])));
      await Promise.all(nodes.map((node) => Promise.race([node.app.close().catch(() => undefined), sleep(5_000)])));
      await dropTestStores(config);
      await twilio.close();
    },
  };
}

/**
 * Kills a node as a crash would, as far as one process can imitate another's death:
 * 1. its Redis command connection is cut first (`disconnect`, no QUIT), so nothing it still runs
 *    (a disconnect handler, a matcher pass, an accept in flight) can write routing state any more;
 * 2. its BullMQ workers are closed with `force` (no waiting for active jobs) and their connections
 *    and the producer's cut: delayed jobs it added stay in Redis for the other nodes' workers;
 * 3. its Mongo connection is force-closed;
 * 4. its HTTP server stops listening and its connections are destroyed, and `dropClients` cuts the
 *    agents' websockets from their side (the server's upgraded sockets are not reachable from
 *    here), as a reset connection would. The node's disconnect handlers then run and fail on the
 *    dead Redis: exactly the cleanup a crash never does.
 * Not imitated: the node's Socket.IO adapter connections stay open until the test ends (closing
 * them makes its in-flight work throw unhandled rejections a dead process would never see), and
 * its in-memory timers keep ticking against the dead connections. Reaches into QueueFactory's
 * private fields: it has no "abort" of its own.
 */
export async function killNode(node: ClusterNode, dropClients: () => void): Promise<void> {
  const { app } = node;
  node.killed = true;
  app.redis.disconnect();
  const queues = app.queues as unknown as { workers: Worker[]; workerConnections: Redis[]; producerConnection?: Redis };
  await Promise.all(queues.workers.map((worker) => worker.close(true).catch(() => undefined)));
  for (const connection of queues.workerConnections) connection.disconnect();
  queues.producerConnection?.disconnect();
  await app.mongo.close(true).catch(() => undefined);
  const server = listeningServer(node.port);
  if (server) {
    server.close();
    server.closeAllConnections();
  }
  dropClients();
}

/** The http.Server listening on `port` in this process (the composition root does not expose it). */
function listeningServer(port: number): http.Server | undefined {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.find((handle): handle is http.Server => handle instanceof http.Server && (handle.address() as { port?: number } | null)?.port === port);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An envelope of a user event as the gateway sends it. */
interface Reservation {
  id: string;
  interactionId: string;
  agentId: string;
}

/**
 * A scripted agent desk on a real socket: takes every offer (accept, a short talk, `work:complete`)
 * while `working`, and records what it saw so a test can check routing's promises:
 * - `overlaps`: an offer that arrived while this desk still held another contact (offered and not
 *   ended, or accepted and not yet completed by us). A voice call fills an agent's capacity, so each
 *   one is either a delivery-order race (the held offer had already timed out and its `offer_ended`
 *   was still on the way) or a real double booking; the test tells them apart from the stored state.
 * - `assigned`: interaction ids of `assigned` events.
 */
export class DeskBot {
  readonly offers: Reservation[] = [];
  readonly assigned: string[] = [];
  readonly overlaps: { held: Reservation; heldPhase: 'pending' | 'active'; offered: Reservation }[] = [];
  readonly failedAccepts: string[] = [];
  readonly failedCompletes: string[] = [];
  awayForMisses = 0;
  working = true;
  private readonly inHand = new Map<string, { reservation: Reservation; phase: 'pending' | 'active'; ignored: boolean }>();
  private readonly tasks = new Set<Promise<void>>();

  private constructor(
    readonly user: TestUser,
    readonly socket: TestSocket,
    readonly node: number,
    private readonly talkMs: number,
  ) {
    socket.socket.on('offer', (event: { data: { reservation: Reservation } }) => this.onOffer(event.data.reservation));
    socket.socket.on('offer_ended', (event: { data: { reservation: Reservation } }) => {
      const held = this.inHand.get(event.data.reservation.id);
      if (held?.phase === 'pending') this.inHand.delete(event.data.reservation.id);
    });
    socket.socket.on('assigned', (event: { data: { reservation: Reservation } }) => this.assigned.push(event.data.reservation.interactionId));
    socket.socket.on('state', (event: { data: { state: string; stateReason?: string } }) => {
      // Under load an offer can expire before the desk answers; three in a row set the agent away.
      // A person would click "available" again; so does the bot, and the test reports how often.
      if (this.working && event.data.state === 'away' && event.data.stateReason === 'missed offers') {
        this.awayForMisses += 1;
        this.track(this.socket.act('state:set', { state: 'available' }).then(() => undefined));
      }
    });
  }

  static async connect(user: TestUser, url: string, node: number, talkMs = 20): Promise<DeskBot> {
    const socket = await connectSocket(url, { token: user.token });
    const bot = new DeskBot(user, socket, node, talkMs);
    const answer = await socket.act('state:set', { state: 'available' });
    if (!answer.ok) throw new Error(`state:set failed: ${JSON.stringify(answer)}`);
    return bot;
  }

  /** Contacts this desk holds right now (pending offers and accepted, uncompleted work). */
  get holding(): Reservation[] {
    return [...this.inHand.values()].map((item) => item.reservation);
  }

  /** Offers that arrived while the desk was not working and are still pending: nobody will answer them. */
  get ignored(): Reservation[] {
    return [...this.inHand.values()].filter((item) => item.ignored && item.phase === 'pending').map((item) => item.reservation);
  }

  private onOffer(reservation: Reservation): void {
    this.offers.push(reservation);
    for (const held of this.inHand.values()) this.overlaps.push({ held: held.reservation, heldPhase: held.phase, offered: reservation });
    this.inHand.set(reservation.id, { reservation, phase: 'pending', ignored: !this.working });
    if (this.working) this.track(this.take(reservation));
  }

  private async take(reservation: Reservation): Promise<void> {
    const accepted = await this.socket.act('offer:accept', { reservationId: reservation.id }).catch((error: Error) => ({ ok: false, error: { message: error.message } }));
    if (!accepted.ok) {
      // Expired before we answered: its offer_ended clears it from our hands.
      this.failedAccepts.push(reservation.id);
      return;
    }
    this.inHand.set(reservation.id, { reservation, phase: 'active', ignored: false });
    await sleep(this.talkMs);
    // Released from our hands before asking: once the server has the request it may offer again.
    this.inHand.delete(reservation.id);
    const completed = await this.socket.act('work:complete', { interactionId: reservation.interactionId }).catch((error: Error) => ({ ok: false, error: { message: error.message } }));
    if (!completed.ok) this.failedCompletes.push(reservation.interactionId);
  }

  private track(task: Promise<void>): void {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  async settle(): Promise<void> {
    while (this.tasks.size) await Promise.allSettled([...this.tasks]);
  }

  close(): void {
    this.socket.close();
  }
}

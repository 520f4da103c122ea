import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { freePort } from '../scripts/standins/free-port';
import { resetStores } from './stores';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { Types } from 'mongoose';
import { Server } from 'socket.io';
import { io as connectClient } from 'socket.io-client';
import { buildServices, startSwitchboard, type Switchboard } from '../src/app';
import { callExternalId } from '../src/channels/voice/voice.context';
import type { Config } from '../src/platform/config';
import type { Logger } from '../src/platform/logger';
import { connectMongo, withCommandMonitoring } from '../src/platform/mongo';
import { QueueFactory } from '../src/platform/queues';
import { createRedis } from '../src/platform/redis';
import { createRouting, type RoutingModule } from '../src/routing';
import { RoutingStore, type StoredReservation } from '../src/routing/routing.store';
import { standinCredentials, startTwilioStandin, type TwilioStandin } from '../scripts/standins/twilio-standin';
import { CallCostMeter, type CallCosts } from './call-costs';
import type { ClientReply, ClientRequest } from './pop-client';
import { describeMachine, type Machine } from './report';
import { measure, summarize, type LatencySummary } from './stats';

/**
 * The realtime group of `npm run bench`: how fast an offer reaches an agent's screen, and what one
 * routing decision costs.
 *
 * 1. Floor: a bare Socket.IO server and client in this process, emit with acknowledgement (one
 *    round trip over a local websocket), so the rows below can be read against what the transport
 *    alone costs here.
 * 2. Screen pop: the whole app in-process (`startSwitchboard`, Twilio stand-in); 200 agent sockets
 *    (real socket.io-client, websocket transport) all available, and the webhook sender, in a
 *    client process of their own (bench/pop-client.ts, as on a real floor where the agents' browsers
 *    and Twilio are other machines); calls arrive as signed
 *    voice webhooks at a fixed rate (open loop: a send never waits for the previous answer); each
 *    latency runs from just before the webhook POST to the moment the agent's socket receives
 *    `offer` (so it includes the webhook, the customer and interaction writes, the enqueue, the
 *    match, the offer timer, the screen pop reads, the event log and the Socket.IO emit). Agents
 *    accept and complete at once, so capacity frees as in a live floor.
 * 3. Routing decision: a RoutingModule of its own (no gateway listening), 1,000 available agents
 *    whose profiles serve queue `live`, 10,000 contacts waiting in `backlog` that no agent serves.
 *    One sample = enqueue one contact in `live` → the `offer` event is emitted (claim written, its
 *    timeout job scheduled); then it is cancelled, untimed. And the atomic claim script alone.
 */

export interface RealtimeRow extends LatencySummary {
  id: string;
  title: string;
  does: string;
  /** Target for p99, when the issue sets one. */
  targetP99Ms?: number;
  pass?: boolean;
  /** Contacts sent per second (screen-pop rows). */
  ratePerSec?: number;
  /** Contacts sent / offers received in time (screen-pop rows). */
  sent?: number;
  received?: number;
  /** Store commands and CPU per contact while the row ran (screen-pop rows). */
  costs?: CallCosts;
  truncated: boolean;
}

export interface RealtimeResult {
  database: string;
  startedAt: string;
  finishedAt: string;
  loadAverage: { start: number; end: number };
  setup: { agents: number; matchAgents: number; matchBacklog: number; reservationTimeoutSeconds: number };
  rows: RealtimeRow[];
  notes: string[];
}

export interface RealtimeOptions {
  database: string;
  agents: number;
  /** Screen-pop rows: contacts per second and seconds of sending. */
  rates: { perSecond: number; seconds: number }[];
  matchAgents: number;
  matchBacklog: number;
  maxSeconds: number;
  progress(line: string): void;
}

export const defaultRealtime: Omit<RealtimeOptions, 'database' | 'progress'> = {
  agents: 200,
  rates: [
    { perSecond: 5, seconds: 10 },
    { perSecond: 20, seconds: 15 },
    { perSecond: 100, seconds: 5 },
  ],
  matchAgents: 1_000,
  matchBacklog: 10_000,
  maxSeconds: 25,
};

const redisPrefix = 'sbbench-rt:';
const reservationTimeoutSeconds = 60;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();

const voiceQueue = (name: string) => ({
  name, channels: ['voice'], strategy: 'longest-idle', skills: {}, tierBonusSeconds: { standard: 0, gold: 60, vip: 180 },
  reservationTimeoutSeconds, wrapUpSeconds: 0, serviceLevelSeconds: 20,
});
const benchQueues = { defaultQueue: 'live', channelQueues: {}, queues: [voiceQueue('live'), voiceQueue('backlog')] };



function row(base: Omit<RealtimeRow, keyof LatencySummary | 'truncated' | 'pass'>, durations: Float64Array, truncated: boolean): RealtimeRow {
  const summary = summarize(durations);
  return { ...base, ...summary, truncated, ...(base.targetP99Ms !== undefined ? { pass: summary.p99Ms < base.targetP99Ms } : {}) };
}

/** 1. A bare Socket.IO round trip: client emit → server handler → acknowledgement back. */
async function socketFloor(options: RealtimeOptions): Promise<RealtimeRow> {
  const server = http.createServer();
  const ioServer = new Server(server, { serveClient: false });
  ioServer.on('connection', (socket) => socket.on('echo', (value: number, ack: (value: number) => void) => ack(value)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = connectClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('connect_error', reject);
    });
    const measured = await measure<number, number>(
      {
        input: (iteration) => iteration,
        call: (value) => client.timeout(5_000).emitWithAck('echo', value) as Promise<number>,
        check: (value, echoed) => {
          if (echoed !== value) throw new Error(`echo returned ${echoed} for ${value}`);
        },
      },
      { warmup: 200, samples: 2_000, maxSeconds: options.maxSeconds },
    );
    return row(
      { id: 'socketio-floor', title: 'Floor: bare Socket.IO round trip', does: 'a plain Socket.IO server and client in this process, websocket transport: `emitWithAck` → server handler → acknowledgement; no app, no Redis adapter' },
      measured.durationsMs,
      measured.truncated,
    );
  } finally {
    client.disconnect();
    await new Promise<void>((resolve) => ioServer.close(() => resolve()));
  }
}

/**
 * Bench agents: users inserted directly (a fixture, like the dataset loader: 200 argon2 hashes and
 * logins would take most of a minute here) and tokens signed with the config's secret in the
 * shape AuthService.login signs them; the gateway authenticates them the normal way.
 */
async function benchAgents(app: Switchboard, count: number): Promise<{ id: string; token: string }[]> {
  const ids = Array.from({ length: count }, () => new Types.ObjectId().toHexString());
  const at = new Date();
  await app.mongo.collection('users').insertMany(
    ids.map((id, index) => ({ _id: id as never, email: `bench-rt-agent-${index}-${id}@bench.switchboard.local`, name: `Bench Agent ${index}`, role: 'agent', passwordHash: 'not-a-hash: bench agents never log in', active: true, locale: 'en', createdAt: at, updatedAt: at })),
  );
  return ids.map((id) => ({ id, token: jwt.sign({ role: 'agent', name: 'Bench Agent' }, app.config.AUTH_TOKEN_SECRET!, { subject: id, expiresIn: '1h', algorithm: 'HS256' }) }));
}

/** The callers and agents in their own process (bench/pop-client.ts): one request, one reply at a time. */
class PopClient {
  private constructor(private readonly child: ChildProcess) {}

  static start(): PopClient {
    return new PopClient(fork(path.join(__dirname, 'pop-client.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  ask(request: ClientRequest): Promise<ClientReply> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`bench pop client exited (${code})`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply: ClientReply) => {
        this.child.off('exit', onExit);
        if (reply.type === 'error') reject(new Error(`bench pop client: ${reply.message}`));
        else resolve(reply);
      });
      this.child.send(request);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'close' } satisfies ClientRequest);
    await Promise.race([exited, sleep(5_000).then(() => void this.child.kill())]);
  }
}

/** 2. Signed call webhooks at a fixed rate; latency until the agent's socket has the offer. */
async function screenPopRows(options: RealtimeOptions, configFor: (database: string, overrides: Record<string, string | number>) => Config, log: Logger): Promise<{ rows: RealtimeRow[]; machine: Machine; notes: string[] }> {
  const { progress } = options;
  const credentials = standinCredentials();
  let twilio: TwilioStandin | undefined;
  let app: Switchboard | undefined;
  let client: PopClient | undefined;
  const notes: string[] = [];
  try {
    twilio = await startTwilioStandin({ ...credentials, callbackDelayMs: 5 });
    const port = await freePort();
    const publicBaseUrl = `http://127.0.0.1:${port}`;
    const configured = configFor(options.database, {
      PORT: port, PUBLIC_BASE_URL: publicBaseUrl, SMTP_PORT: 0, REDIS_KEY_PREFIX: redisPrefix,
      TWILIO_ACCOUNT_SID: credentials.accountSid, TWILIO_AUTH_TOKEN: credentials.authToken, TWILIO_API_BASE_URL: twilio.url, TWILIO_NUMBERS: '+862150000000',
    });
    const config = { ...configured, MONGODB_URI: withCommandMonitoring(configured.MONGODB_URI) };
    await resetStores(config.MONGODB_URI, config.REDIS_URL, redisPrefix);
    app = await startSwitchboard(config, { log, routing: { queuesConfig: benchQueues } });
    const meter = new CallCostMeter(app.mongo, app.redis);
    const machine = await describeMachine(app.mongo, app.redis, config.MONGODB_URI);
    const started = app;
    progress(`realtime: connecting ${options.agents} agents (in a client process of their own)`);
    client = PopClient.start();
    await client.ask({ type: 'connect', url: started.url!, agents: await benchAgents(started, options.agents) });

    const webhook = { baseUrl: started.url!, publicBaseUrl, authToken: credentials.authToken, accountSid: credentials.accountSid };
    const runRate = async (perSecond: number, seconds: number) => {
      const reply = await client!.ask({ type: 'run', perSecond, seconds, webhook });
      if (reply.type !== 'result') throw new Error(`bench pop client answered ${reply.type} to run`);
      const { calls, offers, wallSeconds } = reply.result;
      const offerOf = new Map(offers.map((offer) => [offer.interactionId, offer]));
      const durations: number[] = [];
      let doubled = 0;
      for (const call of calls) {
        const key = call.ok ? await started.services.interactions.findByExternalId(callExternalId(call.callSid)) : null;
        const offer = key ? offerOf.get(key.interactionId) : undefined;
        if (offer) durations.push(offer.at - call.sentAt);
        if (offer && offer.count > 1) doubled += 1;
      }
      const failures = calls.flatMap((call) => (call.failure ? [call.failure] : []));
      return { durations: Float64Array.from(durations), webhook: summarize(Float64Array.from(calls.map((call) => call.answeredMs))), sent: calls.length, failures, doubled, wallSeconds };
    };

    progress('realtime: warm-up, 20 calls at 10/s');
    await runRate(10, 2);
    const rows: RealtimeRow[] = [];
    for (const { perSecond, seconds } of options.rates) {
      progress(`realtime: screen pop at ${perSecond} calls/s for ${seconds} s`);
      const load = os.loadavg()[0];
      await meter.begin();
      const result = await runRate(perSecond, seconds);
      // The accepts and completions of the last calls are part of their cost.
      await sleep(1_000);
      const costs = await meter.end(result.sent);
      const missing = result.sent - result.durations.length;
      if (!result.durations.length) throw new Error(`no offer arrived at ${perSecond}/s`);
      rows.push(
        row(
          {
            id: `screen-pop-${perSecond}`,
            title: `Screen pop: call webhook → agent socket has the offer, ${perSecond} calls/s`,
            does:
              `${result.sent} signed voice webhooks (new callers) sent open-loop at ${perSecond}/s to the app with ${options.agents} agent sockets available; ` +
              `latency from just before the POST to the client's \`offer\` event; agents accept and complete at once; ` +
              `the webhook itself was answered in p50 ${result.webhook.p50Ms.toFixed(1)} / p99 ${result.webhook.p99Ms.toFixed(1)} ms; ${missing} never offered within 20 s, ${result.doubled} offered more than once, ${result.failures.length} webhook failures; 1-min load ${load.toFixed(1)} before the row`,
            ...(perSecond === 20 ? { targetP99Ms: 50 } : {}),
            ratePerSec: perSecond,
            sent: result.sent,
            received: result.durations.length,
            costs,
          },
          result.durations,
          missing > 0,
        ),
      );
      if (missing > 0 || result.doubled > 0 || result.failures.length > 0) notes.push(`Screen pop at ${perSecond}/s: ${missing} calls not offered in time, ${result.doubled} offered twice, ${result.failures.length} webhook failures (${[...new Set(result.failures)].slice(0, 3).join('; ')}).`);
    }
    return { rows, machine, notes };
  } finally {
    await client?.close();
    // Routing first: app.close() closes the gateway's Redis adapter before routing, and an offer a
    // still-running match emits then is an unhandled rejection that ends the process (reported).
    await app?.routing?.close();
    await app?.close();
    await twilio?.close();
  }
}

/** 3. One routing decision with a large floor: 1,000 available agents, 10,000 contacts waiting elsewhere. */
async function routingRows(options: RealtimeOptions, configFor: (database: string, overrides: Record<string, string | number>) => Config, log: Logger): Promise<RealtimeRow[]> {
  const { progress } = options;
  const prefix = `${redisPrefix}match:`;
  const config = configFor(options.database, { REDIS_KEY_PREFIX: prefix });
  const mongo = await connectMongo(config.MONGODB_URI, log);
  const redis = createRedis(config.REDIS_URL);
  const queues = new QueueFactory(config.REDIS_URL, prefix, log, true);
  let routing: RoutingModule | undefined;
  try {
    await Promise.all(Object.values(mongo.models).map((model) => model.init()));
    const services = buildServices(config, { mongo, redis, log });
    routing = createRouting({ config, log, redis, mongo, queues, interactions: services.interactions, customers: services.customers }, { queuesConfig: benchQueues });
    const offers = new Map<string, (reservation: StoredReservation | { id: string }) => void>();
    routing.onEvent((event) => {
      if (event.type === 'offer') offers.get(event.reservation.interactionId)?.(event.reservation);
    });
    const store = new RoutingStore(redis, prefix);

    progress(`realtime: routing floor of ${options.matchAgents} agents and ${options.matchBacklog} waiting contacts`);
    const agentIds = Array.from({ length: options.matchAgents }, () => new Types.ObjectId().toHexString());
    for (let start = 0; start < agentIds.length; start += 50) {
      await Promise.all(agentIds.slice(start, start + 50).map((agentId) => routing!.profiles.save({ agentId, queues: ['live'] })));
    }
    const enqueuedAt = Date.now();
    for (let start = 0; start < options.matchBacklog; start += 1_000) {
      await Promise.all(
        Array.from({ length: Math.min(1_000, options.matchBacklog - start) }, (_, offset) => {
          const interactionId = new Types.ObjectId().toHexString();
          return store.enqueue({ interactionId, queue: 'backlog', channel: 'voice', customerId: new Types.ObjectId().toHexString(), score: enqueuedAt + start + offset, enqueuedAt });
        }),
      );
    }
    await routing.start();
    for (let start = 0; start < agentIds.length; start += 50) {
      await Promise.all(agentIds.slice(start, start + 50).map((agentId) => routing!.desk.setAgentState(agentId, 'available')));
    }
    const waitingBacklog = await store.waitingCount('backlog');
    if (waitingBacklog !== options.matchBacklog) throw new Error(`backlog holds ${waitingBacklog}, expected ${options.matchBacklog}`);
    await sleep(500);

    const customerId = new Types.ObjectId().toHexString();
    const matched = await measure<string, { id: string }>(
      {
        input: () => new Types.ObjectId().toHexString(),
        call: (interactionId) =>
          new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no offer for ${interactionId} within 10 s`)), 10_000);
            offers.set(interactionId, (reservation) => {
              clearTimeout(timer);
              offers.delete(interactionId);
              resolve(reservation);
            });
            routing!.enqueue({ interactionId, customerId, channel: 'voice', queue: 'live' }).catch(reject);
          }),
        check: (interactionId, reservation) => {
          if (!reservation.id) throw new Error(`no reservation for ${interactionId}`);
          // Untimed: the offer is rescinded and the contact removed, so every sample starts alike.
          void routing!.cancel(interactionId, 'bench');
        },
      },
      { warmup: 10, samples: 300, maxSeconds: options.maxSeconds },
    );
    const backlogAfter = await store.waitingCount('backlog');

    // The claim alone: the atomic Lua check-and-write every offer goes through, on the same state.
    // The last cancel ran unawaited: let it land, then claim for an agent with nothing in hand.
    await sleep(1_000);
    let agentId = agentIds[0];
    for (const candidate of agentIds) {
      if ((await store.agent(candidate)).load === 0) {
        agentId = candidate;
        break;
      }
    }
    const claimDurations: number[] = [];
    const claimDeadline = now() + options.maxSeconds * 1000;
    for (let index = 0; index < 2_200 && now() < claimDeadline; index += 1) {
      const interactionId = new Types.ObjectId().toHexString();
      const at = new Date();
      const reservation: StoredReservation = {
        id: new Types.ObjectId().toHexString(), interactionId, agentId, queue: 'live', channel: 'voice', state: 'pending',
        offeredAt: at.toISOString(), expiresAt: new Date(at.getTime() + 60_000).toISOString(), weight: 100,
      };
      await store.enqueue({ interactionId, queue: 'live', channel: 'voice', customerId, score: Date.now(), enqueuedAt: Date.now() });
      const began = now();
      const outcome = await store.claim({ reservation, expiresAtMs: at.getTime() + 60_000 });
      const took = now() - began;
      if (outcome !== 'ok') throw new Error(`claim answered ${outcome}`);
      if (index >= 200) claimDurations.push(took);
      await store.release(reservation, { state: 'rescinded', requeue: false, countMiss: false, maxMissed: 3 });
    }
    return [
      row(
        {
          id: 'routing-match',
          title: `Routing decision: enqueue → offer, ${options.matchAgents.toLocaleString('en-US')} agents available, ${options.matchBacklog.toLocaleString('en-US')} waiting elsewhere`,
          does:
            `\`routing.enqueue\` of one voice contact into queue \`live\` until routing emits its \`offer\` (the Matcher reads the queue head and every available agent's state and profile, ranks them longest-idle, runs the claim script, schedules the offer's timeout job); ` +
            `${options.matchAgents} agents with profiles serving \`live\` are available, ${options.matchBacklog} contacts wait in \`backlog\`, which none of them serves (still ${backlogAfter} after the row); no gateway listens; the offer is cancelled untimed after each sample`,
        },
        matched.durationsMs,
        matched.truncated,
      ),
      row(
        {
          id: 'routing-claim',
          title: 'Routing claim script alone (Lua check-and-reserve)',
          does: `\`RoutingStore.claim\` for a waiting contact and an available agent on the same Redis state (${options.matchBacklog} waiting in another queue, ${options.matchAgents} agents): the atomic re-check of contact, agent and capacity and the reservation write; enqueue and release untimed; 200 warm-up`,
        },
        Float64Array.from(claimDurations),
        claimDurations.length < 2_000,
      ),
    ];
  } finally {
    await routing?.close();
    await queues.close();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      keys.push(...found);
      cursor = next;
    } while (cursor !== '0');
    for (let start = 0; start < keys.length; start += 1000) await redis.del(...keys.slice(start, start + 1000));
    await redis.quit().catch(() => redis.disconnect());
    await mongo.close();
  }
}

export async function runRealtime(
  options: RealtimeOptions,
  configFor: (database: string, overrides: Record<string, string | number>) => Config,
  log: Logger,
): Promise<{ result: RealtimeResult; machine: Machine }> {
  const startedAt = new Date().toISOString();
  const loadStart = os.loadavg()[0];
  options.progress('realtime: Socket.IO floor');
  const floor = await socketFloor(options);
  const pops = await screenPopRows(options, configFor, log);
  const routing = await routingRows(options, configFor, log);
  return {
    machine: pops.machine,
    result: {
      database: options.database,
      startedAt,
      finishedAt: new Date().toISOString(),
      loadAverage: { start: loadStart, end: os.loadavg()[0] },
      setup: { agents: options.agents, matchAgents: options.matchAgents, matchBacklog: options.matchBacklog, reservationTimeoutSeconds },
      rows: [floor, ...pops.rows, ...routing],
      notes: [
        ...pops.notes,
        'The agents\' sockets and the webhook sender run in a Node process of their own (bench/pop-client.ts), but on this machine: they, the app, FerretDB and Redis share its 2 cores. Until this run\'s version they lived in the app\'s process, so older screen-pop figures include time the app waited behind the bench\'s own sockets.',
      ],
    },
  };
}

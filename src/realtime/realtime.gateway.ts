import type http from 'node:http';
import { reportRedisOutages } from '../platform/store-outage';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { Server, type ExtendedError } from 'socket.io';
import type { AuthService } from '../auth';
import type { CustomerService } from '../customers';
import type { InteractionService } from '../interactions';
import type { Config } from '../platform/config';
import { AppError } from '../platform/errors';
import type { Principal } from '../platform/http/principal';
import type { Logger } from '../platform/logger';
import { createRedis } from '../platform/redis';
import type { AgentDesk, RoutingEvent } from '../routing/routing.contracts';
import { EventLog, type Replay } from './event-log.repository';
import { InteractionUpdates } from './interaction-updates';
import { KeyedThrottle, QueueSnapshotGate } from './queue-throttle';
import { deskRoles, registerActions, supervisorRoles, type GatewaySocket, type ReplySender, type SocketData } from './realtime.handlers';
import { lastEventIdSchema } from './realtime.schemas';
import type { OpenTaskReader, ScreenPop } from './screen-pop';
import { ScreenPopService } from './screen-pop.service';
import { SmsConsentReader } from './sms-consent.repository';

export interface RealtimeDeps {
  config: Config;
  log: Logger;
  redis: Redis;
  auth: AuthService;
  customers: CustomerService;
  interactions: InteractionService;
  desk: AgentDesk;
  /** Optional: lets the screen pop read SMS opt-outs; without it `smsOptedOut` is null. */
  mongo?: Connection;
  /** Optional: the screen pop lists the customer's open tasks; without it `openTasks` is empty. */
  tasks?: OpenTaskReader;
  /** Optional: the channels' reply path, for `work:reply`; without it the action answers `unavailable`. */
  reply?: ReplySender;
}

/** A room event is a nudge to refetch or a current state, not a log entry: it has no replayable id. */
export interface RoomEvent<Data = unknown> {
  id: null;
  at: string;
  data: Data;
}

export interface RealtimeGateway {
  /** Serves Socket.IO on this HTTP server (path /socket.io). Events can be sent before, to other nodes. */
  attach(server: http.Server): Promise<void>;
  /** Carries a routing event to the sockets it concerns; the composition root calls it from routing's onEvent. */
  deliver(event: RoutingEvent): Promise<void>;
  /** Logs the event in the user's stream, then sends it to every socket of the user on every node. */
  toUser(userId: string, event: string, payload: unknown): Promise<string>;
  toRoom(room: string, event: string, payload: unknown): Promise<void>;
  buildScreenPop(interactionId: string): Promise<ScreenPop>;
  /**
   * Closes the user's sockets on this node (their sessions ended: disabled, role changed, signed out
   * everywhere). Every node calls it for the same change (auth's Redis channel), so all close.
   */
  disconnectUser(userId: string): void;
  close(): Promise<void>;
}

// queue_changed is a nudge for wallboards; more than one a second per queue is noise.
const queueChangedIntervalMs = 1000;

const userRoom = (userId: string) => `user:${userId}`;
// setTimeout's largest delay; a token living longer is cut then, and the client signs in again.
const maxTimerMs = 2 ** 31 - 1;
const signedOutNotice = { code: 'unauthenticated', message: 'Your session has ended; sign in again' };

/** The Socket.IO gateway: authenticated connections, rooms, per-user event log and replay, agent actions. */
export function createRealtimeGateway(deps: RealtimeDeps): RealtimeGateway {
  const log = deps.log.child({ module: 'realtime' });
  const events = new EventLog(deps.redis, deps.config.REDIS_KEY_PREFIX);
  const pops = new ScreenPopService(deps.customers, deps.interactions, deps.mongo ? new SmsConsentReader(deps.mongo) : undefined, log, deps.tasks);

  // The adapter needs its own two connections: one publishes, the other sits in subscriber mode.
  const pub = createRedis(deps.config.REDIS_URL);
  const sub = createRedis(deps.config.REDIS_URL);
  for (const [name, client] of [['realtime-pub', pub], ['realtime-sub', sub]] as const) reportRedisOutages(client, log, name);
  // The adapter publishes without awaiting: with Redis down every emit to a room would be an
  // unhandled rejection (main.ts logs each as an error; a process without that handler ends). The fan-out to other nodes is best-effort (a
  // desk that missed a push gets its snapshot on reconnect); this node's own sockets still get it.
  const publish = pub.publish.bind(pub) as (channel: string, message: string | Buffer) => Promise<number>;
  pub.publish = ((channel: string, message: string | Buffer) => {
    const published = publish(channel, message);
    published.catch(() => undefined);
    return published;
  }) as typeof pub.publish;
  // Created unattached so any process (a worker running routing, too) can emit through the adapter.
  const io = new Server<Record<string, (...args: any[]) => void>, Record<string, (...args: any[]) => void>, Record<string, never>, SocketData>({
    serveClient: false,
    adapter: createAdapter(pub, sub, { key: `${deps.config.REDIS_KEY_PREFIX}socket.io` }),
  });

  const queueChanges = new KeyedThrottle(queueChangedIntervalMs, (queue) => {
    const payload = { queue };
    Promise.all([toRoom('supervisors', 'queue_changed', payload), toRoom(`queue:${queue}`, 'queue_changed', payload)]).catch((error) =>
      log.warn({ err: error, queue }, 'queue change not sent'),
    );
    // The wallboard's figures ride on the same throttle, then through a gate shared by all nodes.
    snapshots.push(queue);
  });
  const snapshots = new QueueSnapshotGate({
    redis: deps.redis,
    keyPrefix: deps.config.REDIS_KEY_PREFIX,
    intervalMs: queueChangedIntervalMs,
    publish: async (queue) => {
      if (!deps.desk.queueSnapshot || stopped) return;
      const snapshot = await deps.desk.queueSnapshot(queue);
      await Promise.all([toRoom('supervisors', 'queue_snapshot', snapshot), toRoom(`queue:${queue}`, 'queue_snapshot', snapshot)]);
    },
    onError: (error, queue) => log.warn({ err: error, queue }, 'queue snapshot not sent'),
  });

  // Set when close() begins: emitting through a closed adapter rejects where nobody can catch it.
  let stopped = false;

  // Logged per user (not a room event): an agent who reconnects gets what their customers sent meanwhile.
  const updates = new InteractionUpdates(deps.redis, deps.config.REDIS_KEY_PREFIX, (agentId, update) => toUser(agentId, 'interaction_updated', update));
  deps.interactions.onChange((change) => updates.onChange(change), 'best-effort', 'realtime-interaction-updates');

  async function toUser(userId: string, event: string, payload: unknown): Promise<string> {
    // Logged first: a socket that misses the live emit (reconnecting right now) finds it in the replay.
    const logged = await events.append(userId, event, payload);
    // While stopping, the event stays in the log: the agent's reconnect to another node replays it.
    if (!stopped) io.to(userRoom(userId)).emit(event, logged);
    return logged.id;
  }

  async function toRoom(room: string, event: string, payload: unknown): Promise<void> {
    if (stopped) return;
    const envelope: RoomEvent = { id: null, at: new Date().toISOString(), data: payload };
    io.to(room).emit(event, envelope);
  }

  async function replayFor(principal: Principal, lastEventId: string): Promise<Replay & { snapshot?: unknown }> {
    const replay = await events.readAfter(principal.id, lastEventId);
    if (replay.complete || !deskRoles.has(principal.role)) return replay;
    return { ...replay, snapshot: await deps.desk.snapshot(principal.id) };
  }

  // When a user's sessions last ended on this node, to close a socket whose handshake was checked just before.
  const sessionsEndedAt = new Map<string, number>();
  const handshakeAt = new WeakMap<object, number>();
  function disconnectUser(userId: string): void {
    sessionsEndedAt.delete(userId);
    sessionsEndedAt.set(userId, Date.now());
    // Bounded: only the last minute matters (a handshake takes milliseconds).
    for (const [id, at] of sessionsEndedAt) {
      if (sessionsEndedAt.size <= 1_000 && at > Date.now() - 60_000) break;
      sessionsEndedAt.delete(id);
    }
    const room = io.local.in(userRoom(userId));
    room.emit('error_notice', signedOutNotice);
    room.disconnectSockets(true);
  }

  io.use((socket, next) => {
    handshakeAt.set(socket, Date.now());
    const token: unknown = socket.handshake.auth?.token;
    const signedIn =
      typeof token === 'string' && token !== ''
        ? deps.auth.authenticate({ bearer: token })
        : Promise.reject(new AppError('unauthenticated', 'No token was sent'));
    signedIn
      .then((principal) => {
        socket.data = { principal, token: token as string };
        next();
      })
      .catch((error: unknown) => next(handshakeError(error, log)));
  });

  io.on('connection', (socket: GatewaySocket) => {
    const { principal } = socket.data;
    const context = { userId: principal.id, socketId: socket.id, role: principal.role };
    // Handlers first, before any await, so an action sent right after connecting is not dropped.
    registerActions(socket, { auth: deps.auth, desk: deps.desk, log, sync: replayFor, ...(deps.reply ? { reply: deps.reply } : {}) });
    // The socket lives no longer than its token: past expiry it would keep its rooms unchecked.
    const expiresAt = deps.auth.tokenExpiresAt(socket.data.token);
    const expiry =
      expiresAt === undefined
        ? undefined
        : setTimeout(() => {
            log.info(context, 'socket token expired');
            socket.emit('error_notice', signedOutNotice);
            socket.disconnect(true);
          }, Math.min(Math.max(expiresAt - Date.now(), 0), maxTimerMs));
    socket.on('disconnect', (reason) => {
      clearTimeout(expiry);
      log.info({ ...context, reason }, 'socket disconnected');
      if (deskRoles.has(principal.role)) {
        deps.desk.agentDisconnected(principal.id, socket.id).catch((error) => log.warn({ err: error, ...context }, 'agent disconnect not recorded'));
      }
    });
    onConnected(socket, principal).catch((error) => {
      log.error({ err: error, ...context }, 'socket setup failed');
      socket.emit('error_notice', { code: 'internal', message: 'Your connection could not be set up; reconnecting' });
      socket.disconnect(true);
    });
  });

  /**
   * Rooms, then the replay, then the snapshot. Joining before reading the log means an event sent
   * in between may arrive both live and in the replay: clients drop events whose id is not newer
   * than the last one they applied (ids are ordered), so nothing is lost and nothing applied twice.
   */
  async function onConnected(socket: GatewaySocket, principal: Principal): Promise<void> {
    const rooms = [userRoom(principal.id)];
    if (supervisorRoles.has(principal.role)) rooms.push('supervisors');
    if (principal.role === 'department' && principal.departmentId) rooms.push(`department:${principal.departmentId}`);
    await socket.join(rooms);
    // Sessions ended between this socket's handshake check and its join: the room close missed it.
    if ((sessionsEndedAt.get(principal.id) ?? 0) >= (handshakeAt.get(socket) ?? 0)) {
      socket.emit('error_notice', signedOutNotice);
      socket.disconnect(true);
      return;
    }
    log.info({ userId: principal.id, socketId: socket.id, role: principal.role }, 'socket connected');

    // A malformed lastEventId is treated as none: the snapshot below rebuilds the screen anyway.
    const lastEventId = lastEventIdSchema.safeParse(socket.handshake.auth?.lastEventId);
    if (lastEventId.success) {
      // `complete: false` tells the client the log no longer reaches back: rebuild (snapshot, refetch).
      socket.emit('replay', await events.readAfter(principal.id, lastEventId.data));
    }
    if (deskRoles.has(principal.role)) {
      const position = await events.latestId(principal.id);
      const snapshot = await deps.desk.agentConnected(principal.id, socket.id);
      // `id` is where in the event log this snapshot stands; the client continues from there.
      socket.emit('snapshot', { id: position, at: new Date().toISOString(), data: snapshot });
    }
  }

  async function deliver(event: RoutingEvent): Promise<void> {
    switch (event.type) {
      case 'offer': {
        const pop = await pops.build(event.reservation.interactionId, event.customerId).catch((error: unknown) => {
          // The offer matters more than its context: send it without a pop rather than not at all.
          log.warn({ err: error, interactionId: event.reservation.interactionId, reservationId: event.reservation.id }, 'screen pop failed');
          return null;
        });
        await toUser(event.agentId, 'offer', { reservation: event.reservation, pop });
        log.info({ agentId: event.agentId, reservationId: event.reservation.id, interactionId: event.reservation.interactionId }, 'offer delivered');
        return;
      }
      case 'offer_ended':
      case 'assigned':
        await toUser(event.agentId, event.type, { reservation: event.reservation });
        return;
      case 'agent_state':
        await toUser(event.agentId, 'state', event.snapshot);
        await toRoom('supervisors', 'agent_state', event.snapshot);
        return;
      case 'queue_changed':
        queueChanges.push(event.queue);
        return;
    }
  }

  let attached = false;
  let closing: Promise<void> | undefined;
  return {
    async attach(server) {
      if (attached) throw new Error('realtime gateway is already attached to a server');
      attached = true;
      io.attach(server);
      // Commands on one connection run in order: once this ping answers, the adapter's subscriptions
      // are live, so events from other nodes are not missed right after start.
      await sub.ping();
    },
    deliver,
    toUser,
    toRoom,
    buildScreenPop: (interactionId) => pops.build(interactionId),
    disconnectUser,
    close: () =>
      (closing ??= (async () => {
        stopped = true;
        queueChanges.close();
        snapshots.close();
        // Not io.close(): that would also close the HTTP server, which belongs to the composition root.
        io.local.disconnectSockets(true);
        await io.of('/').adapter.close();
        if (attached) io.engine.close();
        await Promise.all([pub, sub].map((client) => client.quit().catch(() => client.disconnect())));
        log.info('realtime gateway stopped');
      })()),
  };
}

/** A refused handshake: the client sees `connect_error` with this message and `err.data.code`. */
function handshakeError(error: unknown, log: Logger): ExtendedError {
  const known = error instanceof AppError;
  if (!known) log.error({ err: error }, 'socket handshake failed');
  const code = known ? error.code : 'unavailable';
  const message =
    code === 'unauthenticated'
      ? `${(error as AppError).message.replace(/[.;]?\s*sign in again$/i, '')}. Sign in again and connect with the token in auth.token.`
      : 'The server could not check your sign-in right now; retry shortly';
  return Object.assign(new Error(message), { data: { code } });
}


import type { Socket } from 'socket.io';
import type { z } from 'zod';
import type { AuthService } from '../auth';
import { AppError, type ErrorCode } from '../platform/errors';
import type { Principal, Role } from '../platform/http/principal';
import type { Logger } from '../platform/logger';
import { parseOrThrow } from '../platform/validation';
import type { AgentDesk } from '../routing/routing.contracts';
import type { Replay } from './event-log.repository';
import { completeWorkSchema, queueRoomSchema, replySchema, reservationSchema, setStateSchema, syncSchema, transferWorkSchema } from './realtime.schemas';

export interface SocketData {
  principal: Principal;
  /** Kept to re-check the account on every action: a disabled user loses the socket at once. */
  token: string;
}

export type GatewaySocket = Socket<Record<string, (...args: any[]) => void>, Record<string, (...args: any[]) => void>, Record<string, never>, SocketData>;

export type Ack = { ok: true; data: unknown } | { ok: false; error: { code: ErrorCode; message: string; details?: unknown } };

/** Users who sit at a desk and take contacts; supervisors act on their own desk only. */
export const deskRoles: ReadonlySet<Role> = new Set(['agent', 'supervisor']);
export const supervisorRoles: ReadonlySet<Role> = new Set(['supervisor', 'admin']);
const everyone: ReadonlySet<Role> = new Set(['agent', 'supervisor', 'admin', 'department']);
const frontLine: ReadonlySet<Role> = new Set(['agent', 'supervisor', 'admin']);

/**
 * Every socket action and the roles allowed to send it: the one list `registerActions` checks, and
 * the source of the role table in docs/security.md (`npm run docs:security`).
 */
export const socketActions = {
  'state:set': deskRoles,
  'offer:accept': deskRoles,
  'offer:reject': deskRoles,
  'work:complete': deskRoles,
  'work:transfer': deskRoles,
  'work:reply': frontLine,
  sync: everyone,
  'queue:join': supervisorRoles,
  'queue:leave': supervisorRoles,
} as const satisfies Record<string, ReadonlySet<Role>>;

export type SocketAction = keyof typeof socketActions;

/**
 * Sends a reply on the contact's channel (the same path as `POST /api/interactions/:id/replies`); it
 * decides whether the author may (an agent only on a contact they hold) and refuses with `forbidden`.
 */
export type ReplySender = (input: { interactionId: string; text: string; author: Pick<Principal, 'id' | 'role'> }) => Promise<{ entryId: string; status: string }>;

export interface HandlerDeps {
  auth: AuthService;
  desk: AgentDesk;
  log: Logger;
  /** Missed events since `lastEventId`, plus a snapshot when the log has a gap and the user has a desk. */
  sync(principal: Principal, lastEventId: string): Promise<Replay & { snapshot?: unknown }>;
  /** Absent on a gateway built without channels: `work:reply` then answers `unavailable`. */
  reply?: ReplySender;
}

/** Maps any failure to an acknowledgement; unknown errors are logged with their stack and hidden. */
export function toAck(error: unknown, log: Logger, context: Record<string, unknown>): Ack {
  if (error instanceof AppError) {
    return { ok: false, error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
  }
  log.error({ err: error, ...context }, 'socket action failed');
  return { ok: false, error: { code: 'internal', message: 'Something went wrong on our side; try again' } };
}

/**
 * Registers the agent actions on a socket. Each handler is an edge: check the role, validate the
 * payload with zod, make one call, acknowledge `{ ok, data | error }`. The acting agent is always
 * the socket's own user, never a payload field.
 */
export function registerActions(socket: GatewaySocket, deps: HandlerDeps): void {
  const on = <Schema extends z.ZodType>(name: SocketAction, schema: Schema, work: (input: z.output<Schema>, principal: Principal) => Promise<unknown>) => {
    const roles: ReadonlySet<Role> = socketActions[name];
    socket.on(name, async (...args: unknown[]) => {
      const ack = args.find((arg): arg is (answer: Ack) => void => typeof arg === 'function');
      // An action without an acknowledgement cannot report its outcome; clients must ask for one.
      if (!ack) return;
      const payload = typeof args[0] === 'function' ? undefined : args[0];
      const context = { userId: socket.data.principal.id, socketId: socket.id, action: name };
      try {
        const principal = await deps.auth.authenticate({ bearer: socket.data.token });
        if (!roles.has(principal.role)) throw new AppError('forbidden', `Your role (${principal.role}) cannot ${name}`, { action: name, role: principal.role });
        const input = parseOrThrow(schema, payload ?? {}, 'payload');
        ack({ ok: true, data: await work(input, principal) });
      } catch (error) {
        ack(toAck(error, deps.log, context));
        if (error instanceof AppError && error.code === 'unauthenticated') socket.disconnect(true);
      }
    });
  };

  on('state:set', setStateSchema, (input, principal) => deps.desk.setAgentState(principal.id, input.state, input.reason));
  on('offer:accept', reservationSchema, (input, principal) => deps.desk.accept(principal.id, input.reservationId));
  on('offer:reject', reservationSchema, (input, principal) => deps.desk.reject(principal.id, input.reservationId));
  on('work:complete', completeWorkSchema, (input, principal) =>
    deps.desk.completeWork(principal.id, input.interactionId, { disposition: input.disposition, notes: input.notes }),
  );
  on('work:transfer', transferWorkSchema, (input, principal) => {
    if (!deps.desk.transfer) throw new AppError('unavailable', 'Transfers are not available on this server', { action: 'work:transfer' });
    const target = input.toAgentId !== undefined ? { toAgentId: input.toAgentId } : { toQueue: input.toQueue! };
    return deps.desk.transfer(principal.id, input.interactionId, { ...target, note: input.note });
  });
  // Who may answer is decided in the reply service (the same rule as the REST route).
  on('work:reply', replySchema, async (input, principal) => {
    if (!deps.reply) throw new AppError('unavailable', 'Replies are not available on this server', { action: 'work:reply' });
    return deps.reply({ interactionId: input.interactionId, text: input.text, author: principal });
  });
  on('sync', syncSchema, (input, principal) => deps.sync(principal, input.lastEventId));
  on('queue:join', queueRoomSchema, async (input) => {
    await socket.join(`queue:${input.queue}`);
    return { room: `queue:${input.queue}` };
  });
  on('queue:leave', queueRoomSchema, async (input) => {
    await socket.leave(`queue:${input.queue}`);
    return { room: `queue:${input.queue}` };
  });
}

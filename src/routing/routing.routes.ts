import { Router } from 'express';
import { z } from 'zod';
import { frontLineRoles, supervisorRoles } from '../platform/http/principal';
import type { RouteRegistry } from '../platform/http/route';
import { objectIdSchema } from '../platform/validation';
import type { AgentProfileRepository } from './agent-profile.repository';
import type { QueueStats } from './queue-stats';
import type { RoutingService } from './routing.service';

const tag = 'Routing';
// Agents, and supervisors/admins who also take contacts.
const staff = frontLineRoles;
const supervisors = supervisorRoles;

const stateBody = z.object({ state: z.enum(['available', 'away', 'offline']), reason: z.string().trim().min(1).max(100).optional() });
const reservationParams = z.object({ id: z.uuid() });
const workParams = z.object({ interactionId: objectIdSchema });
const completeBody = z.object({ disposition: z.string().trim().min(1).max(100).optional(), notes: z.string().max(5000).optional() });
const agentParams = z.object({ id: objectIdSchema });
const agentWorkParams = z.object({ agentId: objectIdSchema, interactionId: objectIdSchema });
const transferBody = z
  .object({
    toAgentId: objectIdSchema.optional(),
    toQueue: z.string().min(1).max(64).optional(),
    note: z.string().trim().min(1).max(2000),
  })
  .refine((body) => (body.toAgentId === undefined) !== (body.toQueue === undefined), { message: 'give exactly one of toAgentId or toQueue', path: ['toAgentId'] });
const queueName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a lowercase queue name like after-sales');
const queueParams = z.object({ queue: queueName });
const waitingQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });
const moveBody = z.object({ toQueue: queueName });
const skillLevel = z.number().int().min(0).max(10);
const weight = z.number().int().min(1).max(100);
const profileBody = z.object({
  skills: z.record(z.string().min(1).max(50), skillLevel).default({}),
  queues: z.array(z.string().min(1).max(64)).max(100).default([]),
  capacity: z.object({ voice: weight, sms: weight, email: weight }).partial().default({}),
});

/** The agent desk over REST (the socket gateway offers the same actions), plus supervisor views. */
export function routingRoutes(registry: RouteRegistry, routing: RoutingService, stats: QueueStats, profiles: AgentProfileRepository): Router {
  const router = Router();

  registry.add(router, { method: 'get', path: '/api/routing/me', summary: 'My routing state, offers and work', tag, access: staff }, ({ principal }) => routing.snapshot(principal.id));

  registry.add(router, { method: 'put', path: '/api/routing/me/state', summary: 'Set my state (available, away, offline)', tag, access: staff, body: stateBody }, ({ principal, body }) =>
    routing.setAgentState(principal.id, body.state, body.reason),
  );

  registry.add(router, { method: 'post', path: '/api/routing/reservations/:id/accept', summary: 'Accept an offer made to me', tag, access: staff, params: reservationParams }, ({ principal, params }) =>
    routing.accept(principal.id, params.id),
  );

  registry.add(router, { method: 'post', path: '/api/routing/reservations/:id/reject', summary: 'Reject an offer made to me', tag, access: staff, params: reservationParams }, ({ principal, params }) =>
    routing.reject(principal.id, params.id),
  );

  registry.add(
    router,
    { method: 'post', path: '/api/routing/work/:interactionId/complete', summary: 'Complete my work on a contact and start wrap-up', tag, access: staff, params: workParams, body: completeBody },
    ({ principal, params, body }) => routing.completeWork(principal.id, params.interactionId, body),
  );

  registry.add(
    router,
    { method: 'post', path: '/api/routing/work/:interactionId/transfer', summary: 'Transfer a contact I am handling to another agent or to the front of a queue, with a note', tag, access: staff, params: workParams, body: transferBody },
    ({ principal, params, body }) =>
      routing.transfer(principal.id, params.interactionId, body.toAgentId !== undefined ? { toAgentId: body.toAgentId, note: body.note } : { toQueue: body.toQueue!, note: body.note }),
  );

  registry.add(
    router,
    {
      method: 'post', path: '/api/routing/agents/:agentId/work/:interactionId/transfer', tag, access: supervisors, params: agentWorkParams, body: transferBody,
      summary: 'Transfer a contact an agent is handling, on their behalf, to another agent or to the front of a queue, with a note (recorded as done by you)',
    },
    ({ principal, params, body }) =>
      routing.transfer(params.agentId, params.interactionId, { ...(body.toAgentId !== undefined ? { toAgentId: body.toAgentId } : { toQueue: body.toQueue! }), note: body.note, byUserId: principal.id }),
  );

  registry.add(router, { method: 'put', path: '/api/routing/agents/:id/state', summary: "Force an agent's state", tag, access: supervisors, params: agentParams, body: stateBody }, ({ params, body }) =>
    routing.setAgentState(params.id, body.state, body.reason ?? (body.state === 'available' ? undefined : 'set by supervisor')),
  );

  registry.add(router, { method: 'put', path: '/api/routing/agents/:id/profile', summary: "Set an agent's skills, queues and capacity weights", tag, access: supervisors, params: agentParams, body: profileBody }, ({ params, body }) =>
    profiles.save({ agentId: params.id, ...body }),
  );

  registry.add(router, { method: 'get', path: '/api/routing/agents/:id/profile', summary: "An agent's skills, queues and capacity weights (defaults when never set)", tag, access: supervisors, params: agentParams }, ({ params }) =>
    profiles.get(params.id),
  );

  registry.add(router, { method: 'get', path: '/api/routing/agents', summary: 'Every agent with state, time in state, offers and current contacts (the wallboard)', tag, access: supervisors }, async () => ({ items: await stats.agentSnapshots() }));

  registry.add(router, { method: 'get', path: '/api/routing/queues/:queue/waiting', summary: 'The contacts waiting in a queue, best placed first, with their wait', tag, access: supervisors, params: queueParams, query: waitingQuery }, async ({ params, query }) => ({
    items: await stats.waitingContacts(params.queue, query.limit),
  }));

  registry.add(router, { method: 'post', path: '/api/routing/contacts/:interactionId/move', summary: 'Move a waiting contact to another queue (it keeps its place by wait time)', tag, access: supervisors, params: workParams, body: moveBody }, ({ principal, params, body }) =>
    routing.moves.moveWaiting(params.interactionId, body.toQueue, principal.id),
  );

  registry.add(router, { method: 'get', path: '/api/routing/queue-names', summary: 'The configured queues by name (an agent picks one to transfer to)', tag, access: staff, response: z.object({ items: z.array(z.string()) }) }, async () => ({ items: routing.queueNames() }));

  registry.add(router, { method: 'get', path: '/api/routing/queues', summary: 'Per queue: waiting, longest wait, agents by state, offers in flight and today\'s counters with service level', tag, access: supervisors }, async () => ({ items: await stats.queues() }));

  return router;
}

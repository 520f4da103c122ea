import { Router } from 'express';
import { frontLineRoles } from '../../platform/http/principal';
import { z } from 'zod';
import type { RouteRegistry } from '../../platform/http/route';
import { objectIdSchema } from '../../platform/validation';
import type { CallControlService } from './call-control.service';

const tag = 'Voice';

const tokenResponse = z.object({ token: z.string(), identity: z.string(), ttlSeconds: z.number().int() });
const placeCallBody = z.object({ customerId: objectIdSchema, to: z.string().trim().min(3).max(40).optional() });
const placeCallResponse = z.object({ interactionId: z.string(), callSid: z.string() });
const connectParams = z.object({ interactionId: objectIdSchema });
const connectResponse = z.object({ interactionId: z.string(), status: z.string(), agentId: z.string().optional() });

/** The agents' voice API: softphone tokens, click-to-call, and connecting a queued caller. */
export function voiceRoutes(registry: RouteRegistry, calls: CallControlService): Router {
  const router = Router();

  registry.add(
    router,
    { method: 'get', path: '/api/voice/token', summary: "An access token for the agent's browser softphone (Twilio Voice JS SDK), valid one hour", tag, access: frontLineRoles, response: tokenResponse },
    async ({ principal }) => calls.issueToken(principal.id),
  );

  registry.add(
    router,
    {
      method: 'post',
      path: '/api/voice/calls',
      summary: "Call a customer (click-to-call): their phone rings, then the calling agent's softphone",
      tag,
      access: frontLineRoles,
      body: placeCallBody,
      response: placeCallResponse,
      successStatus: 202,
    },
    async ({ body, principal }) => calls.placeCall({ agentId: principal.id, customerId: body.customerId, to: body.to }),
  );

  registry.add(
    router,
    {
      method: 'post',
      path: '/api/voice/calls/:interactionId/connect',
      summary: "Take a caller and ring the caller's own softphone: an agent only a call they hold (accepted offer), a supervisor or admin any queued caller",
      tag,
      access: frontLineRoles,
      params: connectParams,
      response: connectResponse,
    },
    async ({ params, principal }) => {
      const interaction = await calls.connectForUser({ interactionId: params.interactionId, principal });
      return { interactionId: interaction.id, status: interaction.status, ...(interaction.agentId ? { agentId: interaction.agentId } : {}) };
    },
  );

  return router;
}

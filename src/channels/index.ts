import { frontLineRoles } from '../platform/http/principal';
import { Router } from 'express';
import { z } from 'zod';
import type { RouteRegistry } from '../platform/http/route';
import { objectIdSchema } from '../platform/validation';
import type { ChannelDeps, ChannelModule } from './channel';
import type { ReplyService } from './reply.service';
import { createEmailChannel } from './email';
import { createSmsChannel } from './sms';
import { createVoiceChannel } from './voice';

export type { ChannelDeps, ChannelModule } from './channel';
export { ReplyService, type ReplyInput } from './reply.service';
export { assertMayActOnContact, type ContactHolds } from './contact-access';
// Task attachments share the content-addressed store with email attachments.
export { AttachmentStore, type StoredFile } from './email/attachment-store';

export function createChannels(deps: ChannelDeps): ChannelModule[] {
  return [createVoiceChannel(deps), createSmsChannel(deps), createEmailChannel(deps)];
}

/** `POST /api/interactions/:id/replies`: the agent answers on the contact's own channel (rules in ReplyService). */
export function replyRoutes(registry: RouteRegistry, replies: ReplyService): Router {
  const router = Router();
  registry.add(
    router,
    {
      method: 'post',
      path: '/api/interactions/:id/replies',
      summary: "Reply to the customer on the interaction's channel (SMS or email); an agent only on a contact they are handling",
      tag: 'Interactions',
      access: frontLineRoles,
      params: z.object({ id: objectIdSchema }),
      body: z.object({ text: z.string().trim().min(1).max(10_000) }),
      response: z.object({ entryId: z.string(), status: z.string() }),
      successStatus: 202,
    },
    ({ params, body, principal }) => replies.reply({ interactionId: params.id, text: body.text, author: principal }),
  );
  return router;
}

import { frontLineRoles } from '../platform/http/principal';
import { Router } from 'express';
import { z } from 'zod';
import type { InteractionService } from '../interactions';
import { AppError } from '../platform/errors';
import type { RouteRegistry } from '../platform/http/route';
import { objectIdSchema } from '../platform/validation';
import type { ChannelDeps, ChannelModule } from './channel';
import { createEmailChannel } from './email';
import { createSmsChannel } from './sms';
import { createVoiceChannel } from './voice';

export type { ChannelDeps, ChannelModule } from './channel';
// Task attachments share the content-addressed store with email attachments.
export { AttachmentStore, type StoredFile } from './email/attachment-store';

export function createChannels(deps: ChannelDeps): ChannelModule[] {
  return [createVoiceChannel(deps), createSmsChannel(deps), createEmailChannel(deps)];
}

/** `POST /api/interactions/:id/replies`: the agent answers on the contact's own channel. */
export function replyRoutes(registry: RouteRegistry, interactions: InteractionService, channels: ChannelModule[]): Router {
  const router = Router();
  registry.add(
    router,
    {
      method: 'post',
      path: '/api/interactions/:id/replies',
      summary: "Reply to the customer on the interaction's channel (SMS or email)",
      tag: 'Interactions',
      access: frontLineRoles,
      params: z.object({ id: objectIdSchema }),
      body: z.object({ text: z.string().trim().min(1).max(10_000) }),
      response: z.object({ entryId: z.string(), status: z.string() }),
      successStatus: 202,
    },
    ({ params, body, principal }) => replyToCustomer(interactions, channels, { interactionId: params.id, text: body.text, authorId: principal.id }),
  );
  return router;
}

/** The agent's reply on the interaction's own channel: one path for REST and the socket's `work:reply`. */
export async function replyToCustomer(
  interactions: InteractionService,
  channels: ChannelModule[],
  input: { interactionId: string; text: string; authorId: string },
): Promise<{ entryId: string; status: string }> {
  const interaction = await interactions.getInteraction(input.interactionId);
  const channel = channels.find((candidate) => candidate.name === interaction.channel);
  if (!channel?.reply) {
    throw new AppError('conflict', `Replies are not possible on the ${interaction.channel} channel; call the customer or use SMS/email`, { channel: interaction.channel });
  }
  return channel.reply({ interactionId: interaction.id, text: input.text, authorId: input.authorId });
}

import type { InteractionService } from '../interactions';
import { AppError } from '../platform/errors';
import type { Principal } from '../platform/http/principal';
import type { ChannelModule } from './channel';
import { assertMayActOnContact, type ContactHolds } from './contact-access';

export interface ReplyInput {
  interactionId: string;
  text: string;
  /** Who answers: decides whether they may (an agent only on a contact they hold). */
  author: Pick<Principal, 'id' | 'role'>;
}

/**
 * The agent's reply on the interaction's own channel: one path, with its authorization, for
 * `POST /api/interactions/:id/replies` and the socket's `work:reply`.
 */
export class ReplyService {
  constructor(private readonly deps: { interactions: InteractionService; channels: ChannelModule[]; holds?: ContactHolds }) {}

  async reply(input: ReplyInput): Promise<{ entryId: string; status: string }> {
    await assertMayActOnContact(input.author, input.interactionId, this.deps.holds, 'reply on');
    // The channel is all it needs: the state, not every part of a long conversation.
    const interaction = await this.deps.interactions.getInteractionState(input.interactionId);
    const channel = this.deps.channels.find((candidate) => candidate.name === interaction.channel);
    if (!channel?.reply) {
      throw new AppError('conflict', `Replies are not possible on the ${interaction.channel} channel; call the customer or use SMS/email`, { channel: interaction.channel });
    }
    return channel.reply({ interactionId: interaction.id, text: input.text, authorId: input.author.id });
  }
}

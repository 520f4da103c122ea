import type { TimelineSummary } from './interaction.model';
import type { StoredInteraction } from './interaction.repository';

const previewLength = 140;

/** What the customer's timeline document keeps of an interaction (everything but its entries). */
export function summarize(stored: StoredInteraction): TimelineSummary {
  const lastMessage = [...(stored.entries ?? [])].reverse().find((entry) => entry.kind === 'message' && entry.text);
  const optional = {
    subject: stored.subject,
    queue: stored.queue,
    agentId: stored.agentId,
    queuedAt: stored.queuedAt,
    offeredAt: stored.offeredAt,
    answeredAt: stored.answeredAt,
    endedAt: stored.endedAt,
    preview: lastMessage?.text ? lastMessage.text.slice(0, previewLength) : undefined,
  };
  return {
    customerId: stored.customerId,
    direction: stored.direction,
    status: stored.status,
    flags: stored.flags ?? [],
    externalIds: stored.externalIds ?? [],
    entryCount: stored.entryCount ?? stored.entries?.length ?? 0,
    lastActivityAt: stored.lastActivityAt,
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
  };
}


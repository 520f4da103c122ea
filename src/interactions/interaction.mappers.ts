import type { TimelineItem, TimelineSummary } from './interaction.model';
import type { StoredEntry, StoredInteraction } from './interaction.repository';
import type { Entry, Interaction } from './interaction.types';

const iso = (date: Date | undefined) => (date ? new Date(date).toISOString() : undefined);

export function toEntry(entry: StoredEntry): Entry {
  return {
    id: entry._id,
    kind: entry.kind,
    at: new Date(entry.at).toISOString(),
    ...(entry.direction ? { direction: entry.direction } : {}),
    ...(entry.text !== undefined ? { text: entry.text } : {}),
    ...(entry.authorId ? { authorId: entry.authorId } : {}),
    ...(entry.externalId ? { externalId: entry.externalId } : {}),
    ...(entry.data ? { data: entry.data } : {}),
    ...(entry.attachments?.length ? { attachments: entry.attachments } : {}),
    ...(entry.flags?.length ? { flags: entry.flags } : {}),
  };
}

export function toInteraction(stored: StoredInteraction): Interaction {
  const optional = {
    subject: stored.subject,
    queue: stored.queue,
    agentId: stored.agentId,
    queuedAt: iso(stored.queuedAt),
    offeredAt: iso(stored.offeredAt),
    answeredAt: iso(stored.answeredAt),
    endedAt: iso(stored.endedAt),
  };
  return {
    // A part of a longer conversation is shown as the conversation: by its first part's id.
    id: stored.conversationId ?? stored._id,
    customerId: stored.customerId,
    channel: stored.channel,
    direction: stored.direction,
    status: stored.status,
    externalIds: stored.externalIds ?? [],
    flags: stored.flags ?? [],
    createdAt: new Date(stored.createdAt).toISOString(),
    lastActivityAt: new Date(stored.lastActivityAt).toISOString(),
    entryCount: stored.entryCount ?? stored.entries?.length ?? 0,
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
    ...(stored.entries
      ? { entries: [...stored.entries].sort((left, right) => new Date(left.at).getTime() - new Date(right.at).getTime()).map(toEntry) }
      : {}),
  };
}

/** A timeline item shown without reading the interaction: everything but its entries. */
export function fromSummary(item: TimelineItem & { summary: TimelineSummary }): Interaction {
  const { summary } = item;
  const optional = {
    subject: summary.subject,
    queue: summary.queue,
    agentId: summary.agentId,
    queuedAt: iso(summary.queuedAt),
    offeredAt: iso(summary.offeredAt),
    answeredAt: iso(summary.answeredAt),
    endedAt: iso(summary.endedAt),
    preview: summary.preview,
  };
  return {
    id: item.interactionId,
    customerId: summary.customerId,
    channel: item.channel,
    direction: summary.direction,
    status: summary.status,
    externalIds: summary.externalIds ?? [],
    flags: summary.flags ?? [],
    createdAt: new Date(item.at).toISOString(),
    lastActivityAt: new Date(summary.lastActivityAt).toISOString(),
    entryCount: summary.entryCount,
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
  };
}

import type { TimelineDocument, TimelineItem, TimelineSummary, VersionedSummary } from './interaction.model';
import type { StoredInteraction } from './interaction.repository';
import type { TimelineCopy } from './timeline-archive';

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

/**
 * The summary with the version of the state it was computed from. Interactions written before
 * versions existed count as version 0: any later write (which sets 1 or more) replaces it.
 */
export function versionedSummary(stored: StoredInteraction): VersionedSummary {
  return { ...summarize(stored), version: stored.version ?? 0 };
}

/** The key of an interaction's summary in its timeline's map: prefixed, so never all digits. */
export function summaryKey(interactionId: string): string {
  return `i${interactionId}`;
}

/** The timeline item of an interaction, as appended to `items` (always built here, so `$addToSet` sees equal refs). */
export function timelineRef(stored: Pick<StoredInteraction, '_id' | 'createdAt' | 'channel' | 'conversationId'>): TimelineItem {
  // A conversation stored in several parts is listed once, by its first part's id.
  return { interactionId: stored.conversationId ?? stored._id, at: stored.createdAt, channel: stored.channel };
}

/**
 * The items of a stored timeline, each with its summary: the map's entry when present, else the
 * one stored inline by older documents. Listed once per interaction, in stored order; a summary
 * without a ref is not listed (e.g. a late write to a customer merged away).
 */
export function timelineItems(timeline: Pick<TimelineDocument, 'items' | 'summaries'> | null): TimelineItem[] {
  return timelineCopies(timeline).map(({ version: _version, ...item }) => item);
}

/** As `timelineItems`, each with its summary's version (-1 without a mapped summary), for merging copies. */
export function timelineCopies(timeline: Pick<TimelineDocument, 'items' | 'summaries'> | null): TimelineCopy[] {
  const seen = new Set<string>();
  const items: TimelineCopy[] = [];
  for (const item of timeline?.items ?? []) {
    if (seen.has(item.interactionId)) continue;
    seen.add(item.interactionId);
    const mapped = timeline?.summaries?.[summaryKey(item.interactionId)];
    let summary: TimelineSummary | undefined = item.summary;
    let version = -1;
    if (mapped) {
      const { version: mappedVersion, ...rest } = mapped;
      summary = rest;
      version = mappedVersion ?? 0;
    }
    items.push({ interactionId: item.interactionId, at: item.at, channel: item.channel, ...(summary ? { summary } : {}), version });
  }
  return items;
}

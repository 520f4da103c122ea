import mongoose from 'mongoose';
import type { EntryDocument, InteractionDocument } from './interaction.model';

/**
 * A conversation is stored as a chain of parts so no document nears MongoDB's 16 MB limit. This
 * file holds the pure rules of the chain; the repository does the writes.
 */

export interface InteractionCaps {
  /** Entries one part may hold. */
  maxEntries: number;
  /** BSON bytes of the entries one part may hold (an entry alone in a part is always taken). */
  maxBytes: number;
}

/** 200 entries or 4 MB: a quarter of the 16 MB limit, leaving room for later entry updates. */
export const defaultCaps: InteractionCaps = { maxEntries: 200, maxBytes: 4 * 1024 * 1024 };

/** What one write changes (see the repository's `changeUpdate`). */
export interface PartChange {
  set?: Record<string, unknown>;
  addFlags?: string[];
  entries?: EntryDocument[];
  externalId?: string;
  setIfUnset?: Record<string, Date>;
}

export function entryBytes(entries: readonly EntryDocument[]): number {
  return entries.reduce((sum, entry) => sum + mongoose.mongo.BSON.calculateObjectSize(entry as unknown as mongoose.mongo.BSON.Document), 0);
}

/** The id the outside world knows the conversation by: its first part's. */
export function conversationIdOf(part: Pick<InteractionDocument, '_id' | 'conversationId'>): string {
  return part.conversationId ?? part._id;
}

/** Whether `count` entries of `bytes` fit in the part (a part with no entries takes anything). */
export function fits(part: Pick<InteractionDocument, 'partEntries' | 'partBytes'>, count: number, bytes: number, caps: InteractionCaps): boolean {
  const entries = part.partEntries ?? 0;
  if (entries === 0) return true;
  return entries + count <= caps.maxEntries && (part.partBytes ?? 0) + bytes <= caps.maxBytes;
}

const carried = ['customerId', 'channel', 'direction', 'status', 'subject', 'queue', 'agentId', 'queuedAt', 'offeredAt', 'answeredAt', 'endedAt'] as const;

/**
 * The part that continues `from` (as it was when its rollover was claimed), with `change` applied
 * when given: the conversation's state (status, queue, agent, lifecycle times, flags) carries over,
 * so routing and the agent holding it see no difference; its version is above every version of
 * `from`, so the timeline summary it writes wins. The first external id (a CallSid) carries over too.
 */
export function continuationOf(from: InteractionDocument, id: string, change: PartChange | undefined, now: Date): InteractionDocument {
  const state = Object.fromEntries(carried.filter((field) => from[field] !== undefined).map((field) => [field, from[field]])) as Pick<InteractionDocument, (typeof carried)[number]>;
  const entries = change?.entries ?? [];
  const set = Object.fromEntries(Object.entries(change?.set ?? {}).filter(([, value]) => value !== undefined));
  const unset = Object.fromEntries(
    Object.entries(change?.setIfUnset ?? {}).map(([field, value]) => {
      const current = (from as unknown as Record<string, unknown>)[field] as Date | undefined;
      return [field, current && new Date(current) < value ? current : value];
    }),
  );
  const lastAt = [from.lastActivityAt, ...entries.map((entry) => entry.at)].reduce((latest, at) => (new Date(at) > new Date(latest) ? at : latest));
  const externalIds = [...new Set([...from.externalIds.slice(0, 1), ...(change?.externalId ? [change.externalId] : [])])];
  return {
    ...state,
    ...set,
    ...unset,
    _id: id,
    conversationId: conversationIdOf(from),
    continuesFrom: from._id,
    externalIds,
    entries,
    entryCount: (from.entryCount ?? from.entries?.length ?? 0) + entries.length,
    partEntries: entries.length,
    partBytes: entryBytes(entries),
    flags: [...new Set([...(from.flags ?? []), ...(change?.addFlags ?? [])])],
    createdAt: from.createdAt,
    updatedAt: now,
    lastActivityAt: lastAt,
    version: (from.version ?? 0) + 1,
  } as InteractionDocument;
}

/**
 * The whole conversation as one interaction, from its parts oldest first: the newest part's state,
 * every part's entries and external ids, under the conversation's id.
 */
export function assembleConversation(parts: readonly InteractionDocument[]): InteractionDocument {
  const head = parts[parts.length - 1];
  if (parts.length === 1) return head;
  return {
    ...head,
    _id: conversationIdOf(head),
    conversationId: conversationIdOf(head),
    entries: parts.flatMap((part) => part.entries ?? []),
    externalIds: [...new Set(parts.flatMap((part) => part.externalIds ?? []))],
    createdAt: parts[0].createdAt,
  };
}

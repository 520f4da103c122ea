import { AppError } from '../platform/errors';

/** What the timeline needs to know of an interaction to order it. */
export interface TimelineRef {
  interactionId: string;
  at: Date;
}

interface CursorPosition {
  at: number;
  id: string;
}

/** Newest first; ties broken by id so the order is total and pages never repeat or skip. */
export function compareNewestFirst(left: TimelineRef, right: TimelineRef): number {
  const byTime = right.at.getTime() - left.at.getTime();
  if (byTime !== 0) return byTime;
  return left.interactionId < right.interactionId ? 1 : left.interactionId > right.interactionId ? -1 : 0;
}

export function encodeCursor(ref: TimelineRef): string {
  return Buffer.from(JSON.stringify({ at: ref.at.getTime(), id: ref.interactionId })).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorPosition>;
    if (typeof parsed.at !== 'number' || typeof parsed.id !== 'string') throw new Error('cursor shape');
    return { at: parsed.at, id: parsed.id };
  } catch {
    throw AppError.validation([{ field: 'query.cursor', message: 'is not a cursor this server issued; start again without it' }]);
  }
}

/**
 * One page of a customer's timeline. The cursor is a position (time + id), not an offset, so
 * interactions arriving while the agent scrolls do not shift the pages.
 */
export function pageTimeline<Ref extends TimelineRef>(
  refs: readonly Ref[],
  limit: number,
  cursor?: string,
): { page: Ref[]; nextCursor: string | null } {
  const ordered = [...refs].sort(compareNewestFirst);
  let start = 0;
  if (cursor) {
    const position = decodeCursor(cursor);
    const boundary = { interactionId: position.id, at: new Date(position.at) };
    start = ordered.findIndex((ref) => compareNewestFirst(ref, boundary) > 0);
    if (start === -1) start = ordered.length;
  }
  const page = ordered.slice(start, start + limit);
  const hasMore = start + limit < ordered.length;
  return { page, nextCursor: hasMore && page.length > 0 ? encodeCursor(page[page.length - 1]) : null };
}

import type { TimelineItem } from './interaction.model';
import { compareNewestFirst, decodeCursor, encodeCursor, type TimelineRef } from './timeline';

/**
 * A timeline item as read from one stored copy, with the version of its summary (-1: no summary
 * in the map). While an item moves from the head to an archive page it is briefly in both, and a
 * summary may be newer in either: readers keep, per interaction, the copy with the newest summary.
 */
export type TimelineCopy = TimelineItem & { version: number };

/** A position in the timeline's order (the newest archived item, the newest of the pages before one). */
export interface TimelinePosition {
  at: Date;
  interactionId: string;
}

/** Refs the head keeps per channel however old, so "the open conversation on this channel" is read from the head alone. */
export const keptPerChannel = 3;

const sortable = <Item extends TimelineRef>(item: Item): Item => ({ ...item, at: new Date(item.at) });

/** One item per interaction, the copy with the newest summary, newest first. */
export function mergeCopies(copies: readonly TimelineCopy[]): TimelineCopy[] {
  const best = new Map<string, TimelineCopy>();
  for (const copy of copies) {
    const known = best.get(copy.interactionId);
    if (!known || copy.version > known.version) best.set(copy.interactionId, sortable(copy));
  }
  return [...best.values()].sort(compareNewestFirst);
}

/**
 * Which of the head's items move to an archive page once it holds more than `headItems`: the
 * oldest, until half remain (so the next move is `headItems / 2` creates away, and a first page of
 * up to half the head is always served from the head), but never the newest `keptPerChannel` of a
 * channel. Newest first, as `mergeCopies` orders them; `archivePages` cuts them into pages.
 */
export function planArchive(items: readonly TimelineCopy[], headItems: number): TimelineCopy[] {
  const ordered = mergeCopies(items);
  if (ordered.length <= headItems) return [];
  const keep = Math.ceil(headItems / 2);
  const perChannel = new Map<string, number>();
  const move: TimelineCopy[] = [];
  ordered.forEach((item, index) => {
    const seenOnChannel = perChannel.get(item.channel) ?? 0;
    perChannel.set(item.channel, seenOnChannel + 1);
    if (index >= keep && seenOnChannel >= keptPerChannel) move.push(item);
  });
  return move;
}

/**
 * The pages `move` (newest first) fills, oldest first, each of at most `pageItems` refs and
 * naming the newest item archived before it (`archivedThrough` and the pages before it in this
 * move), so a head far over its size (written before heads were bounded) empties in one move.
 */
export function archivePages(move: readonly TimelineCopy[], pageItems: number, archivedThrough: TimelinePosition | undefined): { items: TimelineCopy[]; before?: TimelinePosition }[] {
  const oldestFirst = [...move].reverse();
  const pages: { items: TimelineCopy[]; before?: TimelinePosition }[] = [];
  let before = archivedThrough;
  for (let start = 0; start < oldestFirst.length; start += pageItems) {
    const items = oldestFirst.slice(start, start + pageItems);
    pages.push({ items, ...(before ? { before } : {}) });
    const newest = items[items.length - 1];
    before = newestPosition(before, { at: new Date(newest.at), interactionId: newest.interactionId });
  }
  return pages;
}

/** The newer of two positions (either may be absent). */
export function newestPosition(left: TimelinePosition | undefined, right: TimelinePosition | undefined): TimelinePosition | undefined {
  if (!left) return right;
  if (!right) return left;
  return compareNewestFirst(sortable(left), sortable(right)) <= 0 ? left : right;
}

/** What a page read of a bounded timeline needs to know of the head document. */
export interface TimelineHeadView {
  items: TimelineCopy[];
  /** Archive pages are numbered 0 … pages - 1, oldest first. */
  pages: number;
  /** The newest archived item: every item newer than it is in the head. */
  archivedThrough?: TimelinePosition;
}

/** One archive page: its items, and the newest item of all the pages before it (none older than that is here). */
export interface TimelinePageView {
  items: TimelineCopy[];
  before?: TimelinePosition;
}

/**
 * One page of a timeline kept as a head document and archive pages, newest first after `cursor`.
 * Served from the head alone whenever the page lies entirely after the newest archived item (every
 * first page of a customer under the head's size, and the screen pop's); otherwise reads archive
 * pages newest first, and stops once the page is full and the pages left can only hold older items.
 */
export async function pageBoundedTimeline(
  head: TimelineHeadView,
  readPage: (page: number) => Promise<TimelinePageView | null>,
  options: { limit: number; cursor?: string; wanted?: (item: TimelineCopy) => boolean },
): Promise<{ page: TimelineCopy[]; nextCursor: string | null }> {
  const position = options.cursor ? decodeCursor(options.cursor) : undefined;
  const boundary = position ? { interactionId: position.id, at: new Date(position.at) } : undefined;
  const after = (item: TimelineCopy) => !boundary || compareNewestFirst(item, boundary) > 0;
  const wanted = (item: TimelineCopy) => (options.wanted ? options.wanted(item) : true) && after(item);
  const finish = (candidates: TimelineCopy[], more: boolean) => {
    const page = candidates.slice(0, options.limit);
    const hasMore = more || candidates.length > options.limit;
    return { page, nextCursor: hasMore && page.length > 0 ? encodeCursor(page[page.length - 1]) : null };
  };

  const fromHead = mergeCopies(head.items).filter(wanted);
  if (head.pages === 0 || !head.archivedThrough) return finish(fromHead, false);
  const archived = sortable(head.archivedThrough);
  const newerThanArchive = fromHead.filter((item) => compareNewestFirst(item, archived) < 0);
  if (newerThanArchive.length >= options.limit) return finish(newerThanArchive, true);

  const copies = [...head.items];
  for (let number = head.pages - 1; number >= 0; number--) {
    const stored = await readPage(number);
    if (!stored) continue;
    copies.push(...stored.items);
    const candidates = mergeCopies(copies).filter(wanted);
    const before = stored.before ? sortable(stored.before) : undefined;
    // The pages left hold nothing newer than `before`: once the page is full with items newer than that, they cannot change it.
    const settled = !before || (candidates.length >= options.limit && compareNewestFirst(candidates[options.limit - 1], before) < 0);
    if (settled) return finish(candidates, number > 0 && !!before);
  }
  return finish(mergeCopies(copies).filter(wanted), false);
}

import type { Channel } from './interaction.model';
import { archivePages, mergeCopies, newestPosition, pageBoundedTimeline, planArchive, type TimelineCopy, type TimelineHeadView, type TimelinePageView } from './timeline-archive';

const base = Date.parse('2026-05-01T08:00:00Z');
const copy = (index: number, channel: Channel = 'manual', version = 1): TimelineCopy => ({ interactionId: `id${String(index).padStart(4, '0')}`, at: new Date(base + index * 1000), channel, version });
const ids = (items: readonly TimelineCopy[]) => items.map((item) => item.interactionId);

/** Archives as the repository does (oldest to a page until the head is under), in memory. */
function archiveAll(items: TimelineCopy[], headItems: number): { head: TimelineHeadView; pages: TimelinePageView[] } {
  let headCopies: TimelineCopy[] = [];
  const pages: TimelinePageView[] = [];
  let archivedThrough: TimelineHeadView['archivedThrough'];
  // One create at a time, as the app archives: each time the head passes its size.
  for (const item of items) {
    headCopies.push(item);
    const move = planArchive(headCopies, headItems);
    if (move.length === 0) continue;
    pages.push(...archivePages(move, headItems, archivedThrough));
    archivedThrough = newestPosition(archivedThrough, move[0]);
    const moved = new Set(ids(move));
    headCopies = headCopies.filter((entry) => !moved.has(entry.interactionId));
  }
  return { head: { items: headCopies, pages: pages.length, ...(archivedThrough ? { archivedThrough } : {}) }, pages };
}

async function pageAll(head: TimelineHeadView, pages: TimelinePageView[], limit: number, wanted?: (item: TimelineCopy) => boolean) {
  const served: TimelineCopy[] = [];
  const reads: number[] = [];
  let cursor: string | undefined;
  for (let round = 0; round < 500; round++) {
    const { page, nextCursor } = await pageBoundedTimeline(head, async (number) => (reads.push(number), pages[number] ?? null), { limit, cursor, wanted });
    served.push(...page);
    if (!nextCursor) return { served, reads };
    cursor = nextCursor;
  }
  throw new Error('never ended');
}

describe('planArchive', () => {
  it('when the head is at or under its size, then nothing moves', () => {
    expect(planArchive(Array.from({ length: 20 }, (_, index) => copy(index)), 20)).toEqual([]);
  });

  it('when the head is over its size, then the oldest move until half remain', () => {
    const move = planArchive(Array.from({ length: 21 }, (_, index) => copy(index)), 20);
    expect(ids(move)).toEqual(ids(Array.from({ length: 11 }, (_, index) => copy(10 - index))));
  });

  it('when an old conversation is the newest on its channel, then it stays in the head', () => {
    const items = [copy(0, 'sms'), ...Array.from({ length: 30 }, (_, index) => copy(index + 1))];
    expect(ids(planArchive(items, 20))).not.toContain('id0000');
  });

});

describe('archivePages', () => {
  it('when far more than a page moves, then pages of at most the head size, oldest first, each naming the newest archived before it', () => {
    const move = planArchive(Array.from({ length: 100 }, (_, index) => copy(index)), 20);
    const earlier = { at: new Date(base - 1000), interactionId: 'older' };
    const pages = archivePages(move, 20, earlier);
    expect(pages.map((page) => page.items.length)).toEqual([20, 20, 20, 20, 10]);
    expect(ids(pages[0].items)).toEqual(ids(Array.from({ length: 20 }, (_, index) => copy(index))));
    expect(pages[0].before).toEqual(earlier);
    expect(pages[1].before).toEqual({ at: copy(19).at, interactionId: 'id0019' });
    expect(pages[4].before).toEqual({ at: copy(79).at, interactionId: 'id0079' });
  });
});

describe('mergeCopies', () => {
  it('when an item is in two places, then it is listed once with the newer summary', () => {
    const older = { ...copy(1), version: 2, summary: { subject: 'old' } as TimelineCopy['summary'] };
    const newer = { ...copy(1), version: 5, summary: { subject: 'new' } as TimelineCopy['summary'] };
    expect(mergeCopies([newer, copy(2), older])).toEqual([copy(2), newer]);
  });
});

describe('pageBoundedTimeline', () => {
  const all = Array.from({ length: 120 }, (_, index) => copy(index, index % 10 === 0 ? 'sms' : 'manual'));

  it('when there are no archive pages, then it pages the head as before and reads no page', async () => {
    const { served, reads } = await pageAll({ items: all.slice(0, 15), pages: 0 }, [], 4);
    expect(ids(served)).toEqual(ids(all.slice(0, 15).reverse()));
    expect(reads).toEqual([]);
  });

  it('when 120 items are archived with a head of 20, then every item is served once newest first', async () => {
    const { head, pages } = archiveAll(all, 20);
    expect(head.items.length).toBeLessThanOrEqual(20);
    const { served } = await pageAll(head, pages, 7);
    expect(ids(served)).toEqual(ids([...all].reverse()));
  });

  it('when the first page fits in the head, then no archive page is read', async () => {
    const { head, pages } = archiveAll(all, 20);
    const { page, nextCursor } = await pageBoundedTimeline(head, () => Promise.reject(new Error('read a page')), { limit: 10 });
    expect(ids(page)).toEqual(ids(all.slice(110).reverse()));
    expect(nextCursor).not.toBeNull();
    expect(pages.length).toBeGreaterThan(0);
  });

  it('when filtered by channel, then every item of the channel is served once', async () => {
    const { head, pages } = archiveAll(all, 20);
    const { served } = await pageAll(head, pages, 3, (item) => item.channel === 'sms');
    expect(ids(served)).toEqual(ids(all.filter((item) => item.channel === 'sms').reverse()));
  });

  it('when a move was interrupted (items in a page and still in the head), then each is served once', async () => {
    const { head, pages } = archiveAll(all, 20);
    const halfMoved = { ...head, items: [...head.items, ...pages[pages.length - 1].items.slice(0, 3)] };
    const { served } = await pageAll(halfMoved, pages, 9);
    expect(ids(served)).toEqual(ids([...all].reverse()));
  });

  it('when a late item older than the archive arrives in the head, then it is served in its place', async () => {
    const { head, pages } = archiveAll(all.slice(1), 20);
    const late = { ...head, items: [...head.items, all[0]] };
    const { served } = await pageAll(late, pages, 11);
    expect(ids(served)).toEqual(ids([...all].reverse()));
  });
});

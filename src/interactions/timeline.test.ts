import { decodeCursor, encodeCursor, pageTimeline } from './timeline';

const ref = (id: string, iso: string) => ({ interactionId: id, at: new Date(iso) });

describe('pageTimeline', () => {
  const refs = [
    ref('a', '2026-01-01T08:00:00Z'),
    ref('c', '2026-01-03T08:00:00Z'),
    ref('b', '2026-01-02T08:00:00Z'),
    ref('d', '2026-01-02T08:00:00Z'),
    ref('e', '2026-01-04T08:00:00Z'),
  ];

  it('when refs arrive out of order, then the first page is newest first with ties broken by id', () => {
    const { page, nextCursor } = pageTimeline(refs, 3);
    expect(page.map((item) => item.interactionId)).toEqual(['e', 'c', 'd']);
    expect(nextCursor).not.toBeNull();
  });

  it('when following cursors, then every interaction appears exactly once and the last page has no cursor', () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 10; guard += 1) {
      const { page, nextCursor } = pageTimeline(refs, 2, cursor);
      seen.push(...page.map((item) => item.interactionId));
      if (!nextCursor) break;
      cursor = nextCursor;
    }
    expect(seen).toEqual(['e', 'c', 'd', 'b', 'a']);
  });

  it('when a newer interaction arrives between pages, then the next page neither repeats nor skips', () => {
    const first = pageTimeline(refs, 2);
    const withNewer = [...refs, ref('f', '2026-01-05T08:00:00Z')];
    const second = pageTimeline(withNewer, 2, first.nextCursor ?? undefined);
    expect(second.page.map((item) => item.interactionId)).toEqual(['d', 'b']);
  });

  it('when the timeline is empty, then the page is empty without a cursor', () => {
    expect(pageTimeline([], 20)).toEqual({ page: [], nextCursor: null });
  });

  it('when the page exactly exhausts the list, then there is no next cursor', () => {
    expect(pageTimeline(refs, 5).nextCursor).toBeNull();
  });
});

describe('cursor encoding', () => {
  it('when a cursor round-trips, then it names the same position', () => {
    const at = new Date('2026-03-01T00:00:00Z');
    expect(decodeCursor(encodeCursor({ interactionId: 'x', at }))).toEqual({ at: at.getTime(), id: 'x' });
  });

  it('when a cursor is forged, then a 400 names the cursor field', () => {
    expect(() => decodeCursor('not-a-cursor')).toThrow(expect.objectContaining({ code: 'validation_failed' }));
  });
});

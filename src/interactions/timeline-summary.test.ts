import type { TimelineSummary } from './interaction.model';
import { summaryKey, timelineItems } from './timeline-summary';

const at = new Date('2026-05-01T08:00:00Z');
const summary = (status: TimelineSummary['status']): TimelineSummary => ({
  customerId: 'c1', direction: 'inbound', status, flags: [], externalIds: [], entryCount: 1, lastActivityAt: at,
});

describe('timelineItems', () => {
  it('when an item has a summary in the map and one inline, then the map wins and its version is not shown', () => {
    const items = timelineItems({
      items: [{ interactionId: 'a', at, channel: 'sms', summary: summary('open') }],
      summaries: { [summaryKey('a')]: { ...summary('closed'), version: 4 } },
    });
    expect(items).toEqual([{ interactionId: 'a', at, channel: 'sms', summary: summary('closed') }]);
  });

  it('when a document predates the map, then inline summaries are read, and items without any stay without', () => {
    const items = timelineItems({ items: [{ interactionId: 'a', at, channel: 'sms', summary: summary('open') }, { interactionId: 'b', at, channel: 'voice' }] });
    expect(items).toEqual([
      { interactionId: 'a', at, channel: 'sms', summary: summary('open') },
      { interactionId: 'b', at, channel: 'voice' },
    ]);
  });

  it('when an interaction is listed twice (an old inline item and its plain ref), then it is read once', () => {
    const items = timelineItems({
      items: [{ interactionId: 'a', at, channel: 'sms', summary: summary('open') }, { interactionId: 'a', at, channel: 'sms' }],
      summaries: { [summaryKey('a')]: { ...summary('active'), version: 2 } },
    });
    expect(items.map((item) => [item.interactionId, item.summary?.status])).toEqual([['a', 'active']]);
  });

  it('when a summary has no ref in the list (a late write after a merge), then it is not listed', () => {
    expect(timelineItems({ items: [], summaries: { [summaryKey('a')]: { ...summary('open'), version: 1 } } })).toEqual([]);
  });

  it('when there is no timeline, then there are no items', () => {
    expect(timelineItems(null)).toEqual([]);
  });

  it('when an interaction id is all digits, then its key is not', () => {
    expect(summaryKey('123456')).toBe('i123456');
  });
});

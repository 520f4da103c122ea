import { assembleConversation, continuationOf, entryBytes, fits } from './interaction-parts';
import type { EntryDocument, InteractionDocument } from './interaction.model';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 10, minute));
const entry = (id: string, minute: number, text = 'hello'): EntryDocument => ({ _id: id, kind: 'message', at: at(minute), direction: 'inbound', text });

const part = (fields: Partial<InteractionDocument> = {}): InteractionDocument => ({
  _id: 'root',
  customerId: 'c1',
  channel: 'email',
  direction: 'inbound',
  status: 'active',
  subject: 'Gearbox',
  queue: 'email',
  agentId: 'agent-1',
  externalIds: ['email:<first@x>', 'email:<second@x>'],
  entries: [entry('e1', 1), entry('e2', 2)],
  entryCount: 2,
  partEntries: 2,
  partBytes: 200,
  flags: ['reopened_by_email'],
  createdAt: at(0),
  answeredAt: at(1),
  lastActivityAt: at(2),
  updatedAt: at(2),
  version: 7,
  ...fields,
});

describe('interaction parts', () => {
  const caps = { maxEntries: 3, maxBytes: 1_000 };

  it('when a part has room for the entries by count and bytes, then they fit; past either cap, then not', () => {
    expect(fits({ partEntries: 2, partBytes: 200 }, 1, 100, caps)).toBe(true);
    expect(fits({ partEntries: 3, partBytes: 200 }, 1, 100, caps)).toBe(false);
    expect(fits({ partEntries: 2, partBytes: 950 }, 1, 100, caps)).toBe(false);
  });

  it('when an entry is larger than the byte cap, then an empty part still takes it (it must be stored somewhere)', () => {
    expect(fits({ partEntries: 0, partBytes: 0 }, 1, 5_000, caps)).toBe(true);
  });

  it('when a part is continued, then the conversation state, its first external id and a higher version carry over with the new entry', () => {
    const next = continuationOf(part(), 'next', { entries: [entry('e3', 5)], externalId: 'email:<third@x>', addFlags: ['x'] }, at(5));
    expect(next).toMatchObject({
      _id: 'next', conversationId: 'root', continuesFrom: 'root', customerId: 'c1', channel: 'email', status: 'active', queue: 'email', agentId: 'agent-1',
      subject: 'Gearbox', answeredAt: at(1), createdAt: at(0), lastActivityAt: at(5), entryCount: 3, partEntries: 1, version: 8,
      externalIds: ['email:<first@x>', 'email:<third@x>'], flags: ['reopened_by_email', 'x'],
    });
    expect(next.entries.map((item) => item._id)).toEqual(['e3']);
    expect(next.partBytes).toBe(entryBytes([entry('e3', 5)]));
    expect(next.continuedIn).toBeUndefined();
  });

  it('when the change sets fields and an end time that is set only once, then the continuation has them, keeping an earlier end', () => {
    const next = continuationOf(part({ _id: 'p2', conversationId: 'root', endedAt: at(3) }), 'p3', { set: { status: 'wrap_up' }, setIfUnset: { endedAt: at(9) } }, at(9));
    expect(next).toMatchObject({ conversationId: 'root', continuesFrom: 'p2', status: 'wrap_up', endedAt: at(3), entryCount: 2, partEntries: 0, partBytes: 0 });
  });

  it('when the parts are assembled, then the conversation has the first id and creation time, the newest state, and every entry in order', () => {
    const first = part({ continuedIn: 'p2', status: 'offered' });
    const second = continuationOf(first, 'p2', { entries: [entry('e3', 5)], set: { status: 'active' } }, at(5));
    const conversation = assembleConversation([first, second]);
    expect(conversation).toMatchObject({ _id: 'root', status: 'active', createdAt: at(0), entryCount: 3 });
    expect(conversation.entries.map((item) => item._id)).toEqual(['e1', 'e2', 'e3']);
    expect(conversation.externalIds).toEqual(['email:<first@x>', 'email:<second@x>']);
    expect(assembleConversation([first])).toBe(first);
  });
});

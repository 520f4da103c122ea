import type { Customer } from '../customers';
import type { Entry, Interaction } from '../interactions';
import { assembleScreenPop, firstMessage, ivrChoice, outcomeOf, waitSeconds } from './screen-pop';

const entry = (fields: Partial<Entry>): Entry => ({ id: fields.id ?? 'e', kind: 'message', at: '2026-03-01T10:00:00.000Z', ...fields });

const interaction = (fields: Partial<Interaction>): Interaction => ({
  id: 'i1', customerId: 'c1', channel: 'voice', direction: 'inbound', status: 'queued', externalIds: [], flags: [],
  createdAt: '2026-03-01T10:00:00.000Z', lastActivityAt: '2026-03-01T10:00:00.000Z', entryCount: 0, ...fields,
});

const customer: Customer = {
  id: 'c1', name: 'Li Wei', phones: [{ value: '+8613800138000', kind: 'e164' }], emails: ['li.wei@example.cn'], tier: 'vip',
  tags: ['fleet'], attributes: { vin: 'LSV123' }, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('screen pop assembly', () => {
  it('when the contact starts with call events, then the first message is the first entry with text', () => {
    const entries = [entry({ kind: 'call_event', data: { status: 'ringing' } }), entry({ text: '  ' }), entry({ text: 'My car will not start', direction: 'inbound' })];
    expect(firstMessage(entries)).toEqual({ at: '2026-03-01T10:00:00.000Z', direction: 'inbound', text: 'My car will not start', truncated: false });
  });

  it('when the first message is long, then the preview is cut and says so', () => {
    const preview = firstMessage([entry({ text: 'x'.repeat(2000) })]);
    expect(preview?.text).toHaveLength(500);
    expect(preview?.truncated).toBe(true);
  });

  it('when the caller retried the menu, then the last choice is the IVR choice', () => {
    const entries = [
      entry({ kind: 'call_event', data: { event: 'menu', digits: '9', valid: false } }),
      entry({ kind: 'call_event', data: { event: 'menu', digits: '1', valid: true, choice: 'Sales' } }),
      entry({ kind: 'call_event', data: { event: 'menu', digits: '2', valid: true, choice: 'Service' } }),
    ];
    expect(ivrChoice(entries)).toEqual({ label: 'Service', digits: '2' });
    expect(ivrChoice([entry({ text: 'hi' })])).toBeNull();
  });

  it('when the contact was queued 90.5 seconds ago, then the wait is 90 seconds; unqueued has none', () => {
    expect(waitSeconds('2026-03-01T10:00:00.000Z', new Date('2026-03-01T10:01:30.500Z'))).toBe(90);
    expect(waitSeconds(undefined, new Date())).toBeNull();
  });

  it('when a past contact has a disposition in its entries, then it is the outcome', () => {
    expect(outcomeOf(interaction({ entries: [entry({ kind: 'status_change', data: { disposition: 'resolved' } })] }))).toBe('resolved');
    expect(outcomeOf(interaction({}))).toBeNull();
  });

  it('when assembled, then the pop carries the customer profile without contact details and the timeline summaries', () => {
    const current = interaction({ queue: 'service', queuedAt: '2026-03-01T10:00:00.000Z', entries: [entry({ text: 'hello' })] });
    const pop = assembleScreenPop({
      interaction: current,
      customer,
      timeline: [current, interaction({ id: 'i0', channel: 'sms', status: 'closed', endedAt: '2026-02-01T00:00:00.000Z' })],
      smsOptedOut: true,
      now: new Date('2026-03-01T10:02:00.000Z'),
    });
    expect(pop.customer).toEqual({ id: 'c1', name: 'Li Wei', tier: 'vip', tags: ['fleet'], attributes: { vin: 'LSV123' } });
    expect(pop.interaction).toMatchObject({ id: 'i1', queue: 'service', waitSeconds: 120, firstMessage: { text: 'hello' }, ivrChoice: null });
    expect(pop.timeline.map((item) => [item.id, item.channel, item.status])).toEqual([['i1', 'voice', 'queued'], ['i0', 'sms', 'closed']]);
    expect(pop.timeline[1]).not.toHaveProperty('entries');
    expect(pop.openTasks).toEqual([]);
    expect(pop.smsOptedOut).toBe(true);
  });
});

import { waitsForAgent } from './routing-reconciler';

describe('waitsForAgent', () => {
  const queues = { channelQueues: { sms: 'sms', email: 'email' } };

  it('when an interaction is queued, then it waits, whatever its channel or direction', () => {
    expect(waitsForAgent({ status: 'queued', direction: 'inbound', channel: 'voice' }, queues)).toBe(true);
    expect(waitsForAgent({ status: 'queued', direction: 'outbound', channel: 'sms' }, queues)).toBe(true);
  });

  it('when a new inbound conversation is open on a channel with a queue, then it waits', () => {
    expect(waitsForAgent({ status: 'open', direction: 'inbound', channel: 'email' }, queues)).toBe(true);
  });

  it('when it is open but outbound, or on a channel without a queue (a call in the IVR), then it does not', () => {
    expect(waitsForAgent({ status: 'open', direction: 'outbound', channel: 'sms' }, queues)).toBe(false);
    expect(waitsForAgent({ status: 'open', direction: 'inbound', channel: 'voice' }, queues)).toBe(false);
  });

  it('when an agent has it or it ended, then it does not', () => {
    for (const status of ['active', 'wrap_up', 'closed', 'abandoned', 'failed'] as const) {
      expect(waitsForAgent({ status, direction: 'inbound', channel: 'sms' }, queues)).toBe(false);
    }
  });
});

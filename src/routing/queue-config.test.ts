import path from 'node:path';
import { loadQueuesConfig, overflowTarget, parseQueuesConfig, priorityScore } from './queue-config';

const queue = (name: string, extra: Record<string, unknown> = {}) => ({
  name, channels: ['voice'], strategy: 'longest-idle', reservationTimeoutSeconds: 20, wrapUpSeconds: 30, serviceLevelSeconds: 20, ...extra,
});

describe('queue configuration', () => {
  it('when the shipped config/queues.json is loaded, then it has every queue the channels route to', () => {
    const config = loadQueuesConfig(path.join(__dirname, '..', '..', 'config', 'queues.json'));
    expect([...config.byName.keys()].sort()).toEqual(['after-sales', 'email', 'general', 'sales', 'sms', 'warranty']);
    expect(config.channelQueues).toEqual({ sms: 'sms', email: 'email' });
  });

  it('when a queue names an unknown strategy or overflow queue, then loading fails naming the field', () => {
    expect(() => parseQueuesConfig({ defaultQueue: 'general', queues: [queue('general', { strategy: 'random' })] })).toThrow(/queues\.0\.strategy/);
    expect(() => parseQueuesConfig({ defaultQueue: 'general', queues: [queue('general', { overflowQueue: 'nowhere', maxWaitSeconds: 10 })] })).toThrow(/queues\.0\.overflowQueue: unknown queue nowhere/);
    expect(() => parseQueuesConfig({ defaultQueue: 'missing', queues: [queue('general')] })).toThrow(/defaultQueue/);
  });
});

describe('priority aging', () => {
  const settings = { tierBonusSeconds: { standard: 0, gold: 60, vip: 180 } };
  const now = Date.UTC(2026, 0, 1, 12);

  it('when a vip and a standard contact arrive together, then the vip is ahead', () => {
    expect(priorityScore(now, 'vip', settings)).toBeLessThan(priorityScore(now, 'standard', settings));
    expect(priorityScore(now, 'gold', settings)).toBeLessThan(priorityScore(now, 'standard', settings));
  });

  it('when a standard contact has waited longer than the vip bonus, then it is ahead of a new vip', () => {
    const standardWaitedFourMinutes = priorityScore(now - 240_000, 'standard', settings);
    const newVip = priorityScore(now, 'vip', settings);
    expect(standardWaitedFourMinutes).toBeLessThan(newVip);
    const standardWaitedTwoMinutes = priorityScore(now - 120_000, 'standard', settings);
    expect(standardWaitedTwoMinutes).toBeGreaterThan(newVip);
  });
});

describe('overflow', () => {
  const config = parseQueuesConfig({
    defaultQueue: 'general',
    queues: [
      queue('general'),
      queue('after-sales', { maxWaitSeconds: 300, overflowQueue: 'general' }),
      queue('warranty', { maxWaitSeconds: 120, overflowQueue: 'after-sales' }),
      queue('loop-a', { maxWaitSeconds: 10, overflowQueue: 'loop-b' }),
      queue('loop-b', { maxWaitSeconds: 10, overflowQueue: 'loop-a' }),
    ],
  });

  it('when a contact has not waited past the max wait, then it stays in its queue', () => {
    expect(overflowTarget(config, 'warranty', 120)).toBeUndefined();
    expect(overflowTarget(config, 'general', 100_000)).toBeUndefined();
  });

  it('when a contact waited past the max wait, then it moves to the overflow queue, following chains it also exceeds', () => {
    expect(overflowTarget(config, 'warranty', 121)).toBe('after-sales');
    expect(overflowTarget(config, 'warranty', 301)).toBe('general');
  });

  it('when overflow queues form a cycle, then the move stops before coming back', () => {
    expect(overflowTarget(config, 'loop-a', 60)).toBe('loop-b');
  });
});

import { KeyedThrottle, type ThrottleClock } from './queue-throttle';

/** A clock that only moves when the test says so. */
function manualClock(): ThrottleClock & { advance(ms: number): void } {
  let now = 0;
  let timers: { at: number; fire: () => void; id: number }[] = [];
  let nextId = 1;
  return {
    now: () => now,
    setTimeout: (fire, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fire, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((timer) => timer.id !== id);
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((timer) => timer.at <= now);
      timers = timers.filter((timer) => timer.at > now);
      for (const timer of due) timer.fire();
    },
  };
}

describe('KeyedThrottle', () => {
  it('when a queue changes five times within a second, then it fires once at once and once when the second ends', () => {
    const clock = manualClock();
    const fired: string[] = [];
    const throttle = new KeyedThrottle(1000, (key) => fired.push(key), clock);
    for (let index = 0; index < 5; index++) {
      throttle.push('sales');
      clock.advance(100);
    }
    expect(fired).toEqual(['sales']);
    clock.advance(500);
    expect(fired).toEqual(['sales', 'sales']);
    clock.advance(5000);
    expect(fired).toEqual(['sales', 'sales']);
  });

  it('when two queues change together, then each is throttled on its own', () => {
    const clock = manualClock();
    const fired: string[] = [];
    const throttle = new KeyedThrottle(1000, (key) => fired.push(key), clock);
    throttle.push('sales');
    throttle.push('service');
    throttle.push('sales');
    expect(fired).toEqual(['sales', 'service']);
    clock.advance(1000);
    expect(fired).toEqual(['sales', 'service', 'sales']);
  });

  it('when a queue changes again after a quiet interval, then it fires at once', () => {
    const clock = manualClock();
    const fired: number[] = [];
    const throttle = new KeyedThrottle(1000, () => fired.push(clock.now()), clock);
    throttle.push('sales');
    clock.advance(1500);
    throttle.push('sales');
    expect(fired).toEqual([0, 1500]);
  });

  it('when closed with a change pending, then the pending change is dropped', () => {
    const clock = manualClock();
    const fired: string[] = [];
    const throttle = new KeyedThrottle(1000, (key) => fired.push(key), clock);
    throttle.push('sales');
    throttle.push('sales');
    throttle.close();
    clock.advance(2000);
    expect(fired).toEqual(['sales']);
  });
});

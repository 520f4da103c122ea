import { deliveryJobPlan } from './webhook-repair';

const now = new Date('2026-03-09T10:00:00Z');
const settings = { attempts: 8, retryDelayMs: 15_000 };
const tried = (count: number, lastAt: Date) => Array.from({ length: count }, (_, index) => ({ at: index === count - 1 ? lastAt : new Date(0), statusCode: 503, durationMs: 5 }));

describe('deliveryJobPlan', () => {
  it('when a delivery was never tried, then its job runs at once under the delivery id with the whole budget', () => {
    expect(deliveryJobPlan({ _id: 'd1', state: 'pending', attempts: [], redeliveries: 0 }, settings, now)).toEqual({ jobId: 'd1', delayMs: 0, attempts: 8, backoffDelayMs: 15_000 });
  });

  it('when three tries failed, the last 20 s ago, then the next waits out the rest of the 60 s backoff, with five tries left and the doubling kept', () => {
    const plan = deliveryJobPlan({ _id: 'd1', state: 'retrying', attempts: tried(3, new Date(now.getTime() - 20_000)), redeliveries: 0 }, settings, now);
    expect(plan).toEqual({ jobId: 'd1', delayMs: 40_000, attempts: 5, backoffDelayMs: 120_000 });
  });

  it('when the backoff already passed, or the budget is spent, then it runs at once with at least one try', () => {
    const plan = deliveryJobPlan({ _id: 'd1', state: 'retrying', attempts: tried(9, new Date(now.getTime() - 10 * 3_600_000)), redeliveries: 0 }, settings, now);
    expect(plan).toMatchObject({ delayMs: 0, attempts: 1 });
  });

  it('when an admin asked for a redelivery, then the job is named as redeliver names it, with a fresh budget', () => {
    expect(deliveryJobPlan({ _id: 'd1', state: 'pending', attempts: tried(8, now), redeliveries: 2 }, settings, now)).toEqual({ jobId: 'd1-r2', delayMs: 0, attempts: 8, backoffDelayMs: 15_000 });
  });

  it('when a delivery is delivered, failed or cancelled, then no job is planned', () => {
    for (const state of ['delivered', 'failed', 'cancelled'] as const) expect(deliveryJobPlan({ _id: 'd1', state, attempts: [], redeliveries: 0 }, settings, now)).toBeNull();
  });
});

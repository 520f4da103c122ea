import { dueSurveyTimers } from './survey-repair';

const now = new Date('2026-03-09T10:00:00Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);
const base = { channel: 'sms' as const, customerId: 'c1', dueAt: at(60_000) };

describe('dueSurveyTimers', () => {
  it('when a survey is scheduled, then its send is due at its due time, or at once when that passed', () => {
    expect(dueSurveyTimers({ ...base, status: 'scheduled' }, now)).toEqual([{ kind: 'send', delayMs: 60_000 }]);
    expect(dueSurveyTimers({ ...base, status: 'scheduled', dueAt: at(-5_000) }, now)).toEqual([{ kind: 'send', delayMs: 0 }]);
  });

  it('when an SMS survey is pending, then its expiry and the reply key (for the time left) are due', () => {
    expect(dueSurveyTimers({ ...base, status: 'pending', expiresAt: at(3_600_000) }, now)).toEqual([
      { kind: 'expire', delayMs: 3_600_000 },
      { kind: 'reply_key', customerId: 'c1', ttlMs: 3_600_000 },
    ]);
  });

  it('when a pending survey is past its window, then it expires at once and no reply key comes back; an email survey never has one', () => {
    expect(dueSurveyTimers({ ...base, status: 'pending', expiresAt: at(-1) }, now)).toEqual([{ kind: 'expire', delayMs: 0 }]);
    expect(dueSurveyTimers({ ...base, channel: 'email', status: 'pending', expiresAt: at(1_000) }, now)).toEqual([{ kind: 'expire', delayMs: 1_000 }]);
  });

  it('when a survey is answered, expired or skipped, then nothing is due', () => {
    for (const status of ['answered', 'expired', 'skipped'] as const) expect(dueSurveyTimers({ ...base, status, expiresAt: at(1_000) }, now)).toEqual([]);
  });
});

import { serviceLevel, statsDay, withinServiceLevel } from './queue-kpis';

describe('queue kpis', () => {
  it('when it is 23:30 UTC, then the Shanghai day is already the next one', () => {
    expect(statsDay(new Date('2026-03-01T23:30:00Z'))).toBe('2026-03-02');
    expect(statsDay(new Date('2026-03-01T15:59:59Z'))).toBe('2026-03-01');
    expect(statsDay(new Date('2026-03-01T16:00:00Z'))).toBe('2026-03-02');
  });

  it('when another time zone is asked, then its own calendar day is used', () => {
    expect(statsDay(new Date('2026-03-01T23:30:00Z'), 'UTC')).toBe('2026-03-01');
  });

  it('when contacts were answered and abandoned, then service level divides answered in time by both', () => {
    expect(serviceLevel({ answeredWithinServiceLevel: 3, answered: 4, abandoned: 1 })).toBe(0.6);
    expect(serviceLevel({ answeredWithinServiceLevel: 1, answered: 1, abandoned: 0 })).toBe(1);
  });

  it('when nothing was answered or abandoned, then service level is null, not zero', () => {
    expect(serviceLevel({ answeredWithinServiceLevel: 0, answered: 0, abandoned: 0 })).toBeNull();
  });

  it('when the wait equals the threshold, then it is within; a millisecond more is not', () => {
    expect(withinServiceLevel(20_000, 20)).toBe(true);
    expect(withinServiceLevel(20_001, 20)).toBe(false);
  });
});

import { instantOfWallTime, isTimeZone, localDay, offsetMs, wallClock } from './zoned-time';

const hour = 3_600_000;

describe('zoned time', () => {
  it('when a zone is known or not, then isTimeZone says so', () => {
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });

  it('when an instant is read in a zone, then the wall clock and day are local', () => {
    const at = new Date('2026-11-27T17:30:05Z');
    expect(wallClock(at, 'Asia/Shanghai')).toEqual({ year: 2026, month: 11, day: 28, hour: 1, minute: 30, second: 5 });
    expect(localDay(at, 'Asia/Shanghai')).toBe('2026-11-28');
    expect(localDay(at, 'America/New_York')).toBe('2026-11-27');
  });

  it('when Berlin changes clocks, then the offset follows', () => {
    expect(offsetMs(Date.parse('2026-03-29T00:30:00Z'), 'Europe/Berlin')).toBe(hour);
    expect(offsetMs(Date.parse('2026-03-29T01:30:00Z'), 'Europe/Berlin')).toBe(2 * hour);
  });

  it('when a wall time exists once, twice or not at all, then the instant is the only, the earlier, or pushed past the gap', () => {
    const wall = (text: string) => Date.parse(`${text}Z`);
    expect(new Date(instantOfWallTime(wall('2026-07-01T09:00:00'), 'Europe/Berlin')).toISOString()).toBe('2026-07-01T07:00:00.000Z');
    // 02:30 on 25 Oct 2026 happens at 00:30Z (summer time) and 01:30Z (winter time).
    expect(new Date(instantOfWallTime(wall('2026-10-25T02:30:00'), 'Europe/Berlin')).toISOString()).toBe('2026-10-25T00:30:00.000Z');
    // 02:30 on 29 Mar 2026 does not exist: read with the winter offset it lands at 03:30 summer time.
    expect(new Date(instantOfWallTime(wall('2026-03-29T02:30:00'), 'Europe/Berlin')).toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });
});

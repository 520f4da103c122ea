import { parseQuietHours, shiftOutOfQuietHours } from './quiet-hours';

const shanghai = parseQuietHours('21:00-09:00', 'Asia/Shanghai');

describe('quiet hours', () => {
  it('when the send time is outside quiet hours, then it is kept', () => {
    const at = new Date('2026-05-04T03:30:00Z'); // 11:30 in Shanghai
    expect(shiftOutOfQuietHours(at, shanghai)).toEqual(at);
  });

  it('when the send time is late evening, then it moves to 09:00 the next local day', () => {
    expect(shiftOutOfQuietHours(new Date('2026-05-04T14:15:00Z'), shanghai)).toEqual(new Date('2026-05-05T01:00:00Z')); // 22:15 → 09:00
  });

  it('when the send time is after midnight, then it moves to 09:00 the same local day', () => {
    expect(shiftOutOfQuietHours(new Date('2026-05-04T18:00:00Z'), shanghai)).toEqual(new Date('2026-05-05T01:00:00Z')); // 02:00 → 09:00
  });

  it('when the send time is exactly at the end of quiet hours, then it is kept; at the start, then it moves', () => {
    expect(shiftOutOfQuietHours(new Date('2026-05-05T01:00:00Z'), shanghai)).toEqual(new Date('2026-05-05T01:00:00Z'));
    expect(shiftOutOfQuietHours(new Date('2026-05-04T13:00:00Z'), shanghai)).toEqual(new Date('2026-05-05T01:00:00Z'));
  });

  it('when the quiet span crosses a month end, then the next day is the first of the month', () => {
    expect(shiftOutOfQuietHours(new Date('2026-05-31T15:00:00Z'), shanghai)).toEqual(new Date('2026-06-01T01:00:00Z'));
  });

  it('when the quiet span does not wrap midnight, then only times inside it move', () => {
    const lunch = parseQuietHours('12:00-13:30', 'Asia/Shanghai');
    expect(shiftOutOfQuietHours(new Date('2026-05-04T04:10:00Z'), lunch)).toEqual(new Date('2026-05-04T05:30:00Z')); // 12:10 → 13:30
    expect(shiftOutOfQuietHours(new Date('2026-05-04T06:00:00Z'), lunch)).toEqual(new Date('2026-05-04T06:00:00Z'));
  });

  it('when clocks spring forward during the quiet night, then the end is 09:00 local in the new offset', () => {
    const newYork = parseQuietHours('21:00-09:00', 'America/New_York');
    // 2026-03-07 22:00 EST (UTC-5); DST starts 2026-03-08 02:00, so 09:00 EDT is 13:00Z, not 14:00Z.
    expect(shiftOutOfQuietHours(new Date('2026-03-08T03:00:00Z'), newYork)).toEqual(new Date('2026-03-08T13:00:00Z'));
  });

  it('when clocks fall back during the quiet night, then the end is 09:00 local in the new offset', () => {
    const newYork = parseQuietHours('21:00-09:00', 'America/New_York');
    // 2026-10-31 23:00 EDT (UTC-4); DST ends 2026-11-01 02:00, so 09:00 EST is 14:00Z.
    expect(shiftOutOfQuietHours(new Date('2026-11-01T03:00:00Z'), newYork)).toEqual(new Date('2026-11-01T14:00:00Z'));
  });

  it('when the quiet span ends inside a spring-forward gap, then the end is pushed past the gap', () => {
    const berlin = parseQuietHours('01:00-02:30', 'Europe/Berlin');
    // 2026-03-29 01:15 CET (00:15Z); 02:30 does not exist that night, 03:30 CEST (01:30Z) does.
    expect(shiftOutOfQuietHours(new Date('2026-03-29T00:15:00Z'), berlin)).toEqual(new Date('2026-03-29T01:30:00Z'));
  });

  it('when the setting is empty, off or a zero span, then there are no quiet hours; when malformed, then it throws', () => {
    expect(parseQuietHours('', 'Asia/Shanghai')).toBeNull();
    expect(parseQuietHours('off', 'Asia/Shanghai')).toBeNull();
    expect(parseQuietHours('09:00-09:00', 'Asia/Shanghai')).toBeNull();
    expect(() => parseQuietHours('9pm-9am', 'Asia/Shanghai')).toThrow(/quiet-hours/);
    expect(() => parseQuietHours('24:00-09:00', 'Asia/Shanghai')).toThrow();
  });
});

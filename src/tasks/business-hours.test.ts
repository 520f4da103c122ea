import { AppError } from '../platform/errors';
import { addBusinessMinutes, isOpenAt, nextOpening } from './business-hours';
import type { BusinessHours } from './department.model';

const nineToSix = [{ start: '09:00', end: '18:00' }];
const officeWeek: BusinessHours = { weekly: { mon: nineToSix, tue: nineToSix, wed: nineToSix, thu: nineToSix, fri: nineToSix }, holidays: [] };
const allDay = [{ start: '00:00', end: '24:00' }];
const alwaysOpen: BusinessHours = { weekly: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay }, holidays: [] };
const at = (iso: string) => new Date(iso);

describe('addBusinessMinutes', () => {
  it('when two hours are added on Friday 17:00, then the night and the weekend are skipped and it is due Monday 10:00', () => {
    // 2026-03-06 is a Friday; Shanghai is UTC+8 all year.
    const due = addBusinessMinutes(at('2026-03-06T17:00:00+08:00'), 120, officeWeek, 'Asia/Shanghai');
    expect(due.toISOString()).toBe(at('2026-03-09T10:00:00+08:00').toISOString());
  });

  it('when the time runs out exactly at closing, then it is due at closing, not at the next opening', () => {
    const due = addBusinessMinutes(at('2026-03-06T17:00:00+08:00'), 60, officeWeek, 'Asia/Shanghai');
    expect(due.toISOString()).toBe(at('2026-03-06T18:00:00+08:00').toISOString());
  });

  it('when the next day is a holiday, then it is skipped', () => {
    const hours = { ...officeWeek, holidays: ['2026-03-10'] };
    const due = addBusinessMinutes(at('2026-03-09T17:00:00+08:00'), 120, hours, 'Asia/Shanghai');
    expect(due.toISOString()).toBe(at('2026-03-11T10:00:00+08:00').toISOString());
  });

  it('when the day has a lunch break, then the break does not count', () => {
    const split = [{ start: '09:00', end: '12:00' }, { start: '13:00', end: '18:00' }];
    const due = addBusinessMinutes(at('2026-03-09T11:00:00+08:00'), 120, { weekly: { mon: split }, holidays: [] }, 'Asia/Shanghai');
    expect(due.toISOString()).toBe(at('2026-03-09T14:00:00+08:00').toISOString());
  });

  it('when the start is outside business hours, then counting begins at the next opening', () => {
    const due = addBusinessMinutes(at('2026-03-07T03:00:00+08:00'), 30, officeWeek, 'Asia/Shanghai');
    expect(due.toISOString()).toBe(at('2026-03-09T09:30:00+08:00').toISOString());
  });

  it('when zero minutes are added, then the start itself is returned, open or not', () => {
    expect(addBusinessMinutes(at('2026-03-07T03:00:00+08:00'), 0, officeWeek, 'Asia/Shanghai').toISOString()).toBe(at('2026-03-07T03:00:00+08:00').toISOString());
  });

  it('when a range ends at 24:00, then the next day continues from midnight', () => {
    const late = { weekly: { mon: [{ start: '20:00', end: '24:00' }], tue: [{ start: '00:00', end: '02:00' }] }, holidays: [] };
    const due = addBusinessMinutes(at('2026-03-09T23:00:00+08:00'), 120, late, 'Asia/Shanghai');
    expect(due.toISOString()).toBe(at('2026-03-10T01:00:00+08:00').toISOString());
  });

  it('when Berlin springs forward (29 March 2026), then the all-day range has 23 hours', () => {
    // Saturday 28 March 00:00 CET; 48 h of open time ends at Monday 01:00 CEST, an hour later on the clock.
    const due = addBusinessMinutes(at('2026-03-28T00:00:00+01:00'), 48 * 60, alwaysOpen, 'Europe/Berlin');
    expect(due.toISOString()).toBe(at('2026-03-30T01:00:00+02:00').toISOString());
    const sunday = { weekly: { sun: allDay }, holidays: [] };
    expect(addBusinessMinutes(at('2026-03-29T00:00:00+01:00'), 23 * 60, sunday, 'Europe/Berlin').toISOString()).toBe(at('2026-03-30T00:00:00+02:00').toISOString());
  });

  it('when Berlin falls back (25 October 2026), then the all-day range has 25 hours and office hours keep their wall times', () => {
    const sunday = { weekly: { sun: allDay }, holidays: [] };
    expect(addBusinessMinutes(at('2026-10-25T00:00:00+02:00'), 25 * 60, sunday, 'Europe/Berlin').toISOString()).toBe(at('2026-10-26T00:00:00+01:00').toISOString());
    // Friday 17:00 CEST + 2 h → Monday 10:00 CET: nights and the weekend (with its 25-hour Sunday) are skipped.
    expect(addBusinessMinutes(at('2026-10-23T17:00:00+02:00'), 120, officeWeek, 'Europe/Berlin').toISOString()).toBe(at('2026-10-26T10:00:00+01:00').toISOString());
  });

  it('when New York springs forward during an overnight shift, then the shift is an hour shorter', () => {
    const night = { weekly: { sun: [{ start: '00:00', end: '06:00' }] }, holidays: [] };
    // 8 March 2026, 02:00 EST → 03:00 EDT: 00:00–06:00 holds 5 real hours, so 6 hours spill into the next Sunday.
    const due = addBusinessMinutes(at('2026-03-08T00:00:00-05:00'), 6 * 60, night, 'America/New_York');
    expect(due.toISOString()).toBe(at('2026-03-15T01:00:00-04:00').toISOString());
  });

  it('when the week has no open time, then a validation error names businessHours', () => {
    const attempt = () => addBusinessMinutes(at('2026-03-09T10:00:00Z'), 60, { weekly: {}, holidays: [] }, 'UTC');
    expect(attempt).toThrow(AppError);
    try {
      attempt();
    } catch (error) {
      expect((error as AppError).code).toBe('validation_failed');
      expect((error as AppError).details).toEqual([expect.objectContaining({ field: 'businessHours' })]);
    }
  });

  it('when a range is malformed, then the validation error names that range', () => {
    expect(() => addBusinessMinutes(at('2026-03-09T10:00:00Z'), 60, { weekly: { mon: [{ start: '18:00', end: '09:00' }] }, holidays: [] }, 'UTC')).toThrow(/businessHours\.weekly\.mon\[0\]\.end/);
  });
});

describe('isOpenAt and nextOpening', () => {
  it('when asked during office hours, then it is open and the next opening is now', () => {
    expect(isOpenAt(at('2026-03-09T09:00:00+08:00'), officeWeek, 'Asia/Shanghai')).toBe(true);
    expect(nextOpening(at('2026-03-09T12:00:00+08:00'), officeWeek, 'Asia/Shanghai').toISOString()).toBe(at('2026-03-09T12:00:00+08:00').toISOString());
  });

  it('when asked at closing time on Friday, then it is closed and opens again Monday 09:00', () => {
    expect(isOpenAt(at('2026-03-06T18:00:00+08:00'), officeWeek, 'Asia/Shanghai')).toBe(false);
    expect(nextOpening(at('2026-03-06T18:00:00+08:00'), officeWeek, 'Asia/Shanghai').toISOString()).toBe(at('2026-03-09T09:00:00+08:00').toISOString());
  });

  it('when the time zone differs from UTC, then opening hours are local: 09:00 in Berlin is 08:00 UTC in winter and 07:00 in summer', () => {
    expect(nextOpening(at('2026-01-05T05:00:00Z'), officeWeek, 'Europe/Berlin').toISOString()).toBe('2026-01-05T08:00:00.000Z');
    expect(nextOpening(at('2026-07-06T05:00:00Z'), officeWeek, 'Europe/Berlin').toISOString()).toBe('2026-07-06T07:00:00.000Z');
  });
});

import { AppError } from '../platform/errors';
import { instantOfWallTime, wallTimeMs } from '../platform/zoned-time';
import { weekdays, type BusinessHours, type Weekday } from './department.model';

/*
 * Business-time arithmetic in the department's zone (wall time ↔ instant from platform/zoned-time).
 * Each open range is turned into a pair of real instants, so a
 * range that spans a DST change is as long as the clock says (00:00–24:00 on the spring-forward day
 * of Europe/Berlin is 23 hours, on the fall-back day 25).
 */

const minuteMs = 60_000;
const dayMs = 24 * 60 * minuteMs;
// Ten years of days: with at least one open range a week, only a holiday list covering every
// remaining day could get this far; stop with a clear error instead of looping.
const maxDays = 3660;

interface DaySchedule {
  /** Minutes after local midnight, merged and sorted; `end` may be 1440 (24:00). */
  ranges: Array<{ start: number; end: number }>;
}

function parseTime(value: string, field: string): number {
  const match = /^(\d{2}):(\d{2})$/.exec(value ?? '');
  const minutes = match ? Number(match[1]) * 60 + Number(match[2]) : NaN;
  if (!match || Number(match[2]) > 59 || minutes > 24 * 60) throw AppError.validation([{ field, message: `"${value}" is not a time between 00:00 and 24:00 (HH:MM)` }]);
  return minutes;
}

function schedule(hours: BusinessHours): Record<Weekday, DaySchedule> {
  const result = {} as Record<Weekday, DaySchedule>;
  let openMinutes = 0;
  for (const day of weekdays) {
    const ranges = (hours?.weekly?.[day] ?? []).map((range, index) => {
      const field = `businessHours.weekly.${day}[${index}]`;
      const start = parseTime(range.start, `${field}.start`);
      const end = parseTime(range.end, `${field}.end`);
      if (end <= start) throw AppError.validation([{ field: `${field}.end`, message: 'must be after start; split a range over midnight into two days' }]);
      return { start, end };
    });
    ranges.sort((a, b) => a.start - b.start);
    const merged: DaySchedule['ranges'] = [];
    for (const range of ranges) {
      const last = merged[merged.length - 1];
      if (last && range.start <= last.end) last.end = Math.max(last.end, range.end);
      else merged.push({ ...range });
    }
    openMinutes += merged.reduce((sum, range) => sum + range.end - range.start, 0);
    result[day] = { ranges: merged };
  }
  if (openMinutes === 0) throw AppError.validation([{ field: 'businessHours', message: 'has no open time in the week: add at least one opening range' }]);
  return result;
}

/** Open intervals [start, end) as instants, in order, from `from` on (the first one clipped to it). */
function openIntervals(from: number, hours: BusinessHours, timeZone: string): Generator<[number, number]> {
  // Validated here, eagerly: a generator body would not run before the first interval is asked for.
  return intervalsFrom(from, schedule(hours), hours, timeZone);
}

function* intervalsFrom(from: number, week: Record<Weekday, DaySchedule>, hours: BusinessHours, timeZone: string): Generator<[number, number]> {
  const holidays = new Set(hours.holidays ?? []);
  const localNow = wallTimeMs(from, timeZone);
  const firstDay = localNow - (((localNow % dayMs) + dayMs) % dayMs);
  for (let index = 0; index < maxDays; index++) {
    const day = firstDay + index * dayMs;
    if (holidays.has(new Date(day).toISOString().slice(0, 10))) continue;
    // getUTCDay: 0 is Sunday; weekdays start on Monday.
    const weekday = weekdays[(new Date(day).getUTCDay() + 6) % 7];
    for (const range of week[weekday].ranges) {
      const end = instantOfWallTime(day + range.end * minuteMs, timeZone);
      if (end <= from) continue;
      const start = Math.max(instantOfWallTime(day + range.start * minuteMs, timeZone), from);
      if (end > start) yield [start, end];
    }
  }
  throw AppError.validation([{ field: 'businessHours.holidays', message: 'leave no open day in the next ten years' }]);
}

/** The instant `minutes` of open business time after `start`, counted in the department's zone (DST-correct). */
export function addBusinessMinutes(start: Date, minutes: number, hours: BusinessHours, timeZone: string): Date {
  if (!Number.isFinite(minutes) || minutes < 0) throw AppError.validation([{ field: 'slaMinutes', message: 'must be zero or more minutes' }]);
  const intervals = openIntervals(start.getTime(), hours, timeZone);
  if (minutes === 0) return new Date(start);
  let remaining = Math.round(minutes * minuteMs);
  for (const [from, to] of intervals) {
    // `<=`: time that runs out exactly at closing is due at closing, not at the next opening.
    if (remaining <= to - from) return new Date(from + remaining);
    remaining -= to - from;
  }
  throw new Error('unreachable: openIntervals ends by throwing');
}

/** Whether the department is open at `at`. */
export function isOpenAt(at: Date, hours: BusinessHours, timeZone: string): boolean {
  return nextOpening(at, hours, timeZone).getTime() === at.getTime();
}

/** `at` itself when open, else the next opening instant. */
export function nextOpening(at: Date, hours: BusinessHours, timeZone: string): Date {
  const first = openIntervals(at.getTime(), hours, timeZone).next();
  if (first.done) throw new Error('unreachable: openIntervals ends by throwing');
  return new Date(first.value[0]);
}

/**
 * Interval arithmetic for rollups. Rollups are stored in 15-minute buckets keyed by their UTC start:
 * every time zone in use today has an offset that is a multiple of 15 minutes, so a UTC quarter is
 * also a local quarter, and a DST change never makes two buckets share a key (local 02:15 happens
 * twice on the autumn day; its two UTC starts differ). Hours and days are grouped in local time.
 */
import { localDay, offsetMs, wallClock } from '../platform/zoned-time';

export { localDay } from '../platform/zoned-time';

export const quarterMs = 15 * 60_000;
export type Interval = '15m' | 'hour' | 'day';

/** Minutes east of UTC in force at `at` (Berlin: 60 in winter, 120 in summer). */
export function offsetMinutes(at: Date, timeZone: string): number {
  return Math.round(offsetMs(at.getTime(), timeZone) / 60_000);
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** The 15-minute bucket holding `at`. */
export function quarterStart(at: Date): Date {
  return new Date(Math.floor(at.getTime() / quarterMs) * quarterMs);
}

const dayStarts = new Map<string, Date>();

/**
 * The first instant of a local day. Usually local midnight; on a day whose midnight is skipped by
 * DST, the first instant that exists. Found by stepping quarters, so it never guesses an offset.
 */
export function startOfLocalDay(day: string, timeZone: string): Date {
  const cacheKey = `${timeZone}|${day}`;
  const cached = dayStarts.get(cacheKey);
  if (cached) return cached;
  const [year, month, date] = day.split('-').map(Number);
  const utcMidnight = Date.UTC(year, month - 1, date);
  // Usually midnight at the offset of UTC midnight; checked, since DST may move it.
  const guess = utcMidnight - offsetMinutes(new Date(utcMidnight), timeZone) * 60_000;
  const isFirst = (at: number) => localDay(new Date(at), timeZone) === day && localDay(new Date(at - quarterMs), timeZone) < day;
  let at = guess;
  if (!isFirst(at)) {
    // Local midnight lies within UTC-14h…UTC+12h of UTC midnight for every zone.
    at = utcMidnight - 14 * 3_600_000;
    const limit = at + 30 * 3_600_000;
    while (at < limit && localDay(new Date(at), timeZone) < day) at += quarterMs;
  }
  const start = new Date(at);
  dayStarts.set(cacheKey, start);
  return start;
}

/** The day after `day` (calendar arithmetic, no zone involved). */
export function nextDay(day: string): string {
  const [year, month, date] = day.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, date + 1)).toISOString().slice(0, 10);
}

/** The local hour holding the quarter starting at `quarter`, as its first instant. */
export function hourStart(quarter: Date, timeZone: string): Date {
  return new Date(quarter.getTime() - (wallClock(quarter, timeZone).minute % 60) * 60_000 - (quarter.getTime() % quarterMs));
}

/** `at` as local time with its offset, e.g. 2026-10-25T02:00:00+01:00 (unambiguous on DST days). */
export function formatLocal(at: Date, timeZone: string): string {
  const p = wallClock(at, timeZone);
  const offset = offsetMinutes(at, timeZone);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Starts of the quarters that begin in [from, to). */
export function quartersIn(from: Date, to: Date): Date[] {
  const first = Math.ceil(from.getTime() / quarterMs) * quarterMs;
  const quarters: Date[] = [];
  for (let at = first; at < to.getTime(); at += quarterMs) quarters.push(new Date(at));
  return quarters;
}

/** Local days whose first instant lies in [from, to). */
export function daysIn(from: Date, to: Date, timeZone: string): string[] {
  const days: string[] = [];
  let day = localDay(from, timeZone);
  if (startOfLocalDay(day, timeZone) < from) day = nextDay(day);
  while (startOfLocalDay(day, timeZone) < to) {
    days.push(day);
    day = nextDay(day);
  }
  return days;
}

/**
 * Cuts [from, to) at quarter boundaries: an agent available from 09:10 to 09:40 spent 5 minutes in
 * the 09:00 quarter, 15 in 09:15 and 10 in 09:30.
 */
export function splitByQuarter(from: Date, to: Date): Array<{ quarter: Date; ms: number }> {
  const pieces: Array<{ quarter: Date; ms: number }> = [];
  let at = from.getTime();
  while (at < to.getTime()) {
    const quarter = Math.floor(at / quarterMs) * quarterMs;
    const end = Math.min(quarter + quarterMs, to.getTime());
    pieces.push({ quarter: new Date(quarter), ms: end - at });
    at = end;
  }
  return pieces;
}

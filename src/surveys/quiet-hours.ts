import { instantOfWallTime, wallClock } from '../platform/zoned-time';

/** A daily span of wall-clock time in one zone, in minutes after midnight; may wrap past midnight. */
export interface QuietHours {
  startMinute: number;
  endMinute: number;
  timeZone: string;
}

const spanPattern = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;

/** Parses `21:00-09:00`; empty or `off` means no quiet hours (null). Throws on anything else. */
export function parseQuietHours(value: string, timeZone: string): QuietHours | null {
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'off') return null;
  const match = spanPattern.exec(trimmed);
  if (!match) throw new Error(`not a quiet-hours span (HH:MM-HH:MM): ${value}`);
  const startMinute = Number(match[1]) * 60 + Number(match[2]);
  const endMinute = Number(match[3]) * 60 + Number(match[4]);
  if (startMinute === endMinute) return null;
  return { startMinute, endMinute, timeZone };
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
  minuteOfDay: number;
}

function localDate(at: Date, timeZone: string): LocalDate {
  const wall = wallClock(at, timeZone);
  return { year: wall.year, month: wall.month, day: wall.day, minuteOfDay: wall.hour * 60 + wall.minute };
}

function addDays(wall: LocalDate, days: number): LocalDate {
  const date = new Date(Date.UTC(wall.year, wall.month - 1, wall.day + days));
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), minuteOfDay: wall.minuteOfDay };
}

/**
 * `at` itself when it is outside quiet hours, else the end of the quiet span it falls in (local
 * wall-clock time in the span's zone, so DST changes move the instant, not the local time).
 */
export function shiftOutOfQuietHours(at: Date, quiet: QuietHours | null): Date {
  if (!quiet) return at;
  const local = localDate(at, quiet.timeZone);
  const minute = local.minuteOfDay;
  const wraps = quiet.startMinute > quiet.endMinute;
  const inQuiet = wraps ? minute >= quiet.startMinute || minute < quiet.endMinute : minute >= quiet.startMinute && minute < quiet.endMinute;
  if (!inQuiet) return at;
  // The span ends today, unless it started today and wraps past midnight.
  const endsTomorrow = wraps && minute >= quiet.startMinute;
  const endDay = addDays(local, endsTomorrow ? 1 : 0);
  const endWall = Date.UTC(endDay.year, endDay.month - 1, endDay.day, 0, quiet.endMinute);
  return new Date(instantOfWallTime(endWall, quiet.timeZone));
}


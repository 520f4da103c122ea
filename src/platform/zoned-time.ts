/*
 * Local wall-clock time in IANA zones with plain Intl (no date library), shared by everything that
 * thinks in a place's time: business hours, quiet hours, report days and intervals. An instant maps
 * to wall time with Intl.DateTimeFormat; a wall time maps back by trying the zone's offsets a day
 * either side (a zone changes offset at most once in a day).
 */

const dayMs = 86_400_000;

export interface WallClock {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, format);
  }
  return format;
}

/** Whether `timeZone` is an IANA zone this runtime knows, e.g. Asia/Shanghai. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock fields of `at` in `timeZone`. */
export function wallClock(at: Date | number, timeZone: string): WallClock {
  const fields: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(at)) if (part.type !== 'literal') fields[part.type] = Number(part.value);
  return { year: fields.year, month: fields.month, day: fields.day, hour: fields.hour, minute: fields.minute, second: fields.second };
}

/** The wall time of `instant` written as if it were UTC, so plain date arithmetic works on it. */
export function wallTimeMs(instant: number, timeZone: string): number {
  const wall = wallClock(instant, timeZone);
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
}

/** The zone's offset from UTC at `instant`, in ms (Asia/Shanghai: +8 h; Europe/Berlin: +1 h or +2 h). */
export function offsetMs(instant: number, timeZone: string): number {
  const whole = Math.floor(instant / 1000) * 1000;
  return wallTimeMs(whole, timeZone) - whole;
}

/**
 * The instant a wall time (as UTC ms, see wallTimeMs) happens. In an overlap (clocks fall back) the
 * earlier instant wins; a time in a gap (spring forward) is read with the offset before the gap,
 * i.e. pushed forward by the gap's length, as Temporal's "compatible" disambiguation does.
 */
export function instantOfWallTime(wall: number, timeZone: string): number {
  const before = offsetMs(wall - dayMs, timeZone);
  const after = offsetMs(wall + dayMs, timeZone);
  const valid = [wall - before, wall - after].filter((candidate) => offsetMs(candidate, timeZone) === wall - candidate);
  return valid.length ? Math.min(...valid) : wall - before;
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** The local calendar day of `at`, YYYY-MM-DD. */
export function localDay(at: Date | number, timeZone: string): string {
  const wall = wallClock(at, timeZone);
  return `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}`;
}

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

interface WallClock {
  year: number;
  month: number;
  day: number;
  minuteOfDay: number;
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

function wallClock(at: Date, timeZone: string): WallClock & { second: number } {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(at).map((part) => [part.type, part.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute), second: Number(parts.second) };
}

/** Offset of `timeZone` from UTC at instant `ms`, in ms (e.g. +8 h for Asia/Shanghai). */
function offsetMs(ms: number, timeZone: string): number {
  const wall = wallClock(new Date(ms), timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, Math.floor(wall.minuteOfDay / 60), wall.minuteOfDay % 60, wall.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant of a local wall-clock time (its first occurrence when clocks fall back). A time that
 * does not exist (a spring-forward gap) is pushed forward by the gap, e.g. 02:30 → 03:30.
 */
function instantOf(wall: WallClock, timeZone: string): Date {
  const naive = Date.UTC(wall.year, wall.month - 1, wall.day, Math.floor(wall.minuteOfDay / 60), wall.minuteOfDay % 60);
  // Two candidates cover both sides of a transition; the earlier one that reads back right wins.
  const candidates = [naive - offsetMs(naive - 86_400_000, timeZone), naive - offsetMs(naive + 86_400_000, timeZone)].sort((a, b) => a - b);
  for (const candidate of candidates) {
    const back = wallClock(new Date(candidate), timeZone);
    if (back.year === wall.year && back.month === wall.month && back.day === wall.day && back.minuteOfDay === wall.minuteOfDay) return new Date(candidate);
  }
  // In a gap neither reads back: the time taken with the offset before the jump lands after it.
  return new Date(Math.max(...candidates));
}

function addDays(wall: WallClock, days: number): WallClock {
  const date = new Date(Date.UTC(wall.year, wall.month - 1, wall.day + days));
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), minuteOfDay: wall.minuteOfDay };
}

/**
 * `at` itself when it is outside quiet hours, else the end of the quiet span it falls in (local
 * wall-clock time in the span's zone, so DST changes move the instant, not the local time).
 */
export function shiftOutOfQuietHours(at: Date, quiet: QuietHours | null): Date {
  if (!quiet) return at;
  const local = wallClock(at, quiet.timeZone);
  const minute = local.minuteOfDay;
  const wraps = quiet.startMinute > quiet.endMinute;
  const inQuiet = wraps ? minute >= quiet.startMinute || minute < quiet.endMinute : minute >= quiet.startMinute && minute < quiet.endMinute;
  if (!inQuiet) return at;
  // The span ends today, unless it started today and wraps past midnight.
  const endsTomorrow = wraps && minute >= quiet.startMinute;
  const endDay = addDays(local, endsTomorrow ? 1 : 0);
  return instantOf({ ...endDay, minuteOfDay: quiet.endMinute }, quiet.timeZone);
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Pure figures for the wallboard. "Today" is a calendar day in one configured time zone, not UTC:
 * a contact center in Shanghai closes its day at local midnight.
 */
import * as kpis from '../reports/kpis';

/** The day counters roll over in; a constant until the lead adds a setting (e.g. STATS_TIME_ZONE). */
export const statsTimeZone = 'Asia/Shanghai';

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day of `at` in `timeZone`, as YYYY-MM-DD. */
export function statsDay(at: Date, timeZone = statsTimeZone): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    // en-CA formats dates as YYYY-MM-DD.
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  return format.format(at);
}

/**
 * Service level = answered within the threshold ÷ (answered + abandoned). Abandoned contacts count
 * against it (the caller gave up waiting); contacts that overflowed elsewhere count in neither.
 * Null when nothing was answered or abandoned yet: 0 % would read as a failure.
 */
export function serviceLevel(counts: { answeredWithinServiceLevel: number; answered: number; abandoned: number }): number | null {
  // The one definition lives with the other KPIs (reports), so every screen computes it alike.
  return kpis.serviceLevel({ answeredInThreshold: counts.answeredWithinServiceLevel, answered: counts.answered, abandoned: counts.abandoned });
}

/** Whether a contact accepted `waitedMs` after it was queued counts as answered within the queue's threshold. */
export function withinServiceLevel(waitedMs: number, serviceLevelSeconds: number): boolean {
  return kpis.answeredWithinThreshold(waitedMs, serviceLevelSeconds);
}

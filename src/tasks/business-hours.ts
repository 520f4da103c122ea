import type { BusinessHours } from './department.model';

// PLACEHOLDER (being replaced by the SLA engineer): calendar time, no business hours yet.

/** The instant `minutes` of open business time after `start`, counted in the department's zone (DST-correct). */
export function addBusinessMinutes(start: Date, minutes: number, _hours: BusinessHours, _timeZone: string): Date {
  return new Date(start.getTime() + minutes * 60_000);
}

/** Whether the department is open at `at`. */
export function isOpenAt(_at: Date, _hours: BusinessHours, _timeZone: string): boolean {
  return true;
}

/** `at` itself when open, else the next opening instant. */
export function nextOpening(at: Date, _hours: BusinessHours, _timeZone: string): Date {
  return at;
}

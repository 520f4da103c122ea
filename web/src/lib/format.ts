/** Elapsed seconds as m:ss, or h:mm:ss from an hour on: what a wallboard and a state timer show. */
export function clock(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const pad = (value: number) => String(value).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

export function secondsSince(iso: string, now: number): number {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? 0 : Math.max(0, (now - at) / 1000);
}

export function dateTime(iso: string, locale: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  return at.toLocaleString(locale, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function percent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? '—' : `${Math.round(ratio * 100)}%`;
}

/** A few seconds with a decimal (ASA 1.5 s), a minute or more as m:ss. */
export function shortDuration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  return clock(seconds);
}

/** A span as its largest whole unit (45 min, 3 h, 2 d): how far a due time is, at a glance. */
export function span(seconds: number): { count: number; unit: 'minutes' | 'hours' | 'days' } {
  const abs = Math.abs(seconds);
  if (abs < 3600) return { count: Math.max(1, Math.round(abs / 60)), unit: 'minutes' };
  if (abs < 48 * 3600) return { count: Math.round(abs / 3600), unit: 'hours' };
  return { count: Math.round(abs / 86400), unit: 'days' };
}

/** HH:MM in the viewer's zone: axis labels of the day's charts. */
export function timeOfDay(iso: string, locale: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? '' : at.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit', hour12: false });
}

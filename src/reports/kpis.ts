/**
 * Every KPI of Switchboard, one pure function each, computed from stored sums (never from stored
 * averages: averages of averages are wrong). The wallboard, the reports, the scorecards and the CSV
 * export all call these, so two screens showing "service level" cannot disagree. A ratio whose
 * denominator is zero is null (shown as "—"): 0 % would read as a failure, and NaN is not a number
 * anyone can chart. Definitions in words: docs/kpis.md.
 */

/** The counters a rollup bucket holds; all are sums, so buckets add up to hours, days and ranges. */
export interface Sums {
  /** Contacts that entered the queue (an overflow counts in both queues). */
  offered: number;
  /** Contacts an agent accepted (first acceptance only; transfers are not answered again). */
  answered: number;
  answeredInThreshold: number;
  /** Gave up waiting after the short-abandon threshold. */
  abandoned: number;
  /** Gave up waiting before the short-abandon threshold (misdials, instant hang-ups). */
  shortAbandoned: number;
  overflowed: number;
  transferred: number;
  waitAnsweredMs: number;
  waitAbandonedMs: number;
  /** Longest wait of a contact answered or abandoned; absent when there was none. */
  maxWaitMs?: number;
  /** Handling segments finished (completed and wrapped up, or transferred away). */
  handled: number;
  talkMs: number;
  holdMs: number;
  wrapMs: number;
  /** Agent time logged in and not away (available, busy, wrap-up). */
  readyMs: number;
  /** Agent time busy or in wrap-up. */
  onContactMs: number;
  /** Completed inbound contacts, and those of them followed by a repeat contact or a follow-up task. */
  fcrContacts: number;
  fcrRepeats: number;
  tasksCreated: number;
  tasksFiled: number;
  tasksAccepted: number;
  acceptMs: number;
  tasksResolved: number;
  resolveMs: number;
  resolvedInSla: number;
  tasksReopened: number;
  tasksBreached: number;
  csatAnswers: number;
  csatPositive: number;
  csatScoreSum: number;
}

export const sumFields = [
  'offered', 'answered', 'answeredInThreshold', 'abandoned', 'shortAbandoned', 'overflowed', 'transferred', 'waitAnsweredMs', 'waitAbandonedMs',
  'handled', 'talkMs', 'holdMs', 'wrapMs', 'readyMs', 'onContactMs', 'fcrContacts', 'fcrRepeats',
  'tasksCreated', 'tasksFiled', 'tasksAccepted', 'acceptMs', 'tasksResolved', 'resolveMs', 'resolvedInSla', 'tasksReopened', 'tasksBreached',
  'csatAnswers', 'csatPositive', 'csatScoreSum',
] as const satisfies readonly (keyof Sums)[];
export type SumField = (typeof sumFields)[number];

export function emptySums(): Sums {
  return Object.fromEntries(sumFields.map((field) => [field, 0])) as unknown as Sums;
}

/** Adds `more` into a copy of `into`: counters add, the longest wait is the larger one. */
export function addSums(into: Sums, more: Partial<Sums>): Sums {
  const total = { ...into };
  for (const field of sumFields) total[field] += more[field] ?? 0;
  if (more.maxWaitMs !== undefined) total.maxWaitMs = Math.max(total.maxWaitMs ?? 0, more.maxWaitMs);
  return total;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
/** num ÷ den to 4 decimals, or null when den is 0. */
export const ratio = (num: number, den: number): number | null => (den > 0 ? round(num / den, 4) : null);
/** Total milliseconds ÷ count, in seconds to 1 decimal, or null when count is 0. */
export const averageSeconds = (totalMs: number, count: number): number | null => (count > 0 ? round(totalMs / count / 1000, 1) : null);

// --- Classifying one contact (used when events are counted, live and in the rebuild) ---

/** Answered within the queue's threshold T: a wait of exactly T counts as within. */
export function answeredWithinThreshold(waitMs: number, thresholdSeconds: number): boolean {
  return waitMs <= thresholdSeconds * 1000;
}

/** A short abandon left before the threshold (default 5 s): counted apart, kept out of SL and abandonment. */
export function isShortAbandon(waitMs: number, shortAbandonSeconds: number): boolean {
  return waitMs < shortAbandonSeconds * 1000;
}

/** A CSAT answer of 4 or 5 (on 1–5) is a satisfied customer. */
export function isSatisfied(score: number): boolean {
  return score >= 4;
}

// --- KPIs over sums ---

/** SL = answered within T ÷ (answered + abandoned after the short-abandon threshold). */
export function serviceLevel(s: Pick<Sums, 'answeredInThreshold' | 'answered' | 'abandoned'>): number | null {
  return ratio(s.answeredInThreshold, s.answered + s.abandoned);
}

/** SL-answered = answered within T ÷ answered (abandons ignored). */
export function serviceLevelAnswered(s: Pick<Sums, 'answeredInThreshold' | 'answered'>): number | null {
  return ratio(s.answeredInThreshold, s.answered);
}

/** ASA in seconds = total wait of answered contacts ÷ answered. */
export function averageSpeedOfAnswer(s: Pick<Sums, 'waitAnsweredMs' | 'answered'>): number | null {
  return averageSeconds(s.waitAnsweredMs, s.answered);
}

/** Abandonment rate = abandoned (after the short threshold) ÷ offered. */
export function abandonmentRate(s: Pick<Sums, 'abandoned' | 'offered'>): number | null {
  return ratio(s.abandoned, s.offered);
}

/** Longest wait in seconds of a contact answered or abandoned; null when there was none. */
export function longestWait(s: Pick<Sums, 'maxWaitMs'>): number | null {
  return s.maxWaitMs === undefined ? null : round(s.maxWaitMs / 1000, 1);
}

/** AHT in seconds = (talk + hold + wrap-up) ÷ handled. */
export function averageHandleTime(s: Pick<Sums, 'talkMs' | 'holdMs' | 'wrapMs' | 'handled'>): number | null {
  return averageSeconds(s.talkMs + s.holdMs + s.wrapMs, s.handled);
}

/** Occupancy = time busy or in wrap-up ÷ time logged in and not away. */
export function occupancy(s: Pick<Sums, 'onContactMs' | 'readyMs'>): number | null {
  return ratio(s.onContactMs, s.readyMs);
}

/** FCR = completed contacts with no repeat contact within N days and no follow-up task ÷ completed contacts. */
export function firstContactResolution(s: Pick<Sums, 'fcrContacts' | 'fcrRepeats'>): number | null {
  return ratio(s.fcrContacts - s.fcrRepeats, s.fcrContacts);
}

/** Seconds from filing to first acceptance, on average. */
export function timeToAccept(s: Pick<Sums, 'acceptMs' | 'tasksAccepted'>): number | null {
  return averageSeconds(s.acceptMs, s.tasksAccepted);
}

/** Seconds from filing to first resolution, on average. */
export function timeToResolve(s: Pick<Sums, 'resolveMs' | 'tasksResolved'>): number | null {
  return averageSeconds(s.resolveMs, s.tasksResolved);
}

/** Tasks resolved before their SLA breached ÷ tasks resolved. */
export function tasksWithinSla(s: Pick<Sums, 'resolvedInSla' | 'tasksResolved'>): number | null {
  return ratio(s.resolvedInSla, s.tasksResolved);
}

/** Tasks reopened ÷ tasks resolved. */
export function reopenedRate(s: Pick<Sums, 'tasksReopened' | 'tasksResolved'>): number | null {
  return ratio(s.tasksReopened, s.tasksResolved);
}

/** CSAT = answers of 4–5 ÷ answers. */
export function csatPercent(s: Pick<Sums, 'csatPositive' | 'csatAnswers'>): number | null {
  return ratio(s.csatPositive, s.csatAnswers);
}

/** Average CSAT score (1–5), to 2 decimals. */
export function csatAverage(s: Pick<Sums, 'csatScoreSum' | 'csatAnswers'>): number | null {
  return s.csatAnswers > 0 ? round(s.csatScoreSum / s.csatAnswers, 2) : null;
}

/** Every figure of one bucket (or of any sum of buckets), as the reports and the wallboard show them. */
export function figures(s: Sums) {
  return {
    offered: s.offered,
    answered: s.answered,
    answeredWithinThreshold: s.answeredInThreshold,
    abandoned: s.abandoned,
    shortAbandoned: s.shortAbandoned,
    overflowed: s.overflowed,
    transferred: s.transferred,
    serviceLevel: serviceLevel(s),
    serviceLevelAnswered: serviceLevelAnswered(s),
    asaSeconds: averageSpeedOfAnswer(s),
    abandonmentRate: abandonmentRate(s),
    longestWaitSeconds: longestWait(s),
    handled: s.handled,
    talkSeconds: round(s.talkMs / 1000, 1),
    holdSeconds: round(s.holdMs / 1000, 1),
    wrapSeconds: round(s.wrapMs / 1000, 1),
    ahtSeconds: averageHandleTime(s),
    occupancy: occupancy(s),
    fcrContacts: s.fcrContacts,
    fcr: firstContactResolution(s),
    tasksCreated: s.tasksCreated,
    tasksFiled: s.tasksFiled,
    tasksAccepted: s.tasksAccepted,
    timeToAcceptSeconds: timeToAccept(s),
    tasksResolved: s.tasksResolved,
    tasksResolvedWithinSla: s.resolvedInSla,
    timeToResolveSeconds: timeToResolve(s),
    tasksWithinSla: tasksWithinSla(s),
    tasksReopened: s.tasksReopened,
    reopenedRate: reopenedRate(s),
    tasksBreached: s.tasksBreached,
    csatAnswers: s.csatAnswers,
    csatPercent: csatPercent(s),
    csatAverage: csatAverage(s),
  };
}
export type Figures = ReturnType<typeof figures>;

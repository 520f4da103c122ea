import type { Figures } from './kpis';
import type { ReportRow } from './report-query';

/** The figures each report shows, in column order (JSON rows carry these; the CSV has them as columns). */
export const columns = {
  queue: ['offered', 'answered', 'answeredWithinThreshold', 'abandoned', 'shortAbandoned', 'overflowed', 'transferred', 'serviceLevel', 'serviceLevelAnswered', 'asaSeconds', 'abandonmentRate', 'longestWaitSeconds', 'handled', 'ahtSeconds', 'fcrContacts', 'fcr', 'csatAnswers', 'csatPercent', 'csatAverage'],
  channel: ['offered', 'answered', 'answeredWithinThreshold', 'abandoned', 'shortAbandoned', 'overflowed', 'transferred', 'serviceLevel', 'serviceLevelAnswered', 'asaSeconds', 'abandonmentRate', 'longestWaitSeconds', 'handled', 'ahtSeconds', 'fcrContacts', 'fcr', 'csatAnswers', 'csatPercent', 'csatAverage'],
  agent: ['answered', 'handled', 'transferred', 'talkSeconds', 'holdSeconds', 'wrapSeconds', 'ahtSeconds', 'occupancy', 'fcrContacts', 'fcr', 'csatAnswers', 'csatPercent', 'csatAverage', 'tasksFiled', 'tasksResolved', 'tasksResolvedWithinSla', 'tasksWithinSla'],
  department: ['tasksCreated', 'tasksAccepted', 'timeToAcceptSeconds', 'tasksResolved', 'tasksResolvedWithinSla', 'timeToResolveSeconds', 'tasksWithinSla', 'tasksReopened', 'reopenedRate', 'tasksBreached', 'csatAnswers', 'csatPercent', 'csatAverage'],
  task_type: ['tasksCreated', 'tasksAccepted', 'timeToAcceptSeconds', 'tasksResolved', 'tasksResolvedWithinSla', 'timeToResolveSeconds', 'tasksWithinSla', 'tasksReopened', 'reopenedRate', 'tasksBreached'],
} as const satisfies Record<string, readonly (keyof Figures)[]>;
export type ReportKind = keyof typeof columns;

/** How a row names its key: `queue`, `agentId`, `departmentId` (+ `typeCode`), `channel`. */
export function keyFields(kind: ReportKind, key: string): Record<string, string> {
  switch (kind) {
    case 'queue':
      return { queue: key };
    case 'channel':
      return { channel: key };
    case 'agent':
      return { agentId: key };
    case 'department':
      return { departmentId: key };
    case 'task_type': {
      const cut = key.indexOf('/');
      return { departmentId: key.slice(0, cut), typeCode: key.slice(cut + 1) };
    }
  }
}

/** The key columns of a kind, in order. */
export function keyColumns(kind: ReportKind): string[] {
  return kind === 'task_type' ? ['departmentId', 'typeCode'] : Object.keys(keyFields(kind, ''));
}

export type ShownRow = Record<string, string | number | null>;

/** A row as the API shows it: its key fields, its interval, and the kind's figures. */
export function showRow(kind: ReportKind, row: ReportRow, extra: Record<string, number | null> = {}): ShownRow {
  return { ...keyFields(kind, row.key), start: row.start, end: row.end, ...extra, ...Object.fromEntries(columns[kind].map((column) => [column, row[column]])) };
}

// A cell a spreadsheet would run as a formula (OWASP "CSV injection"): = + - @, tab or CR first.
const formulaStart = /^[=+\-@\t\r]/;
// A plain number (signed, decimal, exponent) is never a formula, so `-3` or `+86138…` stay as they are.
const plainNumber = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * One CSV cell. Numbers (the figures) are written as they are, negative ones too: a value's type tells
 * a number from text. Text that starts like a formula gets a leading `'`, which spreadsheets show as
 * text, unless it is a plain number; then quoting as RFC 4180 wants.
 */
const csvCell = (value: string | number | null | undefined): string => {
  // Null is "—", as on screen: the figure has no meaning for the interval (nothing to divide by).
  if (value === null || value === undefined) return '—';
  let text = String(value);
  if (typeof value === 'string' && formulaStart.test(text) && !plainNumber.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

export function csvLine(values: Array<string | number | null | undefined>): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

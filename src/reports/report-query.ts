import { AppError } from '../platform/errors';
import { dayId, quarterId } from './buckets';
import type { Dimension } from './facts';
import { daysIn, formatLocal, hourStart, nextDay, quarterMs, quartersIn, startOfLocalDay, type Interval } from './intervals';
import { addSums, emptySums, figures, type Figures, type Sums } from './kpis';
import type { ReportsRepository } from './reports.repository';

export type ReportInterval = Interval | 'total';

export interface ReportRequest {
  dim: Dimension;
  from: Date;
  to: Date;
  interval: ReportInterval;
  /** One key only (a queue name, an agent id…); all keys seen when absent. */
  key?: string;
  /** Only keys starting with this (task types of one department: `<departmentId>/`). */
  keyPrefix?: string;
}

export interface ReportRow extends Figures {
  key: string;
  /** First instant of the interval, local time with offset. */
  start: string;
  end: string;
}

interface Group {
  start: Date;
  end: Date;
  ids: (key: string) => string[];
}

/** Bucket reads one request may cost; beyond it the caller must pick a coarser interval or a shorter range. */
export const maxBucketReads = 100_000;

/**
 * Historical reports read rollup buckets by `_id` only: one read per bucket shown (a day row reads
 * one day bucket, an hour row its four quarters), never the raw log. Rows come out as they are read,
 * so a CSV of a long range streams. Intervals with no activity are left out.
 */
export class ReportQuery {
  constructor(
    private readonly repository: ReportsRepository,
    private readonly timeZone: string,
  ) {}

  async *rows(request: ReportRequest): AsyncGenerator<ReportRow> {
    const groups = this.groups(request);
    const keys = request.key !== undefined ? [request.key] : (await this.repository.keysOf(request.dim)).filter((key) => !request.keyPrefix || key.startsWith(request.keyPrefix));
    const readsPerKey = groups.reduce((total, group) => total + group.ids('').length, 0);
    if (readsPerKey * keys.length > maxBucketReads) throw tooLarge(request.dim, readsPerKey * keys.length);
    for (const key of keys) {
      // A day of quarters per round trip batch keeps memory flat whatever the range.
      for (let first = 0; first < groups.length; first += 96) {
        const batch = groups.slice(first, first + 96);
        const ids = batch.map((group) => group.ids(key));
        const sums = await this.repository.readSums(ids.flat());
        let offset = 0;
        for (const [index, group] of batch.entries()) {
          const found = sums.slice(offset, offset + ids[index].length).filter((item): item is Sums => item !== null);
          offset += ids[index].length;
          if (found.length === 0) continue;
          const total = found.reduce((sum, item) => addSums(sum, item), emptySums());
          yield { key, start: formatLocal(group.start, this.timeZone), end: formatLocal(group.end, this.timeZone), ...figures(total) };
        }
      }
    }
  }

  private groups(request: ReportRequest): Group[] {
    const { from, to, dim } = request;
    const tz = this.timeZone;
    if (request.interval === 'day' || request.interval === 'total') {
      const days = daysIn(from, to, tz);
      if (days.length === 0) return [];
      const dayGroups = days.map((day) => ({ start: startOfLocalDay(day, tz), end: startOfLocalDay(nextDay(day), tz), ids: (key: string) => [dayId(dim, key, day)] }));
      if (request.interval === 'day') return dayGroups;
      return [{ start: dayGroups[0].start, end: dayGroups.at(-1)!.end, ids: (key: string) => days.map((day) => dayId(dim, key, day)) }];
    }
    if ((to.getTime() - from.getTime()) / quarterMs > maxBucketReads) throw tooLarge(dim, Math.ceil((to.getTime() - from.getTime()) / quarterMs));
    const quarters = quartersIn(from, to);
    if (request.interval === '15m') return quarters.map((quarter) => ({ start: quarter, end: new Date(quarter.getTime() + quarterMs), ids: (key: string) => [quarterId(dim, key, quarter)] }));
    const hours = new Map<number, Date[]>();
    for (const quarter of quarters) {
      const hour = hourStart(quarter, tz).getTime();
      hours.set(hour, [...(hours.get(hour) ?? []), quarter]);
    }
    return [...hours.entries()].map(([hour, members]) => ({
      start: new Date(hour),
      end: new Date(members.at(-1)!.getTime() + quarterMs),
      ids: (key: string) => members.map((quarter) => quarterId(dim, key, quarter)),
    }));
  }
}

function tooLarge(dim: Dimension, reads: number): AppError {
  return AppError.validation([{ field: 'query.interval', message: `this range and interval need ${reads} bucket reads (limit ${maxBucketReads}): choose a coarser interval, a shorter range or one ${dim}` }]);
}

import type { Dimension, Fact, FactPart } from './facts';
import { localDay, quarterStart, startOfLocalDay } from './intervals';
import { addSums, emptySums, type Sums } from './kpis';

export interface BucketRef {
  id: string;
  dim: Dimension;
  key: string;
  kind: 'q' | 'd';
  start: Date;
}

export const quarterId = (dim: string, key: string, quarter: Date) => `${dim}:${key}:q:${quarter.toISOString().slice(0, 16)}Z`;
export const dayId = (dim: string, key: string, day: string) => `${dim}:${key}:d:${day}`;

/** The buckets one fact part adds to: for each target, its 15-minute bucket and its local day. */
export function bucketsOf(part: FactPart, timeZone: string): BucketRef[] {
  const quarter = quarterStart(part.at);
  const day = localDay(part.at, timeZone);
  const dayStart = startOfLocalDay(day, timeZone);
  return part.targets.flatMap(({ dim, key }) => [
    { id: quarterId(dim, key, quarter), dim, key, kind: 'q' as const, start: quarter },
    { id: dayId(dim, key, day), dim, key, kind: 'd' as const, start: dayStart },
  ]);
}

export interface BucketTotal extends BucketRef {
  sums: Sums;
}

/** Sums facts into buckets in memory, as the live writes would: what the rebuild stores. */
export function accumulate(facts: Iterable<Fact>, timeZone: string, into = new Map<string, BucketTotal>()): Map<string, BucketTotal> {
  for (const fact of facts) {
    for (const part of fact.parts) {
      for (const bucket of bucketsOf(part, timeZone)) {
        const current = into.get(bucket.id) ?? { ...bucket, sums: emptySums() };
        current.sums = addSums(current.sums, { ...part.inc, ...(part.maxWaitMs !== undefined ? { maxWaitMs: part.maxWaitMs } : {}) });
        into.set(bucket.id, current);
      }
    }
  }
  return into;
}

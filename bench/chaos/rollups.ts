import mongoose from 'mongoose';
import { runRebuild } from '../../scripts/rebuild-rollups';
import type { Config } from '../../src/platform/config';
import { sumFields } from '../../src/reports/kpis';

/**
 * Issue 13 asks whether two nodes counting into the same report buckets lose a count (each bucket
 * write is a plain `$inc`; stock FerretDB 1.24 lost concurrent `$inc`s). After the run, with both
 * nodes stopped (so their batches are flushed), the live rollups are read, rebuilt from the raw log
 * by the same code as `npm run reports:rebuild`, read again and compared field by field. A
 * difference is a count the live path lost or doubled (a fault between a fact's mark and its `$inc`
 * shows here too).
 */
export interface RollupComparison {
  days: { fromDay: string; toDay: string };
  buckets: number;
  /** Bucket fields whose live value differs from the rebuild's. */
  differences: { bucket: string; field: string; live: number; rebuilt: number }[];
  error?: string;
}

type Bucket = Record<string, unknown> & { _id: string };

async function readBuckets(uri: string): Promise<Map<string, Bucket>> {
  const connection = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 10_000 }).asPromise();
  try {
    const buckets = await connection.collection<Bucket>('report_rollups').find({}).toArray();
    return new Map(buckets.map((bucket) => [String(bucket._id), bucket]));
  } finally {
    await connection.close();
  }
}

/** A local day (YYYY-MM-DD) in `timeZone`. */
export function localDay(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

export async function compareRollups(config: Config, from: Date, to: Date): Promise<RollupComparison> {
  const days = { fromDay: localDay(from, config.REPORTS_TIME_ZONE), toDay: localDay(to, config.REPORTS_TIME_ZONE) };
  try {
    const live = await readBuckets(config.MONGODB_URI);
    await runRebuild({ config, ...days, out: () => undefined });
    const rebuilt = await readBuckets(config.MONGODB_URI);
    const differences: RollupComparison['differences'] = [];
    for (const id of new Set([...live.keys(), ...rebuilt.keys()])) {
      for (const field of sumFields) {
        const before = Number(live.get(id)?.[field] ?? 0);
        const after = Number(rebuilt.get(id)?.[field] ?? 0);
        if (before !== after) differences.push({ bucket: id, field, live: before, rebuilt: after });
      }
    }
    return { days, buckets: rebuilt.size, differences };
  } catch (error) {
    return { days, buckets: 0, differences: [], error: (error as Error).message };
  }
}

import mongoose, { type Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { isDuplicateKeyError } from '../platform/errors';
import { withLock } from '../platform/locks';
import type { BucketRef, BucketTotal } from './buckets';
import type { Dimension } from './facts';
import { emptySums, sumFields, type Sums } from './kpis';
import { reportModels, type AgentNowDocument, type AgentStateDocument, type CsatAnswerDocument, type MarkDocument, type ReportModels, type RollupDocument } from './reports.model';

/**
 * The reports store. Bucket sums are single-document `$inc`/`$max` upserts, atomic on MongoDB and on
 * the FerretDB build the set-up makes (tests/integration/store-guarantees.int.test.ts); inserts of a
 * fixed `_id` decide between racing writers, which is what marks rely on.
 */
export class ReportsRepository {
  private readonly models: ReportModels;

  constructor(
    connection: Connection,
    private readonly redis: Redis,
    private readonly redisKeyPrefix: string,
  ) {
    this.models = reportModels(connection);
  }

  /** Inserts the mark of a fact; false when it was there already (counted before). */
  async claim(mark: MarkDocument): Promise<boolean> {
    try {
      await this.models.Mark.create(mark);
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  findMark(key: string): Promise<MarkDocument | null> {
    return this.models.Mark.findById(key).lean<MarkDocument>().exec();
  }

  /**
   * Inserts the marks of many facts in one command; true where the mark is new (the fact is ours to
   * count), false where it existed (counted before, by us or another delivery).
   */
  async claimBatch(marks: MarkDocument[]): Promise<boolean[]> {
    const claimed = marks.map(() => true);
    if (!marks.length) return claimed;
    try {
      await this.models.Mark.collection.insertMany(marks as never[], { ordered: false });
    } catch (error) {
      const writeErrors = (error as { writeErrors?: Array<{ index: number; code?: number }> }).writeErrors;
      if (!Array.isArray(writeErrors) || writeErrors.some((item) => item.code !== 11000)) throw error;
      for (const item of writeErrors) claimed[item.index] = false;
    }
    return claimed;
  }

  /** Adds summed increments to many buckets in one command: `$inc` the sums, `$max` the longest wait. */
  async addBatch(changes: Array<{ bucket: BucketRef; inc: Record<string, number>; maxWaitMs?: number }>): Promise<void> {
    if (!changes.length) return;
    await this.models.Rollup.bulkWrite(
      changes.map(({ bucket, inc, maxWaitMs }) => ({
        updateOne: {
          filter: { _id: bucket.id },
          update: {
            $setOnInsert: { dim: bucket.dim, key: bucket.key, kind: bucket.kind, start: bucket.start },
            ...(Object.keys(inc).length ? { $inc: inc } : {}),
            ...(maxWaitMs !== undefined ? { $max: { maxWaitMs } } : {}),
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  /** The sums of each bucket id, in order (zeros for a bucket never written). */
  async readSums(ids: string[], concurrency = 32): Promise<Array<Sums | null>> {
    const result: Array<Sums | null> = new Array(ids.length).fill(null);
    for (let start = 0; start < ids.length; start += concurrency) {
      const docs = await Promise.all(ids.slice(start, start + concurrency).map((id) => this.models.Rollup.findById(id).lean<RollupDocument>().exec()));
      docs.forEach((doc, index) => {
        if (doc) result[start + index] = toSums(doc);
      });
    }
    return result;
  }

  /** Records that `key` exists in `dim` (once per process per key; the insert is idempotent). */
  async rememberKey(dim: Dimension, key: string): Promise<void> {
    try {
      await this.models.Key.create({ _id: `${dim}:${key}`, dim, key });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  /** Every key seen in `dim`; a scan, but of a collection as small as the number of queues/agents/departments. */
  async keysOf(dim: Dimension): Promise<string[]> {
    const docs = await this.models.Key.find({ dim }).lean<Array<{ key: string }>>().exec();
    return docs.map((doc) => doc.key).sort();
  }

  // --- agent states ---

  /** Serializes one agent's state bookkeeping across processes. */
  withAgentLock<T>(agentId: string, work: () => Promise<T>): Promise<T> {
    return withLock(this.redis, `${this.redisKeyPrefix}lock:report-agent:${agentId}`, { ttlMs: 10_000, waitMs: 10_000 }, work);
  }

  agentNow(agentId: string): Promise<AgentNowDocument | null> {
    return this.models.AgentNow.findById(agentId).lean<AgentNowDocument>().exec();
  }

  async setAgentNow(agentId: string, state: string, since: Date): Promise<void> {
    await this.models.AgentNow.updateOne({ _id: agentId }, { $set: { state, since } }, { upsert: true }).exec();
  }

  /** Stores a finished state segment (idempotent on agent and start). */
  async saveAgentState(segment: AgentStateDocument): Promise<void> {
    await this.models.AgentState.updateOne({ _id: segment._id }, { $set: segment }, { upsert: true }).exec();
  }

  // --- CSAT and task links ---

  async saveCsatAnswer(answer: CsatAnswerDocument): Promise<boolean> {
    try {
      await this.models.CsatAnswer.create(answer);
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async linkTask(interactionId: string, departmentId: string): Promise<void> {
    await withLock(this.redis, `${this.redisKeyPrefix}lock:report-link:${interactionId}`, { ttlMs: 5_000, waitMs: 10_000 }, () =>
      this.models.TaskLink.updateOne({ _id: interactionId }, { $addToSet: { departmentIds: departmentId } }, { upsert: true }).exec(),
    );
  }

  async linkedDepartments(interactionId: string): Promise<string[]> {
    const link = await this.models.TaskLink.findById(interactionId).lean<{ departmentIds?: string[] }>().exec();
    return link?.departmentIds ?? [];
  }

  // --- rebuild (batch; scans are acceptable here, never on a request path) ---

  csatAnswersBetween(from: Date, to: Date): Promise<CsatAnswerDocument[]> {
    return this.models.CsatAnswer.find({ at: mongoose.trusted({ $gte: from, $lt: to }) }).lean<CsatAnswerDocument[]>().exec();
  }

  agentStatesOverlapping(from: Date, to: Date): Promise<AgentStateDocument[]> {
    return this.models.AgentState.find({ from: mongoose.trusted({ $lt: to }), to: mongoose.trusted({ $gt: from }) }).lean<AgentStateDocument[]>().exec();
  }

  /** Drops every bucket starting in [from, to). */
  async deleteBuckets(from: Date, to: Date): Promise<number> {
    const result = await this.models.Rollup.deleteMany({ start: mongoose.trusted({ $gte: from, $lt: to }) }).exec();
    return result.deletedCount ?? 0;
  }

  /** Writes computed buckets whole (replacing any live ones). */
  async replaceBuckets(buckets: BucketTotal[], batchSize = 500): Promise<void> {
    for (let start = 0; start < buckets.length; start += batchSize) {
      await this.models.Rollup.bulkWrite(
        buckets.slice(start, start + batchSize).map((bucket) => ({
          replaceOne: {
            filter: { _id: bucket.id },
            replacement: { _id: bucket.id, dim: bucket.dim, key: bucket.key, kind: bucket.kind, start: bucket.start, ...bucket.sums },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    }
  }

  /** Inserts marks that are missing (the rebuild counted these facts; live listeners must not again). */
  async claimMany(marks: MarkDocument[], batchSize = 500): Promise<void> {
    for (let start = 0; start < marks.length; start += batchSize) await this.claimBatch(marks.slice(start, start + batchSize));
  }
}

function toSums(doc: RollupDocument): Sums {
  const sums = emptySums();
  for (const field of sumFields) sums[field] = doc[field] ?? 0;
  if (doc.maxWaitMs !== undefined && doc.maxWaitMs !== null) sums.maxWaitMs = doc.maxWaitMs;
  return sums;
}

import mongoose, { type Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { isDuplicateKeyError } from '../platform/errors';
import { redisScript, type RedisScript } from '../platform/redis';
import type { BucketRef, BucketTotal } from './buckets';
import type { Dimension } from './facts';
import { emptySums, sumFields, type Sums } from './kpis';
import { reportModels, type AgentNow, type BatchJournalDocument, type AgentStateDocument, type CsatAnswerDocument, type MarkDocument, type ReportModels, type RollupDocument } from './reports.model';

/**
 * The reports store. Bucket sums are single-document `$inc`/`$max` upserts, atomic on MongoDB and on
 * the FerretDB build the set-up makes (tests/integration/store-guarantees.int.test.ts); inserts of a
 * fixed `_id` decide between racing writers, which is what marks rely on; conditional single-document
 * `findOneAndUpdate`s (FCR losses) hand a document's previous value to exactly one writer, as the
 * Redis script that swaps an agent's current state does with the state it replaces.
 */
export class ReportsRepository {
  private readonly models: ReportModels;
  private readonly swapNow: RedisScript;
  private readonly journals: mongoose.mongo.Collection<BatchJournalDocument>;

  constructor(
    connection: Connection,
    private readonly redis: Redis,
    private readonly redisKeyPrefix: string,
  ) {
    this.models = reportModels(connection);
    this.swapNow = redisScript(redis, swapNowScript);
    this.journals = connection.collection<BatchJournalDocument>('report_batches');
  }

  // --- batch journal (see FactCounter) ---

  /** Writes a batch's journal; idempotent (a retry finds it written). */
  async saveJournal(journal: BatchJournalDocument): Promise<void> {
    try {
      await this.journals.insertOne(journal);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  async dropJournal(id: string): Promise<void> {
    await this.journals.deleteOne({ _id: id });
  }

  /** Journals written before `before` and still there: batches whose writer died or gave up for now. */
  staleJournals(before: Date, limit = 100): Promise<BatchJournalDocument[]> {
    return this.journals.find({ at: { $lt: before } }).sort({ at: 1 }).limit(limit).toArray();
  }

  /** The batch that claimed each of these marks (`b`), for a retry to tell its own claims from others'. */
  async claimedBy(keys: string[]): Promise<Map<string, string | undefined>> {
    if (!keys.length) return new Map();
    const marks = await this.models.Mark.collection.find({ _id: { $in: keys } } as never, { projection: { b: 1 } }).toArray();
    return new Map(marks.map((mark) => [String(mark._id), (mark as { b?: string }).b]));
  }

  /**
   * Gives a bare FCR mark (written by a loss before the FCR fact was counted) its parts; true when
   * it did, i.e. the FCR fact is ours to count and its loss came first. False when the mark has its
   * parts already (the fact was counted before).
   */
  async completeFcrMark(key: string, parts: NonNullable<MarkDocument['parts']>, batch?: string): Promise<boolean> {
    const result = await this.models.Mark.updateOne({ _id: key, parts: mongoose.trusted({ $exists: false }) }, { $set: { parts, ...(parts[0] ? { at: parts[0].at } : {}), ...(batch ? { b: batch } : {}) } }).exec();
    return result.modifiedCount === 1;
  }

  /**
   * Records the loss of FCR on its mark in one atomic write, creating a bare mark (no `parts`) when
   * the FCR fact is not counted yet, for that fact to find. Returns where the FCR fact was counted
   * when it was and this is the contact's first loss (the repeat is then the caller's to count).
   */
  async loseFcrMark(key: string, lostAt: Date): Promise<MarkDocument['parts']> {
    const lose = (upsert: boolean) =>
      this.models.Mark.findOneAndUpdate({ _id: key, lostAt: mongoose.trusted({ $exists: false }) }, { $set: { lostAt }, $setOnInsert: { at: lostAt } }, { upsert, returnDocument: 'before' }).lean<MarkDocument>().exec();
    try {
      return (await lose(true))?.parts;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    // The upsert collided: the loss was recorded before, or the FCR fact inserted its mark at the
    // same moment; the retry without upsert tells the two apart.
    return (await lose(false))?.parts;
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

  /**
   * Adds summed increments to many buckets in one command: `$inc` the sums, `$max` the longest wait.
   * With `guard` (the writing node and its batch number) each bucket records the last batch of that
   * node it took (`w.<node>`), and takes a batch only when that is lower: a retry of a batch whose
   * write landed (or half landed: the command is unordered) adds nothing twice. A node writes one
   * batch at a time, in order, so a lower number is always a batch not yet taken.
   */
  async addBatch(changes: Array<{ bucket: BucketRef; inc: Record<string, number>; maxWaitMs?: number }>, guard?: { node: string; seq: number }): Promise<void> {
    if (!changes.length) return;
    const field = guard ? `w.${guard.node}` : '';
    const ops = changes.map(({ bucket, inc, maxWaitMs }) => ({
      updateOne: {
        filter: guard ? { _id: bucket.id, $or: [{ [field]: { $exists: false } }, { [field]: { $lt: guard.seq } }] } : { _id: bucket.id },
        update: {
          $setOnInsert: { dim: bucket.dim, key: bucket.key, kind: bucket.kind, start: bucket.start },
          ...(Object.keys(inc).length ? { $inc: inc } : {}),
          ...(maxWaitMs !== undefined ? { $max: { maxWaitMs } } : {}),
          ...(guard ? { $set: { [field]: guard.seq } } : {}),
        },
        upsert: true,
      },
    }));
    let pending = ops;
    // A duplicate key on an upsert: the bucket exists and the guard did not match it (this batch is
    // in it), or another writer created the bucket at the same moment (no retry by the server for a
    // filter with `$or`). Once more, then: a second duplicate can only be the guard.
    for (let round = 0; pending.length; round += 1) {
      try {
        await this.models.Rollup.collection.bulkWrite(pending as never[], { ordered: false });
        return;
      } catch (error) {
        const writeErrors = (error as { writeErrors?: Array<{ index: number; code?: number }> }).writeErrors;
        if (!guard || !Array.isArray(writeErrors) || !writeErrors.length || writeErrors.some((item) => item.code !== 11000)) throw error;
        if (round > 0) return;
        pending = writeErrors.map((item) => pending[item.index]);
      }
    }
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

  /**
   * Makes `state` (since `at`) the agent's current one and returns the state it replaced, in one
   * atomic script, so two processes never both close the same state. `previous` is null for the
   * agent's first state. `unchanged` when the stored state was set at or after `at` (a change told
   * late by another process): that change is dropped, nothing is written.
   */
  async swapAgentNow(agentId: string, state: string, at: Date): Promise<{ previous: AgentNow | null } | 'unchanged'> {
    const reply = (await this.swapNow([this.agentNowKey(agentId)], [state, at.getTime(), agentNowTtlSeconds])) as [string, string] | [] | null;
    if (!reply) return 'unchanged';
    return { previous: reply.length ? { state: reply[0], since: new Date(Number(reply[1])) } : null };
  }

  /** The agent's current state as recorded, null when none is. */
  async agentNow(agentId: string): Promise<AgentNow | null> {
    const [state, since] = await this.redis.hmget(this.agentNowKey(agentId), 'state', 'since');
    return state && since ? { state, since: new Date(Number(since)) } : null;
  }

  /** Stores finished state segments in one command (idempotent on agent and start). */
  async saveAgentStates(segments: AgentStateDocument[]): Promise<void> {
    if (!segments.length) return;
    await this.models.AgentState.bulkWrite(
      segments.map(({ _id, agentId, state, from, to }) => ({ updateOne: { filter: { _id }, update: { $set: { agentId, state, from, to } }, upsert: true } })),
      { ordered: false },
    );
  }

  private agentNowKey(agentId: string): string {
    return `${this.redisKeyPrefix}reports:agent-now:${agentId}`;
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

  /**
   * One atomic `$addToSet` upsert, no Redis lock (a Redis outage must not stop task counting): two
   * first links racing make one upsert collide on the key, and its retry updates the document.
   */
  async linkTask(interactionId: string, departmentId: string): Promise<void> {
    const link = () => this.models.TaskLink.updateOne({ _id: interactionId }, { $addToSet: { departmentIds: departmentId } }, { upsert: true }).exec();
    try {
      await link();
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      await link();
    }
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

  /** Writes FCR marks' parts and losses over whatever live counting left (the rebuild counted them). */
  async putFcrMarks(marks: MarkDocument[], batchSize = 500): Promise<void> {
    for (let start = 0; start < marks.length; start += batchSize) {
      await this.models.Mark.bulkWrite(
        marks.slice(start, start + batchSize).map(({ _id, at, parts, lostAt }) => ({
          updateOne: { filter: { _id }, update: { $set: { ...(parts ? { parts } : {}), ...(lostAt ? { lostAt } : {}) }, $setOnInsert: { at } }, upsert: true },
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

/**
 * Like routing's idle agents: a state held this long without a change is forgotten (its segment is
 * not recorded), so agents who left do not keep keys for ever.
 */
const agentNowTtlSeconds = 30 * 86_400;

/**
 * KEYS[1] the agent's now (hash: state, since in ms); ARGV state, since, ttl. Same rule as a
 * conditional update on `since < at`: a change not newer than the stored one is dropped (nil).
 * Otherwise returns the state replaced ({state, since}, or {} for the agent's first).
 */
const swapNowScript = `
local now = redis.call('hmget', KEYS[1], 'state', 'since')
if now[2] and tonumber(now[2]) >= tonumber(ARGV[2]) then return false end
redis.call('hset', KEYS[1], 'state', ARGV[1], 'since', ARGV[2])
redis.call('expire', KEYS[1], ARGV[3])
if now[2] then return {now[1], now[2]} end
return {}
`;

function toSums(doc: RollupDocument): Sums {
  const sums = emptySums();
  for (const field of sumFields) sums[field] = doc[field] ?? 0;
  if (doc.maxWaitMs !== undefined && doc.maxWaitMs !== null) sums.maxWaitMs = doc.maxWaitMs;
  return sums;
}

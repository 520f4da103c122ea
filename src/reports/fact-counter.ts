import { randomBytes } from 'node:crypto';
import type { Logger } from '../platform/logger';
import type { Repair } from '../platform/repair';
import { bucketsOf, type BucketRef } from './buckets';
import { repeatFact, type Dimension, type Fact } from './facts';
import type { AgentStateDocument, BatchJournalDocument } from './reports.model';
import type { ReportsRepository } from './reports.repository';

/** Keys this process knows are counted; saves a failed insert per fact on every later change of a contact. */
class RecentKeys {
  private readonly keys = new Map<string, true>();
  constructor(private readonly limit = 20_000) {}
  has(key: string): boolean {
    return this.keys.has(key);
  }
  delete(key: string): void {
    this.keys.delete(key);
  }
  add(key: string): void {
    this.keys.set(key, true);
    if (this.keys.size > this.limit) this.keys.delete(this.keys.keys().next().value!);
  }
}

/** How a fact's claim ended: counted now (`lost`: an FCR fact whose loss was recorded first), or counted before. */
export type Claim = 'counted' | 'lost' | 'existing';

interface Pending {
  fact: Fact;
  resolve(claim: Claim): void;
  reject(error: unknown): void;
}

/** A finished agent state to store with the next batch, and the fact that counts its time (none for away/offline). */
interface PendingSegment {
  segment: AgentStateDocument;
  fact: Fact | undefined;
  resolve(): void;
  reject(error: unknown): void;
}

const isFcr = (key: string) => key.startsWith('fcr:');
const markParts = (fact: Fact) => fact.parts.map((part) => ({ at: part.at, targets: part.targets }));

// Facts wait this long to be written together: at 20 contacts a second a batch holds a few dozen
// facts whose hundreds of bucket increments fold into a few dozen writes.
const batchDelayMs = 200;
const maxBatch = 500;
// A failed batch is tried again after this, doubling up to the cap, until it is written.
const retryFirstMs = 250;
const retryMaxMs = 2_000;

/** A fact asked for again while the batch holding it is being retried (it is counted by that batch). */
export class BatchRetrying extends Error {
  constructor() {
    super('an earlier report batch with this fact is still being retried');
  }
}

export interface FactCounterOptions {
  log?: Logger;
  /** This process's writer id in the buckets' guards; random per process (a restart is a new writer). */
  node?: string;
}

/**
 * Writes one batch of facts, in steps that are each safe to repeat, so a batch cut off anywhere (the
 * database went away, the node died) is finished by a retry or by the repair, and counted once:
 * 1. its journal (`report_batches`: the batch's facts, under `<node>:<seq>`);
 * 2. the facts' marks, each carrying the batch id: a duplicate key is another batch's fact (counted
 *    there), unless the mark names this batch (an earlier try, or the repair beside it: the claim is ours);
 * 3. the bucket sums, guarded by the batch number per node (ReportsRepository.addBatch);
 * 4. the journal dropped.
 * Returns each fact's claim, in order.
 */
export async function writeBatch(
  repository: ReportsRepository,
  timeZone: string,
  batch: { node: string; seq: number },
  facts: Fact[],
  options: { journaled?: boolean; remember?: (dim: Dimension, key: string) => Promise<void> } = {},
): Promise<Claim[]> {
  const id = `${batch.node}:${batch.seq}`;
  if (!options.journaled) await repository.saveJournal({ _id: id, at: new Date(), facts: facts.map(journalFact) });
  const inserted = await repository.claimBatch(
    facts.map((fact) => ({
      _id: fact.key,
      at: fact.parts[0]?.at ?? new Date(),
      b: id,
      // FCR facts keep where they were counted: a repeat contact days later is counted there too.
      ...(isFcr(fact.key) ? { parts: markParts(fact) } : {}),
    })),
  );
  const claimed: Claim[] = inserted.map((isNew) => (isNew ? 'counted' : 'existing'));
  // A mark that names this batch is ours: written by this batch's earlier try, or by the repair (or
  // the node) finishing the same batch beside it. Checked on every try, so that all writers of a
  // batch add the same facts to its buckets (one read, only for a batch that met duplicates).
  if (inserted.includes(false)) {
    const owners = await repository.claimedBy(facts.filter((_, index) => !inserted[index]).map((fact) => fact.key));
    facts.forEach((fact, index) => {
      if (!inserted[index] && owners.get(fact.key) === id) claimed[index] = 'counted';
    });
  }
  // An FCR mark that existed was counted before, or is the bare mark a loss left (loseFcr): then
  // this fact is still ours to count, and its repeat with it. Rare, so one write per such fact.
  for (const [index, fact] of facts.entries()) {
    if (claimed[index] === 'existing' && isFcr(fact.key) && (await repository.completeFcrMark(fact.key, markParts(fact), id))) claimed[index] = 'lost';
  }
  const merged = new Map<string, { bucket: BucketRef; inc: Record<string, number>; maxWaitMs?: number }>();
  facts.forEach((fact, index) => {
    if (claimed[index] === 'existing') return;
    for (const part of fact.parts) {
      for (const bucket of bucketsOf(part, timeZone)) {
        const change = merged.get(bucket.id) ?? { bucket, inc: {} };
        for (const [field, value] of Object.entries(part.inc)) if (value) change.inc[field] = (change.inc[field] ?? 0) + value;
        if (part.maxWaitMs !== undefined && part.maxWaitMs !== null) change.maxWaitMs = Math.max(change.maxWaitMs ?? 0, part.maxWaitMs);
        merged.set(bucket.id, change);
      }
    }
  });
  await repository.addBatch([...merged.values()], batch);
  for (const [index, fact] of facts.entries()) {
    if (claimed[index] === 'existing') continue;
    for (const part of fact.parts) for (const target of part.targets) await (options.remember ?? ((dim, key) => repository.rememberKey(dim, key)))(target.dim, target.key);
  }
  await repository.dropJournal(id);
  return claimed;
}

function journalFact(fact: Fact): BatchJournalDocument['facts'][number] {
  return {
    key: fact.key,
    parts: fact.parts.map((part) => ({ at: part.at, targets: part.targets.map(({ dim, key }) => ({ dim, key })), inc: { ...part.inc } as Record<string, number>, ...(part.maxWaitMs !== undefined ? { maxWaitMs: part.maxWaitMs } : {}) })),
  };
}

function factOf(stored: BatchJournalDocument['facts'][number]): Fact {
  return {
    key: stored.key,
    parts: stored.parts.map((part) => ({
      at: new Date(part.at),
      targets: part.targets.map((target) => ({ dim: target.dim as Dimension, key: target.key })),
      inc: part.inc,
      ...(typeof part.maxWaitMs === 'number' ? { maxWaitMs: part.maxWaitMs } : {}),
    })),
  };
}

/**
 * Finishes the batches whose journal is older than `staleMs`: their node died, or is still waiting
 * for the database. Safe on many nodes at once and beside a node still retrying the same batch: every
 * step of writeBatch is guarded. Returns how many batches it finished.
 */
// A live batch is written in milliseconds; one older than this is (at best) waiting for the database.
// Finishing it beside its node is safe, so this only saves work twice, and can be short.
const defaultStaleMs = 5_000;

export function reportBatchesRepair(repository: ReportsRepository, timeZone: string, options: { staleMs?: number } = {}): Repair {
  const staleMs = options.staleMs ?? defaultStaleMs;
  return {
    name: 'report-batches',
    async run() {
      const journals = await repository.staleJournals(new Date(Date.now() - staleMs));
      for (const journal of journals) {
        const cut = journal._id.lastIndexOf(':');
        await writeBatch(repository, timeZone, { node: journal._id.slice(0, cut), seq: Number(journal._id.slice(cut + 1)) }, journal.facts.map(factOf), { journaled: true });
      }
      return journals.length;
    },
  };
}

/**
 * Counts facts exactly once across processes, retries and crashes. Facts are written in batches
 * (writeBatch: journal, marks, one guarded write per bucket with the batch's increments summed,
 * journal dropped). A batch that fails is tried again, the same batch with the same id, until it is
 * written; its callers are told of the first failure at once (a must-succeed listener is then
 * redelivered; its facts are found claimed). A batch whose node died is finished by the repair
 * (reportBatchesRepair) from its journal. Finished agent states (the raw log of occupancy) ride
 * along: one write of the batch's segments before its facts. `flush()` writes what is pending now
 * (readers call it via settle).
 */
export class FactCounter {
  private readonly recent = new RecentKeys();
  private readonly knownKeys = new Set<string>();
  private pending: Pending[] = [];
  private segments: PendingSegment[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly node: string;
  private seq = 0;
  /** Facts of batches that failed and are being retried, until written. */
  private readonly retrying = new Set<string>();

  constructor(
    private readonly repository: ReportsRepository,
    private readonly timeZone: string,
    private readonly options: FactCounterOptions = {},
  ) {
    this.node = options.node ?? randomBytes(6).toString('hex');
  }

  async count(fact: Fact): Promise<boolean> {
    return (await this.claim(fact)) !== 'existing';
  }

  private claim(fact: Fact): Promise<Claim> {
    // Not yet known to be written (nor journaled): a must-succeed redelivery fails again, and is redone later.
    if (this.retrying.has(fact.key)) return Promise.reject(new BatchRetrying());
    if (this.recent.has(fact.key)) return Promise.resolve('existing');
    this.recent.add(fact.key);
    return new Promise<Claim>((resolve, reject) => {
      this.pending.push({ fact, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Stores a finished agent state with the next batch (one idempotent write for all of the batch's
   * segments), then counts `fact` in the same batch: a crash in between leaves a segment that the
   * rebuild counts, never a count that the rebuild cannot find. Resolves when both are written.
   */
  logAgentState(segment: AgentStateDocument, fact: Fact | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.segments.push({ segment, fact, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.pending.length + this.segments.length >= maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), batchDelayMs);
  }

  /**
   * Writes the pending facts now; resolves when they (and any batch before them) are written. While
   * the database is away that waits for it: a batch is retried until written.
   */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    const segments = this.segments;
    this.pending = [];
    this.segments = [];
    // One batch at a time, in order: a later fact of a contact never lands before an earlier one,
    // and the buckets' guard (one number per node) sees this node's batches in order.
    this.writing = this.writing.then(() => (batch.length || segments.length ? this.write(batch, segments) : undefined));
    return this.writing;
  }

  /** Writes the segments (idempotent); the facts of those written join the batch (unless counted before). */
  private async saveSegments(segments: PendingSegment[]): Promise<Pending[]> {
    if (!segments.length) return [];
    await this.repository.saveAgentStates(segments.map(({ segment }) => segment));
    const facts: Pending[] = [];
    for (const { fact, resolve, reject } of segments) {
      if (!fact || this.recent.has(fact.key)) resolve();
      else {
        this.recent.add(fact.key);
        facts.push({ fact, resolve: () => resolve(), reject });
      }
    }
    return facts;
  }

  private async write(factsTold: Pending[], segments: PendingSegment[]): Promise<void> {
    const batch = { node: this.node, seq: ++this.seq };
    let facts: Pending[] | undefined;
    let told = false;
    for (let attempt = 0; ; attempt += 1) {
      try {
        facts ??= [...factsTold, ...(await this.saveSegments(segments))];
        const claims = facts.length ? await writeBatch(this.repository, this.timeZone, batch, facts.map(({ fact }) => fact), { remember: (dim, key) => this.rememberKey(dim, key) }) : [];
        if (attempt > 0) this.options.log?.info({ batch: `${batch.node}:${batch.seq}`, facts: facts.length, attempts: attempt + 1 }, 'report batch written after a retry');
        if (!told) facts.forEach(({ resolve }, index) => resolve(claims[index]));
        for (const { fact } of facts) this.retrying.delete(fact.key);
        return;
      } catch (error) {
        if (!told) {
          // Told at once, so no listener waits out an outage; the batch itself is kept and retried.
          told = true;
          for (const { reject } of facts ?? [...factsTold, ...segments]) reject(error);
          for (const { fact } of facts ?? factsTold) this.retrying.add(fact.key);
          this.options.log?.warn({ err: error, batch: `${batch.node}:${batch.seq}` }, 'report batch not written; retrying');
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(retryMaxMs, retryFirstMs * 2 ** attempt)));
      }
    }
  }

  /**
   * A completed contact becomes eligible for FCR. Its loss (a repeat contact, a follow-up task) may
   * have been recorded before: then the repeat is counted right away. Both sides write the one mark
   * `fcr:<id>` atomically (the FCR fact its parts, the loss its `lostAt`), so whichever comes second
   * sees the other's half and counts the repeat, once; the FCR side learns it from its own insert.
   */
  async countFcr(fcr: Fact): Promise<void> {
    if ((await this.claim(fcr)) === 'lost') await this.count(repeatFact(fcr));
  }

  /** The contact `interactionId` did not resolve the matter at first contact. */
  async loseFcr(interactionId: string, at: Date): Promise<void> {
    const lostKey = `fcr-lost:${interactionId}`;
    if (this.recent.has(lostKey)) return;
    const parts = await this.repository.loseFcrMark(`fcr:${interactionId}`, at);
    this.recent.add(lostKey);
    // Lost before, or not counted yet (then the FCR fact counts the repeat when it comes).
    if (!parts) return;
    const fcr: Fact = {
      key: `fcr:${interactionId}`,
      parts: parts.map((part) => ({ at: new Date(part.at), targets: part.targets.map((target) => ({ dim: target.dim as Dimension, key: target.key })), inc: {} })),
    };
    await this.count(repeatFact(fcr));
  }

  private async rememberKey(dim: Dimension, key: string): Promise<void> {
    const id = `${dim}:${key}`;
    if (this.knownKeys.has(id)) return;
    await this.repository.rememberKey(dim, key);
    this.knownKeys.add(id);
  }
}

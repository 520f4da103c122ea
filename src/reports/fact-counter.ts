import { bucketsOf, type BucketRef } from './buckets';
import { repeatFact, type Dimension, type Fact } from './facts';
import type { AgentStateDocument } from './reports.model';
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
type Claim = 'counted' | 'lost' | 'existing';

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

/**
 * Counts facts exactly once across processes and retries: the fact's mark is inserted first (a
 * duplicate key means another delivery counted it), then its parts are added to their buckets.
 * Facts are written in batches: one insert of all marks, then one write per bucket with the batch's
 * increments summed. A crash between the two loses those facts until the next rebuild of their day;
 * none is ever counted twice. Finished agent states (the raw log of occupancy) ride along: one
 * write of the batch's segments before its facts. `flush()` writes what is pending now (readers call
 * it via settle).
 */
export class FactCounter {
  private readonly recent = new RecentKeys();
  private readonly knownKeys = new Set<string>();
  private pending: Pending[] = [];
  private segments: PendingSegment[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly repository: ReportsRepository,
    private readonly timeZone: string,
  ) {}

  async count(fact: Fact): Promise<boolean> {
    return (await this.claim(fact)) !== 'existing';
  }

  private claim(fact: Fact): Promise<Claim> {
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

  /** Writes the pending facts now; resolves when they (and any batch before them) are written. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    const segments = this.segments;
    this.pending = [];
    this.segments = [];
    // One batch at a time, in order: a later fact of a contact never lands before an earlier one.
    this.writing = this.writing.then(() => (batch.length || segments.length ? this.write(batch, segments) : undefined));
    return this.writing;
  }

  /** Writes the segments; the facts of those written join the batch (unless counted before). */
  private async saveSegments(segments: PendingSegment[]): Promise<Pending[]> {
    if (!segments.length) return [];
    try {
      await this.repository.saveAgentStates(segments.map(({ segment }) => segment));
    } catch (error) {
      for (const { reject } of segments) reject(error);
      return [];
    }
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
    const batch = [...factsTold, ...(await this.saveSegments(segments))];
    if (!batch.length) return;
    try {
      const inserted = await this.repository.claimBatch(
        batch.map(({ fact }) => ({
          _id: fact.key,
          at: fact.parts[0]?.at ?? new Date(),
          // FCR facts keep where they were counted: a repeat contact days later is counted there too.
          ...(isFcr(fact.key) ? { parts: markParts(fact) } : {}),
        })),
      );
      const claimed: Claim[] = inserted.map((isNew) => (isNew ? 'counted' : 'existing'));
      // An FCR mark that existed was counted before, or is the bare mark a loss left (loseFcr): then
      // this fact is still ours to count, and its repeat with it. Rare, so one write per such fact.
      for (const [index, { fact }] of batch.entries()) {
        if (!inserted[index] && isFcr(fact.key) && (await this.repository.completeFcrMark(fact.key, markParts(fact)))) claimed[index] = 'lost';
      }
      const merged = new Map<string, { bucket: BucketRef; inc: Record<string, number>; maxWaitMs?: number }>();
      batch.forEach(({ fact }, index) => {
        if (claimed[index] === 'existing') return;
        for (const part of fact.parts) {
          for (const bucket of bucketsOf(part, this.timeZone)) {
            const change = merged.get(bucket.id) ?? { bucket, inc: {} };
            for (const [field, value] of Object.entries(part.inc)) if (value) change.inc[field] = (change.inc[field] ?? 0) + value;
            if (part.maxWaitMs !== undefined) change.maxWaitMs = Math.max(change.maxWaitMs ?? 0, part.maxWaitMs);
            merged.set(bucket.id, change);
          }
        }
      });
      await this.repository.addBatch([...merged.values()]);
      for (const [index, { fact }] of batch.entries()) {
        if (claimed[index] !== 'existing') for (const part of fact.parts) for (const target of part.targets) await this.rememberKey(target.dim, target.key);
      }
      batch.forEach(({ resolve }, index) => resolve(claimed[index]));
    } catch (error) {
      // Not counted: forget them here so a redelivery may try again.
      for (const { fact, reject } of batch) {
        this.recent.delete(fact.key);
        reject(error);
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

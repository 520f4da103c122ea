import { bucketsOf } from './buckets';
import { repeatFact, type Dimension, type Fact } from './facts';
import type { ReportsRepository } from './reports.repository';

/** Keys this process knows are counted; saves a failed insert per fact on every later change of a contact. */
class RecentKeys {
  private readonly keys = new Map<string, true>();
  constructor(private readonly limit = 20_000) {}
  has(key: string): boolean {
    return this.keys.has(key);
  }
  add(key: string): void {
    this.keys.set(key, true);
    if (this.keys.size > this.limit) this.keys.delete(this.keys.keys().next().value!);
  }
}

/**
 * Counts facts exactly once across processes and retries: the fact's mark is inserted first (a
 * duplicate key means another delivery counted it), then its parts are added to their buckets.
 * A crash between the two loses the fact until the next rebuild of its day; it is never counted twice.
 */
export class FactCounter {
  private readonly recent = new RecentKeys();
  private readonly knownKeys = new Set<string>();

  constructor(
    private readonly repository: ReportsRepository,
    private readonly timeZone: string,
  ) {}

  async count(fact: Fact): Promise<boolean> {
    if (this.recent.has(fact.key)) return false;
    const claimed = await this.repository.claim({
      _id: fact.key,
      at: fact.parts[0]?.at ?? new Date(),
      // FCR facts keep where they were counted: a repeat contact days later is counted there too.
      ...(fact.key.startsWith('fcr:') ? { parts: fact.parts.map((part) => ({ at: part.at, targets: part.targets })) } : {}),
    });
    this.recent.add(fact.key);
    if (!claimed) return false;
    for (const part of fact.parts) {
      await this.repository.add(bucketsOf(part, this.timeZone), part);
      for (const target of part.targets) await this.rememberKey(target.dim, target.key);
    }
    return true;
  }

  /**
   * A completed contact becomes eligible for FCR. Its loss (a repeat contact, a follow-up task) may
   * have been recorded before: then the repeat is counted right away. Each side inserts its own mark
   * and then looks for the other's, so whichever comes second counts the repeat, once.
   */
  async countFcr(fcr: Fact): Promise<void> {
    if (!(await this.count(fcr))) return;
    const id = fcr.key.slice('fcr:'.length);
    if (await this.repository.findMark(`fcr-lost:${id}`)) await this.count(repeatFact(fcr));
  }

  /** The contact `interactionId` did not resolve the matter at first contact. */
  async loseFcr(interactionId: string, at: Date): Promise<void> {
    const lostKey = `fcr-lost:${interactionId}`;
    if (this.recent.has(lostKey)) return;
    const claimed = await this.repository.claim({ _id: lostKey, at });
    this.recent.add(lostKey);
    if (!claimed) return;
    const mark = await this.repository.findMark(`fcr:${interactionId}`);
    if (!mark?.parts) return;
    const fcr: Fact = {
      key: `fcr:${interactionId}`,
      parts: mark.parts.map((part) => ({ at: new Date(part.at), targets: part.targets.map((target) => ({ dim: target.dim as Dimension, key: target.key })), inc: {} })),
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

/**
 * Values read for authentication, reused for a short time so that every socket action and request
 * does not read its user again. Bounded (the oldest entry goes first); concurrent callers of the
 * same id share one read; a failed read is not kept. The time counts from the start of the read,
 * so no value is served longer than `ttlMs` after it was read.
 */
export class ShortCache<T> {
  private readonly entries = new Map<string, { value: Promise<T>; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly limit = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value kept for `id`, or the result of `load` (kept for `ttlMs`); `ttlMs` 0 loads every time. */
  get(id: string, load: () => Promise<T>): Promise<T> {
    if (this.ttlMs <= 0) return load();
    const kept = this.entries.get(id);
    if (kept && kept.expiresAt > this.now()) return kept.value;
    // Deleted first so the new entry goes to the end of the insertion order (the oldest is dropped first).
    this.entries.delete(id);
    const entry = { value: load(), expiresAt: this.now() + this.ttlMs };
    this.entries.set(id, entry);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
    entry.value.catch(() => {
      if (this.entries.get(id) === entry) this.entries.delete(id);
    });
    return entry.value;
  }

  /**
   * Forgets `id`: the next `get` reads again. Called after the change is written, it also drops a
   * read that started before the change and is still running.
   */
  delete(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}

import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../platform/errors';

/** What a repeat of the request gets back. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

const keepSeconds = 24 * 60 * 60;
// Long enough for one request to finish; a crashed request frees its key by itself.
const claimSeconds = 60;

/**
 * `Idempotency-Key` for integration calls, in Redis for 24 h: the first request claims the key, runs,
 * and stores its response; a repeat gets that response without running again. Keys are per caller
 * (API key id), and bound to the request (method, path, body): the same key on another request is a 409.
 */
export class IdempotencyStore {
  constructor(private readonly redis: Redis, private readonly keyPrefix: string) {}

  /**
   * Runs `work` once per (caller, key). Only successes are stored: after an error the key is released,
   * so the caller may retry with the same key (the change did not happen).
   */
  async once(callerId: string, key: string, request: { method: string; path: string; body: unknown }, work: () => Promise<StoredResponse>): Promise<StoredResponse & { replayed: boolean }> {
    const redisKey = `${this.keyPrefix}idempotency:${callerId}:${createHash('sha256').update(key).digest('hex')}`;
    const fingerprint = createHash('sha256').update(JSON.stringify([request.method, request.path, request.body ?? null])).digest('hex');
    const claimed = await this.redis.set(redisKey, JSON.stringify({ fingerprint, pending: true }), 'EX', claimSeconds, 'NX');
    if (!claimed) {
      const existing = JSON.parse((await this.redis.get(redisKey)) ?? 'null') as { fingerprint: string; pending?: boolean; response?: StoredResponse } | null;
      if (!existing) throw new AppError('conflict', 'A request with this Idempotency-Key just finished or expired; retry it', { retry: true });
      if (existing.fingerprint !== fingerprint) throw new AppError('conflict', 'This Idempotency-Key was used for a different request; use a new key', [{ field: 'Idempotency-Key', message: 'was used for a different request' }]);
      if (existing.pending || !existing.response) throw new AppError('conflict', 'A request with this Idempotency-Key is still running; retry shortly', { retry: true });
      return { ...existing.response, replayed: true };
    }
    let response: StoredResponse;
    try {
      response = await work();
    } catch (error) {
      await this.redis.del(redisKey);
      throw error;
    }
    await this.redis.set(redisKey, JSON.stringify({ fingerprint, response }), 'EX', keepSeconds);
    return { ...response, replayed: false };
  }
}

import type { Redis } from 'ioredis';
import type { Logger } from '../platform/logger';

/**
 * How long a provider's acceptance is remembered: longer than any job's retries (minutes) and the
 * reconciler's grace for a send caught `sending` (minutes), with days to spare for a MongoDB outage.
 */
export const acceptedSendTtlSeconds = 4 * 24 * 60 * 60;

/**
 * What a provider (SMTP server, Twilio) accepted, kept in Redis between the provider's answer and
 * the MongoDB write of the outcome (issue 13). MongoDB stays the record; this bridges the moment
 * when it is down: every attempt asks here first and, when the provider already took the message,
 * only records the outcome instead of sending again. Keys: `<prefix>sent:<channel>:<entryId>`.
 */
export class AcceptedSends<T> {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly channel: 'email' | 'sms',
    private readonly log: Logger,
    private readonly ttlSeconds = acceptedSendTtlSeconds,
  ) {}

  /**
   * Remembers the provider's answer for `entryId`. Never throws: with Redis down too at this instant,
   * the send is left to the MongoDB write that follows and, failing that, to the `sending` handling of
   * the channel's repair (a resend under the same ids). Returns whether it was remembered.
   */
  async remember(entryId: string, outcome: T): Promise<boolean> {
    try {
      await this.redis.set(this.key(entryId), JSON.stringify(outcome), 'EX', this.ttlSeconds);
      return true;
    } catch {
      this.log.warn({ entryId, channel: this.channel }, 'accepted send not remembered in redis; its outcome rests on the database write');
      return false;
    }
  }

  /** The provider's answer from an earlier attempt, if any. Throws when Redis cannot answer: sending blind could send twice. */
  async recall(entryId: string): Promise<T | undefined> {
    const stored = await this.redis.get(this.key(entryId));
    return stored === null ? undefined : (JSON.parse(stored) as T);
  }

  private key(entryId: string): string {
    return `${this.prefix}sent:${this.channel}:${entryId}`;
  }
}

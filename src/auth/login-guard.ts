import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { addressKey } from '../platform/address-key';
import { AppError } from '../platform/errors';
import { RateCounters, retryAfterSeconds, type Counter, type RateLimit } from './rate-limits';

/**
 * How password guessing is slowed without handing an attacker a lock on a real agent:
 * - per account and address (10/15 min): the usual lockout, but only for that address;
 * - per account over all addresses (100/15 min): larger, so locking an agent out takes many
 *   addresses, while a guesser with many addresses still gets few guesses per account;
 * - per address over all accounts (100/15 min): password spraying (one password, many accounts).
 * Only failures count (a success gives its point back), so an office behind one NAT address is not
 * throttled by its agents signing in. IPv6 addresses count by their /64, which one host usually owns.
 */
export interface LoginLimits {
  perAccountAndIp: RateLimit;
  perAccount: RateLimit;
  perIp: RateLimit;
  /**
   * argon2 checks running at once in this process (each takes a thread and ~19 MiB). Up to
   * `waitingPerHash` times as many wait their turn (a shift signing in at once); past that, 503 at once.
   */
  maxConcurrentHashes: number;
}

// A shift signing in at once waits rather than being refused: with 2 hashes of ~40 ms at once, the
// 128th waiting sign-in starts within about 2.5 s. Past that line a retry is the better answer.
const waitingPerHash = 64;

export class LoginGuard {
  private readonly counters: RateCounters;
  private hashing = 0;
  /** Sign-ins waiting for a hash slot, first come first served; each is handed the slot by `releaseHashSlot`. */
  private readonly waiting: Array<() => void> = [];

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
    private readonly limits: LoginLimits,
  ) {
    this.counters = new RateCounters(redis);
  }

  /**
   * Runs `verify` (the password check) if no limit is reached, counting the attempt before it
   * starts, atomically, so parallel guesses cannot all pass a check made before any was counted.
   * Resolves with `verify`'s answer (null: wrong password); a right password gives the attempt back.
   */
  async check<T>(email: string, ip: string | undefined, verify: () => Promise<T | null>): Promise<T | null> {
    const { perAccountAndIp, perAccount, perIp } = this.counterKeys(email, ip);
    const counters: Counter[] = [
      { key: perAccountAndIp, limit: this.limits.perAccountAndIp },
      { key: perAccount, limit: this.limits.perAccount },
      { key: perIp, limit: this.limits.perIp },
    ];
    // Counted before waiting for a hash slot: refused guesses never take a place in the line, so a
    // flood past its limits cannot fill the line ahead of real sign-ins.
    const verdict = await this.counters.consume(counters);
    if (!verdict.allowed) {
      const seconds = retryAfterSeconds(verdict.retryAfterMs);
      throw new AppError('rate_limited', `Too many failed sign-ins for this account or from this address; try again in ${Math.ceil(seconds / 60)} min (an admin can reset a forgotten password)`, {
        retryAfterSeconds: seconds,
      });
    }
    try {
      await this.takeHashSlot();
    } catch (error) {
      // Not checked, so not counted.
      await this.counters.refund([perAccountAndIp, perAccount, perIp]);
      throw error;
    }
    try {
      const valid = await verify();
      if (valid !== null) {
        // The address's own lockout for this account starts over; the wider counts just lose this attempt.
        await Promise.all([this.counters.reset([perAccountAndIp]), this.counters.refund([perAccount, perIp])]);
      }
      return valid;
    } finally {
      this.releaseHashSlot();
    }
  }

  private async takeHashSlot(): Promise<void> {
    if (this.hashing < this.limits.maxConcurrentHashes) {
      this.hashing += 1;
      return;
    }
    if (this.waiting.length >= this.limits.maxConcurrentHashes * waitingPerHash) {
      throw new AppError('unavailable', 'The server is busy checking other sign-ins; retry in a second', { retryAfterSeconds: 1 });
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Hands the slot to the next waiting sign-in, or frees it. */
  private releaseHashSlot(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.hashing -= 1;
  }

  /** One `{login}` hash tag: the three keys of one script share a Redis Cluster slot. */
  private counterKeys(email: string, ip: string | undefined): { perAccountAndIp: string; perAccount: string; perIp: string } {
    const account = createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32);
    const address = addressKey(ip);
    const base = `${this.keyPrefix}{login}`;
    return { perAccountAndIp: `${base}:account-ip:${account}:${address}`, perAccount: `${base}:account:${account}`, perIp: `${base}:ip:${address}` };
  }
}

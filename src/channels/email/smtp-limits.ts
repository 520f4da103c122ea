import type { Redis } from 'ioredis';
import { addressKey } from '../../platform/address-key';
import { countInWindow } from '../../platform/rate-window';
import type { Logger } from '../../platform/logger';
import { redisScript, type RedisScript } from '../../platform/redis';
import { failOpen, redisReady } from '../../platform/store-outage';

/**
 * Per-client-address limits of the SMTP edge, kept in Redis so they hold across every node that
 * listens. Each check is one Lua script, so two nodes never both take the last slot.
 * Both fail open while Redis is unreachable (one warning per outage): they protect capacity, and
 * refusing every sender's mail until Redis returns would be the outage they guard against. The
 * listener's own `maxClients` still caps connections on each node meanwhile.
 */
export interface SmtpClientLimitSettings {
  keyPrefix: string;
  maxConnectionsPerIp: number;
  maxMessagesPerIp: number;
  messageWindowMs: number;
  /** Longest a connection can live; a slot left by a crashed node expires after it. */
  sessionMs: number;
}

// Open connections of one address: a sorted set of connection ids scored by when they must be gone.
const acquireScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

export class SmtpClientLimits {
  private readonly acquire: RedisScript;

  constructor(
    private readonly redis: Redis,
    private readonly settings: SmtpClientLimitSettings,
    private readonly log: Logger,
  ) {
    this.acquire = redisScript(redis, acquireScript);
  }

  /** Takes a connection slot for `connectionId`; false when the address already holds its limit. */
  async acquireConnection(ip: string, connectionId: string): Promise<boolean> {
    const ttl = this.settings.sessionMs + 60_000;
    return failOpen(this.redis, this.log, 'smtp connection limit', true, async () => {
      const taken = await this.acquire([this.connectionsKey(ip)], [Date.now(), ttl, this.settings.maxConnectionsPerIp, connectionId]);
      return Number(taken) === 1;
    });
  }

  /** Gives the slot back; while Redis is down there is nothing to give back (a slot taken before expires with its TTL). */
  async releaseConnection(ip: string, connectionId: string): Promise<void> {
    if (!redisReady(this.redis)) return;
    await this.redis.zrem(this.connectionsKey(ip), connectionId);
  }

  /** Counts one message from `ip`; false once the address is past its limit for the window. */
  async takeMessage(ip: string): Promise<boolean> {
    return failOpen(this.redis, this.log, 'smtp message rate limit', true, async () => {
      const count = await countInWindow(this.redis, `${this.settings.keyPrefix}smtp:messages:{${addressKey(ip)}}`, this.settings.messageWindowMs);
      return count <= this.settings.maxMessagesPerIp;
    });
  }

  private connectionsKey(ip: string): string {
    return `${this.settings.keyPrefix}smtp:connections:{${addressKey(ip)}}`;
  }
}

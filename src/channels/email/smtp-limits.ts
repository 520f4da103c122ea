import type { Redis } from 'ioredis';
import { addressKey } from '../../platform/address-key';
import { countInWindow } from '../../platform/rate-window';
import { redisScript, type RedisScript } from '../../platform/redis';

/**
 * Per-client-address limits of the SMTP edge, kept in Redis so they hold across every node that
 * listens. Each check is one Lua script, so two nodes never both take the last slot.
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
  ) {
    this.acquire = redisScript(redis, acquireScript);
  }

  /** Takes a connection slot for `connectionId`; false when the address already holds its limit. */
  async acquireConnection(ip: string, connectionId: string): Promise<boolean> {
    const ttl = this.settings.sessionMs + 60_000;
    const taken = await this.acquire([this.connectionsKey(ip)], [Date.now(), ttl, this.settings.maxConnectionsPerIp, connectionId]);
    return Number(taken) === 1;
  }

  async releaseConnection(ip: string, connectionId: string): Promise<void> {
    await this.redis.zrem(this.connectionsKey(ip), connectionId);
  }

  /** Counts one message from `ip`; false once the address is past its limit for the window. */
  async takeMessage(ip: string): Promise<boolean> {
    const count = await countInWindow(this.redis, `${this.settings.keyPrefix}smtp:messages:{${addressKey(ip)}}`, this.settings.messageWindowMs);
    return count <= this.settings.maxMessagesPerIp;
  }

  private connectionsKey(ip: string): string {
    return `${this.settings.keyPrefix}smtp:connections:{${addressKey(ip)}}`;
  }
}

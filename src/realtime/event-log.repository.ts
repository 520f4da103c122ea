import type { Redis } from 'ioredis';

/** One server event to one user, as sent and as kept for replay. `id` is its Redis Stream id. */
export interface UserEvent<Data = unknown> {
  id: string;
  event: string;
  at: string;
  data: Data;
}

export interface Replay {
  /** Missed events, oldest first. */
  events: UserEvent[];
  /** False when the log no longer reaches back to `lastEventId`: the client must rebuild from a snapshot. */
  complete: boolean;
}

// Enough for a shift of offers and state changes; older gaps are answered with a snapshot.
const maxEventsPerUser = 1000;
// A user's log outlives a dropped laptop lid or a night off; then it goes, with the personal data
// the pops in it carry. Refreshed on every event.
const logTtlSeconds = 24 * 60 * 60;

export const eventIdPattern = /^\d{1,15}-\d{1,15}$/;

/**
 * The per-user event log: one Redis Stream per user (`XADD … MAXLEN ~ 1000`). The stream id is the
 * event id, so ids are ordered and a reconnecting client names where it stopped.
 */
export class EventLog {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  private key(userId: string): string {
    return `${this.keyPrefix}realtime:events:${userId}`;
  }

  async append<Data>(userId: string, event: string, data: Data): Promise<UserEvent<Data>> {
    const key = this.key(userId);
    const at = new Date().toISOString();
    const results = await this.redis
      .multi()
      .xadd(key, 'MAXLEN', '~', String(maxEventsPerUser), '*', 'e', event, 't', at, 'd', JSON.stringify(data ?? null))
      .expire(key, logTtlSeconds)
      .exec();
    const [error, id] = results?.[0] ?? [new Error('redis transaction aborted'), null];
    if (error || typeof id !== 'string') throw error ?? new Error('XADD returned no id');
    return { id, event, at, data };
  }

  /**
   * Events after `lastEventId`. Complete only when `lastEventId` itself is still in the log: then
   * nothing between it and now was trimmed. A trimmed, expired or foreign id means a gap.
   */
  async readAfter(userId: string, lastEventId: string): Promise<Replay> {
    const entries = await this.redis.xrange(this.key(userId), lastEventId, '+', 'COUNT', maxEventsPerUser + 1);
    if (entries.length === 0 || entries[0][0] !== lastEventId) return { events: [], complete: false };
    return { events: entries.slice(1).map(([id, fields]) => toUserEvent(id, fields)), complete: true };
  }

  /** The newest event id of the user, so a snapshot can say which point in the log it reflects. */
  async latestId(userId: string): Promise<string | null> {
    const [newest] = await this.redis.xrevrange(this.key(userId), '+', '-', 'COUNT', 1);
    return newest ? newest[0] : null;
  }
}

function toUserEvent(id: string, fields: string[]): UserEvent {
  const values = new Map<string, string>();
  for (let index = 0; index + 1 < fields.length; index += 2) values.set(fields[index], fields[index + 1]);
  return { id, event: values.get('e') ?? 'unknown', at: values.get('t') ?? '', data: JSON.parse(values.get('d') ?? 'null') as unknown };
}

import type { Redis } from 'ioredis';
import { reportRedisOutages } from '../platform/store-outage';
import type { Logger } from '../platform/logger';
import { createRedis } from '../platform/redis';

/**
 * Sessions ended on one node (a token version raised) reach every node through one Redis pub/sub
 * channel: each node drops the user from its cache and closes the user's sockets. A process
 * without a gateway (a script resetting a password) publishes the same message.
 */
export function endedSessionsChannel(keyPrefix: string): string {
  return `${keyPrefix}auth:sessions-ended`;
}

/** Tells every node that `userId`'s sessions ended. */
export async function publishEndedSessions(redis: Redis, keyPrefix: string, userId: string): Promise<void> {
  await redis.publish(endedSessionsChannel(keyPrefix), userId);
}

/**
 * Subscribes this process to ended sessions on any node; `onEnded` runs for each (its own
 * changes included). Resolves once subscribed; the returned function unsubscribes and closes.
 */
export async function listenForEndedSessions(
  redisUrl: string,
  keyPrefix: string,
  onEnded: (userId: string) => void,
  log: Logger,
): Promise<() => Promise<void>> {
  const channel = endedSessionsChannel(keyPrefix);
  const subscriber = createRedis(redisUrl);
  reportRedisOutages(subscriber, log, 'ended-sessions');
  subscriber.on('message', (from: string, userId: string) => {
    if (from === channel && /^[a-f0-9]{24}$/.test(userId)) onEnded(userId);
  });
  await subscriber.subscribe(channel);
  return async () => {
    await subscriber.quit().catch(() => subscriber.disconnect());
  };
}

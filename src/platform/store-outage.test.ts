import { MaxRetriesPerRequestError } from 'ioredis/built/errors';
import { mongo } from 'mongoose';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { failOpen, isMongoUnreachable, isRedisUnreachable, outageError } from './store-outage';

// The driver's own error classes, through mongoose (the driver is not a dependency of ours).
const { MongoNetworkError, MongoServerError, MongoServerSelectionError } = mongo;

/** A connection as failOpen sees it: a status and the ready event (a closed ioredis client would never become ready). */
function connection(status: string): Redis & { status: string } {
  return Object.assign(new EventEmitter(), { status }) as unknown as Redis & { status: string };
}

describe('store outages', () => {
  it('when ioredis gives up on a command or refuses one without a connection, then that is Redis unreachable', () => {
    expect(isRedisUnreachable(new MaxRetriesPerRequestError(1))).toBe(true);
    expect(isRedisUnreachable(new Error('Connection is closed.'))).toBe(true);
    expect(isRedisUnreachable(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(true);
    expect(isRedisUnreachable(new Error('Command timed out'))).toBe(true);
    expect(isRedisUnreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }))).toBe(true);
  });

  it('when Redis answers with an error of its own, then that is not an outage', () => {
    expect(isRedisUnreachable(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
    expect(isRedisUnreachable(new Error('NOSCRIPT No matching script'))).toBe(false);
    expect(isRedisUnreachable('Connection is closed.')).toBe(false);
  });

  it('when the MongoDB driver cannot reach a server, then that is the database unreachable, and a socket error of its own is not Redis', () => {
    const network = new MongoNetworkError('connection 3 to 127.0.0.1:27017 closed');
    expect(isMongoUnreachable(new MongoServerSelectionError('Server selection timed out after 5000 ms', { type: 'Unknown', servers: new Map() } as never))).toBe(true);
    expect(isMongoUnreachable(network)).toBe(true);
    expect(isRedisUnreachable(Object.assign(network, { code: 'ECONNRESET' }))).toBe(false);
  });

  it('when MongoDB rejects a write (a duplicate key), then that is not an outage', () => {
    expect(isMongoUnreachable(new MongoServerError({ message: 'E11000 duplicate key', code: 11000 }))).toBe(false);
    expect(outageError(new MongoServerError({ message: 'E11000 duplicate key', code: 11000 }))).toBeNull();
  });

  it('when a store is unreachable, then the answer is a retryable 503 that names the store and says when to retry', () => {
    const database = outageError(new MongoNetworkError('closed'));
    expect(database).toMatchObject({ code: 'unavailable', status: 503, details: { store: 'mongodb', retryAfterSeconds: 5 } });
    expect(database!.message).toMatch(/nothing was stored/);
    expect(outageError(new Error('Connection is closed.'))).toMatchObject({ status: 503, details: { store: 'redis' } });
  });

  it('when a limit fails open on every request of an outage, then it warns once per outage and says so again in the next one', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const redis = connection('reconnecting');
    const counted = jest.fn(async () => false);

    for (let request = 0; request < 5; request += 1) expect(await failOpen(redis, log, 'smtp message rate limit', true, counted)).toBe(true);
    expect(counted).not.toHaveBeenCalled();
    expect(lines).toHaveLength(1);

    redis.status = 'ready';
    redis.emit('ready');
    expect(await failOpen(redis, log, 'smtp message rate limit', true, counted)).toBe(false);
    // Down again while the command is in flight: ioredis gives up on it.
    expect(await failOpen(redis, log, 'smtp message rate limit', true, async () => Promise.reject(new Error('Connection is closed.')))).toBe(true);
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1]!)).toMatchObject({ use: 'smtp message rate limit', msg: 'redis unreachable: going on without it until it returns' });
  });

  it('when a limit fails for another reason than an outage, then the error is not swallowed', async () => {
    await expect(failOpen(connection('ready'), pino({ level: 'silent' }), 'api rate limit', true, async () => Promise.reject(new Error('WRONGTYPE')))).rejects.toThrow('WRONGTYPE');
  });
});

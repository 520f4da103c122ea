import mongoose from 'mongoose';
import { Redis } from 'ioredis';
import { startPrivateFerretDb, startPrivateRedis } from '../../scripts/standins/private-stores';

// The failure tests (Redis lost, database stopped) rest on these: what a kill keeps and what it loses.
describe('private stores for failure tests', () => {
  it('when a private Redis without persistence is killed and started again, then it answers on the same URL and is empty', async () => {
    const store = await startPrivateRedis();
    const redis = new Redis(store.url, { maxRetriesPerRequest: 1 });
    try {
      await redis.set('k', 'v');
      await store.kill();
      await store.start();
      await expect(redis.get('k')).resolves.toBeNull();
    } finally {
      redis.disconnect();
      await store.destroy();
    }
  });

  it('when a private Redis with an append-only file is killed and started again, then it keeps what it acknowledged; started empty, then it has nothing', async () => {
    const store = await startPrivateRedis({ persist: true });
    const redis = new Redis(store.url, { maxRetriesPerRequest: 1 });
    try {
      await redis.set('k', 'v');
      // appendfsync everysec: what was written more than a second before the crash is on disk.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await store.kill();
      await store.start();
      await expect(redis.get('k')).resolves.toBe('v');
      await store.kill();
      await store.start({ empty: true });
      await expect(redis.get('k')).resolves.toBeNull();
    } finally {
      redis.disconnect();
      await store.destroy();
    }
  });

  it('when a private FerretDB is killed and started again, then what it acknowledged is still there', async () => {
    const store = await startPrivateFerretDb('sb_private_check');
    const connection = mongoose.createConnection(store.url, { serverSelectionTimeoutMS: 10_000 });
    try {
      await connection.asPromise();
      await connection.collection('things').insertOne({ _id: 'a' as never, n: 1 });
      await store.kill();
      await store.start();
      await expect(connection.collection('things').findOne({ _id: 'a' as never })).resolves.toMatchObject({ n: 1 });
    } finally {
      await connection.close().catch(() => undefined);
      await store.destroy();
    }
  });
});

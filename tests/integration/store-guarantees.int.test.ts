import { startTestApp, type TestApp } from '../support/test-app';

// What the code relies on from MongoDB and checks here against the store the tests run on (the
// FerretDB build from scripts/services.sh): each single-document update is atomic, so counters
// kept with $inc lose nothing and a write conditioned on a version has exactly one winner.
describe('the document store', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.destroy());

  it('when 50 increments of one counter run at once, then the counter is 50', async () => {
    const counters = app.mongo.collection<{ _id: string; n: number }>('store_guarantee_counters');
    await counters.insertOne({ _id: 'one', n: 0 });
    await Promise.all(Array.from({ length: 50 }, () => counters.updateOne({ _id: 'one' }, { $inc: { n: 1 } })));
    expect((await counters.findOne({ _id: 'one' }))?.n).toBe(50);
  });

  it('when 30 upserting increments spread over 3 new documents run at once, then each document counts its own', async () => {
    const counters = app.mongo.collection<{ _id: string; n: number }>('store_guarantee_upserts');
    await Promise.all(Array.from({ length: 30 }, (_, index) => counters.updateOne({ _id: `bucket-${index % 3}` }, { $inc: { n: 1 } }, { upsert: true })));
    const stored = await counters.find({}).sort({ _id: 1 }).toArray();
    expect(stored.map((document) => document.n)).toEqual([10, 10, 10]);
  });

  it('when 20 writers update one document conditioned on the same version, then exactly one wins', async () => {
    const documents = app.mongo.collection<{ _id: string; version: number; owner?: number }>('store_guarantee_versions');
    await documents.insertOne({ _id: 'task', version: 1 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, writer) => documents.findOneAndUpdate({ _id: 'task', version: 1 }, { $set: { owner: writer }, $inc: { version: 1 } }, { returnDocument: 'after' })),
    );
    const winners = results.filter((result) => result !== null);
    expect(winners).toHaveLength(1);
    expect(await documents.findOne({ _id: 'task' })).toEqual({ _id: 'task', version: 2, owner: winners[0]!.owner });
  });
});

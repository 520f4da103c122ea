import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import Redis from 'ioredis';
import { accumulate, type BucketRef } from '../../src/reports/buckets';
import { FactCounter, reportBatchesRepair } from '../../src/reports/fact-counter';
import type { Fact } from '../../src/reports/facts';
import { emptySums } from '../../src/reports/kpis';
import { ReportsRepository } from '../../src/reports/reports.repository';
import { closeMongo, connectMongo } from '../../src/platform/mongo';
import { createLogger } from '../../src/platform/logger';
import { ReportsService } from '../../src/reports/reports.service';
import { dayId } from '../../src/reports/buckets';
import { localDay } from '../../src/reports/intervals';
import type { Interaction, InteractionService } from '../../src/interactions';
import { contactFacts, type ContactRules } from '../../src/reports/contact-facts';
import type { TaskEvent, TaskHistoryEntry } from '../../src/tasks';
import { startPrivateFerretDb, startPrivateRedis, type PrivateStore } from '../support/private-stores';

/*
 * Report rollups through a database crash. A batch of facts is written in steps (journal, marks,
 * bucket sums, journal dropped); the database dies between the marks and the sums, or right after
 * the sums landed but before their reply arrived, or the node dies with its batch half written.
 * After recovery the live rollups must equal the sums of the facts (what a rebuild from the raw
 * log stores): no fact left out, none counted twice. Real FerretDB of the test's own, killed -9.
 */
const timeZone = 'Asia/Shanghai';
const log = createLogger('silent');

function facts(count: number, tag: string): Fact[] {
  const at = new Date();
  return Array.from({ length: count }, (_, index) => ({
    key: `offered:${tag}-${index}`,
    parts: [{ at, targets: [{ dim: 'queue' as const, key: `q-${tag}` }, { dim: 'channel' as const, key: `ch-${tag}` }], inc: { offered: 1, waitAnsweredMs: 10 + index }, maxWaitMs: 10 + index }],
  }));
}

/** The bucket sums the facts make (the rebuild's computation) and what the store holds for the same buckets. */
async function compare(repository: ReportsRepository, all: Fact[]) {
  const expected = [...accumulate(all, timeZone).values()];
  const stored = await repository.readSums(expected.map((bucket) => bucket.id));
  return {
    expected: Object.fromEntries(expected.map((bucket) => [bucket.id, bucket.sums])),
    stored: Object.fromEntries(expected.map((bucket, index) => [bucket.id, stored[index] ?? emptySums()])),
  };
}

/** The real repository, with a fault injected at one step of the first batch written (the store itself is not replaced). */
class FaultyRepository extends ReportsRepository {
  fault: 'before-sums' | 'after-sums' | 'node-dies' | undefined;
  constructor(connection: Connection, redis: Redis, prefix: string, private readonly ferret: PrivateStore) {
    super(connection, redis, prefix);
  }
  override async addBatch(changes: Array<{ bucket: BucketRef; inc: Record<string, number>; maxWaitMs?: number }>, guard?: { node: string; seq: number }): Promise<void> {
    const fault = this.fault;
    this.fault = undefined;
    if (fault === 'node-dies') return new Promise<void>(() => undefined);
    if (fault === 'before-sums') {
      await this.ferret.kill();
      setTimeout(() => void this.ferret.start(), 1_500);
    }
    await super.addBatch(changes, guard);
    if (fault === 'after-sums') {
      await this.ferret.kill();
      setTimeout(() => void this.ferret.start(), 1_500);
      throw new Error('connection closed before the reply (the write landed)');
    }
  }
}

describe('report rollups after a database or node crash', () => {
  let ferret: PrivateStore;
  let mongo: Connection;
  let redis: Redis;
  let repository: FaultyRepository;
  const prefix = `t${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    ferret = await startPrivateFerretDb(`rollfaults_${randomBytes(4).toString('hex')}`);
    mongo = await connectMongo(ferret.url, log);
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: false });
    repository = new FaultyRepository(mongo, redis, prefix, ferret);
  }, 30_000);

  afterAll(async () => {
    await closeMongo(mongo).catch(() => undefined);
    redis.disconnect();
    await ferret?.destroy();
  });

  /** Counts `all` (a first delivery that may fail), then delivers them again as the next change of each contact would. */
  async function countTwice(counter: FactCounter, all: Fact[]) {
    const first = await Promise.allSettled(all.map((fact) => counter.count(fact)));
    await waitForStore();
    // The next change of each contact derives the same facts again (a listener redelivery).
    const again = new FactCounter(repository, timeZone, { log });
    await Promise.allSettled(all.map((fact) => again.count(fact)));
    await again.flush();
    return first;
  }

  async function waitForStore() {
    for (let tries = 0; tries < 100; tries += 1) {
      if (ferret.running()) {
        try {
          await mongo.db!.admin().command({ ping: 1 });
          return;
        } catch {
          // not back yet
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async function converged(all: Fact[], timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    let last = await compare(repository, all);
    while (JSON.stringify(last.stored) !== JSON.stringify(last.expected) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      last = await compare(repository, all).catch(() => last);
    }
    return last;
  }

  it('when the database dies between the marks and the sums of a batch, then once it is back the sums are written: the rollups equal the facts', async () => {
    const all = facts(12, `a${randomBytes(3).toString('hex')}`);
    const counter = new FactCounter(repository, timeZone, { log });
    repository.fault = 'before-sums';
    await countTwice(counter, all);
    const { stored, expected } = await converged(all);
    expect(stored).toEqual(expected);
  }, 60_000);

  it('when the database dies after the sums landed but before their reply, then the retry does not count them twice', async () => {
    const all = facts(9, `b${randomBytes(3).toString('hex')}`);
    const counter = new FactCounter(repository, timeZone, { log });
    repository.fault = 'after-sums';
    await countTwice(counter, all);
    // Long enough for retries to have landed twice if they were not guarded.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const { stored, expected } = await compare(repository, all);
    expect(stored).toEqual(expected);
  }, 60_000);

  it('when a node dies with its batch half written, then the repair on another node finishes it, once', async () => {
    const all = facts(7, `c${randomBytes(3).toString('hex')}`);
    const dying = new FactCounter(repository, timeZone, { log });
    repository.fault = 'node-dies';
    const counts = all.map((fact) => dying.count(fact));
    void dying.flush();
    // The marks are in, the sums never come: the dying node's counts never settle.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Another node: its listeners derive the same facts (they are marked, so not counted), and its reconciler runs the repair.
    const other = new FactCounter(repository, timeZone, { log });
    await Promise.all(all.map((fact) => other.count(fact)));
    const repair = reportBatchesRepair(repository, timeZone, { staleMs: 0 });
    expect(await repair.run()).toBe(1);
    expect(await repair.run()).toBe(0);
    const { stored, expected } = await compare(repository, all);
    expect(stored).toEqual(expected);
    void counts;
  }, 60_000);

  it('when Redis is down, then a filed task is still counted before its listener returns (its link to the contact takes no Redis lock)', async () => {
    const privateRedis = await startPrivateRedis();
    const client = new Redis(privateRedis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    client.on('error', () => undefined);
    try {
      const reports = new ReportsRepository(mongo, client, prefix);
      const counter = new FactCounter(reports, timeZone, { log });
      // The task listener never reads the interaction log: no interaction service is needed here.
      const service = new ReportsService({ repository: reports, counter, interactions: {} as InteractionService, rules: { thresholdSeconds: () => 20, channelQueue: () => undefined, shortAbandonSeconds: 5 }, settings: { timeZone, fcrDays: 7 }, log });
      await privateRedis.kill();
      const department = `dep-${randomBytes(4).toString('hex')}`;
      const now = new Date().toISOString();
      const entry = { id: 'h1', at: now, action: 'created', actor: { kind: 'user', id: 'agent-1', name: 'A' }, toStatus: 'open' } as unknown as TaskHistoryEntry;
      const task = { id: randomBytes(12).toString('hex'), departmentId: department, typeCode: 'claim', createdBy: { kind: 'user', id: 'agent-1', name: 'A' }, interactionId: randomBytes(12).toString('hex'), createdAt: now, history: [entry] };
      const event = { type: 'task_created', action: 'created', task, entry } as unknown as TaskEvent;
      const outcome = await Promise.race([service.onTaskEvent(event).then(() => 'counted'), new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5_000))]);
      expect(outcome).toBe('counted');
      const [sums] = await reports.readSums([dayId('department', department, localDay(new Date(now), timeZone))]);
      expect(sums?.tasksCreated).toBe(1);
    } finally {
      client.disconnect();
      await privateRedis.destroy();
    }
  }, 60_000);

  it('when a node dies before its batch reaches the store, then the recount repair on another node counts the contact, once', async () => {
    const rules: ContactRules = { thresholdSeconds: () => 20, channelQueue: () => undefined, shortAbandonSeconds: 5 };
    const settings = { timeZone, fcrDays: 7 };
    const now = new Date().toISOString();
    const interaction = { id: randomBytes(12).toString('hex'), direction: 'inbound', channel: 'voice', queue: `q-d${randomBytes(3).toString('hex')}`, queuedAt: now, createdAt: now, updatedAt: now, status: 'queued', customerId: 'c1', entries: [] } as unknown as Interaction;
    // The dying node: its batch never reaches the store (the process is gone before the journal is written).
    class DyingRepository extends ReportsRepository {
      override saveJournal(): Promise<void> {
        return new Promise<void>(() => undefined);
      }
    }
    const dyingRepository = new DyingRepository(mongo, redis, prefix);
    const dying = new ReportsService({ repository: dyingRepository, counter: new FactCounter(dyingRepository, timeZone, { log }), interactions: {} as InteractionService, rules, settings, log });
    await dying.onInteractionChange({ interaction, created: true });
    await new Promise((resolve) => setTimeout(resolve, 500));

    // Another node's reconciler: the contacts changed lately, counted where no batch holds them.
    const other = new ReportsService({ repository, counter: new FactCounter(repository, timeZone, { log }), interactions: {} as InteractionService, rules, settings, log });
    async function* changedLately() {
      yield interaction;
    }
    expect(await other.recount(changedLately())).toBe(1);
    const restarted = new ReportsService({ repository, counter: new FactCounter(repository, timeZone, { log }), interactions: {} as InteractionService, rules, settings, log });
    expect(await restarted.recount(changedLately())).toBe(0);
    const { stored, expected } = await compare(repository, contactFacts(interaction, rules).facts);
    expect(stored).toEqual(expected);
  }, 60_000);
});

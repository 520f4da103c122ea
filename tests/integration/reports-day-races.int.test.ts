import { randomBytes, randomInt } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import type { RoutingEvent } from '../../src/routing';
import { dayId } from '../../src/reports/buckets';
import { FactCounter } from '../../src/reports/fact-counter';
import type { Fact } from '../../src/reports/facts';
import { startOfLocalDay } from '../../src/reports/intervals';
import { emptySums, type Sums } from '../../src/reports/kpis';
import { ReportsRepository } from '../../src/reports/reports.repository';
import { ReportsService } from '../../src/reports/reports.service';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Two report "processes" (each its own store connection, counter and service, as two Switchboard
 * nodes would have) writing the same agent's states and the same contacts' FCR marks at once: what
 * they leave must be what one process telling the changes in order would have left. Both share one
 * Redis (where an agent's current state is swapped) and one database (segments and rollups).
 */
describe('report counting from two processes at once', () => {
  const zone = 'Etc/GMT';
  const day = '2026-11-20';
  const dayStart = startOfLocalDay(day, zone).getTime();
  let app: TestApp;
  let second: Connection;
  let one: ReturnType<typeof reportsProcess>;
  let two: ReturnType<typeof reportsProcess>;
  const commands: Array<{ name: string; collection: string }> = [];

  const reportsProcess = (mongo: Connection) => {
    const repository = new ReportsRepository(mongo, app.redis, app.config.REDIS_KEY_PREFIX);
    const counter = new FactCounter(repository, zone);
    const service = new ReportsService({
      repository, counter, interactions: app.services.interactions, log: app.log,
      rules: { thresholdSeconds: () => 20, channelQueue: () => undefined, shortAbandonSeconds: 5 },
      settings: { timeZone: zone, fcrDays: 7 },
    });
    return { repository, counter, service };
  };

  beforeAll(async () => {
    app = await startTestApp({}, { routing: false });
    // The second process's commands are watched, to check what one agent state change costs the database.
    second = await mongoose.createConnection(app.config.MONGODB_URI, { monitorCommands: true }).asPromise();
    second.getClient().on('commandStarted', (event) => commands.push({ name: event.commandName, collection: String(event.command[event.commandName]) }));
    one = reportsProcess(app.mongo);
    two = reportsProcess(second);
  });
  afterAll(async () => {
    await Promise.all([one?.service.settle(), two?.service.settle()]);
    await second?.close();
    await app?.destroy();
  });

  const newId = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;
  const at = (minutes: number) => new Date(dayStart + 10 * 3_600_000 + minutes * 60_000);
  const stateEvent = (agentId: string, state: string) => ({ type: 'agent_state', agentId, snapshot: { agentId, state, stateSince: '', offers: [], work: [], load: 0 } }) as unknown as RoutingEvent;
  const settle = () => Promise.all([one.service.settle(), two.service.settle()]);
  const segmentsOf = async (agentId: string) =>
    (await app.mongo.collection('report_agent_states').find({ agentId }).toArray())
      .map((doc) => ({ state: doc.state as string, from: new Date(doc.from).getTime(), to: new Date(doc.to).getTime() }))
      .sort((a, b) => a.from - b.from);
  // The agent's current state lives in Redis (shared by both processes); read it as the store records it.
  const nowOf = (agentId: string) => one.repository.agentNow(agentId);
  const daySums = async (agentId: string): Promise<Sums> => (await one.repository.readSums([dayId('agent', agentId, day)]))[0] ?? emptySums();

  describe('agent states', () => {
    it('when two processes record one agent’s changes at once in any order, then the segments follow each other without gap or overlap and its time is counted once', async () => {
      const agentId = newId('agent');
      const states = ['available', 'busy', 'wrap_up', 'away'];
      const changes: Array<{ state: string; at: Date }> = [];
      for (let minute = 0; minute < 60; minute += 1) {
        const choices = states.filter((state) => state !== changes.at(-1)?.state);
        changes.push({ state: choices[randomInt(choices.length)], at: at(minute) });
      }
      // Each process tells its share in time order, as routing on that node would; the two interleave freely.
      for (const change of changes) (randomInt(2) ? one : two).service.onRoutingEvent(stateEvent(agentId, change.state), change.at);
      await settle();
      await settle();

      const segments = await segmentsOf(agentId);
      expect(segments.length).toBeGreaterThan(0);
      const told = new Map(changes.map((change) => [change.at.getTime(), change.state]));
      for (const [index, segment] of segments.entries()) {
        expect(told.get(segment.from)).toBe(segment.state);
        expect(told.has(segment.to)).toBe(true);
        expect(segment.to).toBeGreaterThan(segment.from);
        if (index > 0) expect(segment.from).toBe(segments[index - 1].to);
      }
      const now = await nowOf(agentId);
      expect(now).toMatchObject({ state: changes.at(-1)!.state });
      expect(new Date(now!.since).getTime()).toBe(segments.at(-1)!.to);

      const sumOf = (kept: string[]) => segments.filter((segment) => kept.includes(segment.state)).reduce((sum, segment) => sum + segment.to - segment.from, 0);
      const sums = await daySums(agentId);
      expect(sums.readyMs).toBe(sumOf(['available', 'busy', 'wrap_up']));
      expect(sums.onContactMs).toBe(sumOf(['busy', 'wrap_up']));
    });

    it('when a change older than the recorded one comes late from another process, then it is dropped and its time stays with the state before', async () => {
      const agentId = newId('agent');
      one.service.onRoutingEvent(stateEvent(agentId, 'available'), at(0));
      one.service.onRoutingEvent(stateEvent(agentId, 'busy'), at(10));
      await settle();
      two.service.onRoutingEvent(stateEvent(agentId, 'wrap_up'), at(5));
      await settle();
      expect(await segmentsOf(agentId)).toEqual([{ state: 'available', from: at(0).getTime(), to: at(10).getTime() }]);
      expect(await nowOf(agentId)).toMatchObject({ state: 'busy', since: at(10) });
      expect((await daySums(agentId)).readyMs).toBe(10 * 60_000);
    });

    it('when the same state is told again, then it goes on in a new segment and its time adds up', async () => {
      const agentId = newId('agent');
      one.service.onRoutingEvent(stateEvent(agentId, 'available'), at(0));
      await settle();
      two.service.onRoutingEvent(stateEvent(agentId, 'available'), at(3));
      await settle();
      one.service.onRoutingEvent(stateEvent(agentId, 'busy'), at(7));
      await settle();
      expect(await segmentsOf(agentId)).toEqual([
        { state: 'available', from: at(0).getTime(), to: at(3).getTime() },
        { state: 'available', from: at(3).getTime(), to: at(7).getTime() },
      ]);
      expect((await daySums(agentId)).readyMs).toBe(7 * 60_000);
    });

    it('when the same state is told again and an older change of another state comes late, then the agent keeps the state told last', async () => {
      const agentId = newId('agent');
      one.service.onRoutingEvent(stateEvent(agentId, 'available'), at(0));
      await settle();
      one.service.onRoutingEvent(stateEvent(agentId, 'available'), at(9));
      await settle();
      two.service.onRoutingEvent(stateEvent(agentId, 'away'), at(5));
      await settle();
      expect(await nowOf(agentId)).toMatchObject({ state: 'available', since: at(9) });
      expect(await segmentsOf(agentId)).toEqual([{ state: 'available', from: at(0).getTime(), to: at(9).getTime() }]);
    });

    it('when another process tells a change at the very instant of the recorded one, then it is dropped and no empty segment is written', async () => {
      const agentId = newId('agent');
      one.service.onRoutingEvent(stateEvent(agentId, 'available'), at(0));
      one.service.onRoutingEvent(stateEvent(agentId, 'busy'), at(4));
      await settle();
      two.service.onRoutingEvent(stateEvent(agentId, 'away'), at(4));
      await settle();
      expect(await nowOf(agentId)).toMatchObject({ state: 'busy', since: at(4) });
      expect(await segmentsOf(agentId)).toEqual([{ state: 'available', from: at(0).getTime(), to: at(4).getTime() }]);
    });

    it('when many agents change state, then no change costs a database command of its own: their segments go in one write', async () => {
      const agentIds = Array.from({ length: 20 }, () => newId('agent'));
      await settle();
      commands.length = 0;
      for (const agentId of agentIds) for (const [minute, state] of ['available', 'busy', 'wrap_up', 'available'].entries()) two.service.onRoutingEvent(stateEvent(agentId, state), at(minute));
      await settle();
      for (const agentId of agentIds) expect((await segmentsOf(agentId)).map((segment) => segment.state)).toEqual(['available', 'busy', 'wrap_up']);
      expect(commands.filter((command) => command.name === 'findAndModify')).toEqual([]);
      // 60 segments; a second write only if the changes straddled a batch on a slow machine.
      const segmentWrites = commands.filter((command) => command.collection === 'report_agent_states').length;
      expect(segmentWrites).toBeGreaterThanOrEqual(1);
      expect(segmentWrites).toBeLessThanOrEqual(2);
    });

    it('when two processes record an agent’s very first states at the same moment, then the later one is the agent’s state', async () => {
      const agentIds = Array.from({ length: 20 }, () => newId('agent'));
      for (const agentId of agentIds) {
        one.service.onRoutingEvent(stateEvent(agentId, 'available'), at(0));
        two.service.onRoutingEvent(stateEvent(agentId, 'busy'), at(1));
      }
      await settle();
      for (const agentId of agentIds) expect(await nowOf(agentId)).toMatchObject({ state: 'busy', since: at(1) });
    });
  });

  describe('first-contact resolution', () => {
    const fcrFact = (interactionId: string, agentId: string): Fact => ({ key: `fcr:${interactionId}`, parts: [{ at: at(30), targets: [{ dim: 'agent', key: agentId }], inc: { fcrContacts: 1 } }] });

    it('when the loss is recorded before the contact’s FCR fact, then the FCR fact and its repeat are counted once each, however often either is told again', async () => {
      const agentId = newId('agent');
      const interactionId = newId('contact');
      await one.counter.loseFcr(interactionId, at(20));
      await two.counter.countFcr(fcrFact(interactionId, agentId));
      await one.counter.countFcr(fcrFact(interactionId, agentId));
      await two.counter.loseFcr(interactionId, at(40));
      await one.counter.loseFcr(interactionId, at(41));
      await settle();
      expect(await daySums(agentId)).toMatchObject({ fcrContacts: 1, fcrRepeats: 1 });
    });

    it('when the loss comes after the FCR fact, from another process, then the repeat is counted once, where the FCR fact was', async () => {
      const agentId = newId('agent');
      const interactionId = newId('contact');
      await one.counter.countFcr(fcrFact(interactionId, agentId));
      expect(await daySums(agentId)).toMatchObject({ fcrContacts: 1, fcrRepeats: 0 });
      await two.counter.loseFcr(interactionId, at(50));
      await two.counter.loseFcr(interactionId, at(51));
      await one.counter.loseFcr(interactionId, at(52));
      await settle();
      expect(await daySums(agentId)).toMatchObject({ fcrContacts: 1, fcrRepeats: 1 });
    });

    it('when FCR facts and their losses are told by two processes at the same moment, then each contact counts once and loses once', async () => {
      const agentId = newId('agent');
      const interactionIds = Array.from({ length: 30 }, () => newId('contact'));
      await Promise.all(
        interactionIds.flatMap((interactionId, index) =>
          index % 2 ? [one.counter.countFcr(fcrFact(interactionId, agentId)), two.counter.loseFcr(interactionId, at(35))] : [two.counter.countFcr(fcrFact(interactionId, agentId)), one.counter.loseFcr(interactionId, at(35))],
        ),
      );
      await settle();
      expect(await daySums(agentId)).toMatchObject({ fcrContacts: 30, fcrRepeats: 30 });
    });
  });
});

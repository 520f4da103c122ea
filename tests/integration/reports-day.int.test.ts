import { randomBytes } from 'node:crypto';
import type { Interaction } from '../../src/interactions';
import { localDay } from '../../src/reports/intervals';
import type { Task, TaskEvent, TaskHistoryEntry } from '../../src/tasks';
import { runRebuild } from '../../scripts/rebuild-rollups';
import { parseQueuesConfig } from '../../src/routing';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';
import { callSid, eventually } from './routing-support';

/** A zone where it is about noon now, so the scripted day never crosses local midnight. */
function zoneNearNoon(now = new Date()): string {
  const offset = Math.max(-12, Math.min(14, 12 - now.getUTCHours()));
  return offset === 0 ? 'Etc/GMT' : offset > 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}

/** Every queue with a 2 s service-level threshold and no wrap-up time, so a day fits in a few seconds. */
function dayQueues() {
  const queue = (name: string, channels: string[]) => ({
    name, channels, strategy: 'longest-idle', skills: {}, tierBonusSeconds: { standard: 0, gold: 0, vip: 0 }, reservationTimeoutSeconds: 30, wrapUpSeconds: 0, serviceLevelSeconds: 2,
  });
  return { defaultQueue: 'general', channelQueues: { sms: 'sms', email: 'email' }, queues: [queue('general', ['voice']), queue('sms', ['sms']), queue('email', ['email'])] };
}

const hex = () => randomBytes(12).toString('hex');
const seconds = (ms: number) => Math.round(ms / 100) / 10;

/**
 * A scripted day through the real webhooks and the agent REST API: calls answered in and out of
 * threshold, a transfer, a short and a long abandon, a repeat caller, a text conversation, two
 * follow-up tasks (fed as TaskEvents per the task contract) and two CSAT answers. Every report
 * figure is checked against the log, then the rollups are dropped, rebuilt from the raw log, and
 * must give the same reports; the wallboard must show the report's figures for the same day.
 */
describe('reports over a scripted day', () => {
  const zone = zoneNearNoon();
  const queuesConfig = dayQueues();
  let env: ChannelTestApp;
  let agentA: TestUser;
  let agentB: TestUser;
  let supervisor: TestUser;
  let today: string;
  const calls: Record<string, { sid: string; interactionId: string }> = {};
  let smsInteractionId: string;
  const departmentId = hex();
  const staffId = hex();

  beforeAll(async () => {
    env = await startChannelTestApp({ REPORTS_TIME_ZONE: zone, REPORTS_SHORT_ABANDON_SECONDS: 5, CSAT_ENABLED: '0' }, { routing: { queuesConfig } });
    [agentA, agentB, supervisor] = [await createUserAndLogin(env.app, 'agent'), await createUserAndLogin(env.app, 'agent'), await createUserAndLogin(env.app, 'supervisor')];
    today = localDay(new Date(), zone);
  });
  afterAll(async () => {
    await env.destroy();
  });

  const api = (user: TestUser, method: string, path: string, body?: unknown) => request(env.app, method, path, { token: user.token, body });
  const setState = async (user: TestUser, state: 'available' | 'away') => expect((await api(user, 'PUT', '/api/routing/me/state', { state })).status).toBe(200);
  const interaction = (id: string) => env.app.services.interactions.getInteraction(id);
  const call = async (name: string, from: string) => {
    const sid = callSid();
    const response = await env.webhook('/webhooks/twilio/voice', { CallSid: sid, AccountSid: env.twilio.accountSid, From: from, To: '+862159999999', CallStatus: 'ringing', Direction: 'inbound' });
    expect(response.status).toBe(200);
    calls[name] = { sid, interactionId: (await env.app.services.interactions.findByExternalId(`twilio-call:${sid}`))!.interactionId };
    return calls[name];
  };
  const callStatus = (sid: string, status: string, timestamp?: Date) =>
    env.webhook('/webhooks/twilio/voice/status', { CallSid: sid, AccountSid: env.twilio.accountSid, CallStatus: status, ...(timestamp ? { Timestamp: timestamp.toUTCString() } : {}) });
  /** Waits for the agent's offer of `interactionId` and accepts it over REST. */
  const acceptOffer = async (user: TestUser, interactionId: string) => {
    const offer = await eventually('an offer', async () => ((await api(user, 'GET', '/api/routing/me')).body.offers as Array<{ id: string; interactionId: string }>).find((item) => item.interactionId === interactionId));
    expect((await api(user, 'POST', `/api/routing/reservations/${offer.id}/accept`)).status).toBe(200);
  };
  const closedWithWrapUp = (id: string) => eventually(`${id} wrapped up`, async () => {
    const current = await interaction(id);
    return current.status === 'closed' && current.entries!.some((entry) => entry.data?.event === 'wrap_up_ended') && current;
  });
  const acceptedAt = (contact: Interaction) => Date.parse(contact.entries!.find((entry) => entry.data?.event === 'accepted')!.at);
  const wait = (contact: Interaction, until: number) => until - Date.parse(contact.queuedAt!);

  const report = async (path: string) => {
    const response = await api(supervisor, 'GET', path);
    expect(response.status).toBe(200);
    return response.body as { items: Array<Record<string, any>> };
  };
  const dayRange = () => `from=${today}&to=${today}`;

  it('when the day is driven through the real webhooks, then every report figure matches the log', async () => {
    // 1. Answered at once by A (within the 2 s threshold); the caller hangs up, which completes A's work.
    await setState(agentA, 'available');
    await call('quick', '+8613900000001');
    await acceptOffer(agentA, calls.quick.interactionId);
    expect((await callStatus(calls.quick.sid, 'completed')).status).toBe(200);
    const quick = await closedWithWrapUp(calls.quick.interactionId);

    // 2. Waits 2.5 s (nobody available), then A answers and transfers it to B, who finishes it.
    await setState(agentA, 'away');
    await call('slow', '+8613900000002');
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await setState(agentA, 'available');
    await acceptOffer(agentA, calls.slow.interactionId);
    await setState(agentB, 'available');
    expect((await api(agentA, 'POST', `/api/routing/work/${calls.slow.interactionId}/transfer`, { toAgentId: agentB.id, note: 'warranty question' })).status).toBe(200);
    await acceptOffer(agentB, calls.slow.interactionId);
    expect((await callStatus(calls.slow.sid, 'completed')).status).toBe(200);
    const slow = await closedWithWrapUp(calls.slow.interactionId);

    // 3. Nobody available: the first caller calls again and hangs up after ~2 s (a short abandon, and a
    //    repeat contact within N days for call 1); another caller gives up after ~40 s.
    await setState(agentA, 'away');
    await setState(agentB, 'away');
    await call('short', '+8613900000001');
    await call('gaveUp', '+8613900000003');
    const shortQueued = Date.parse((await interaction(calls.short.interactionId)).queuedAt!);
    const gaveUpQueued = Date.parse((await interaction(calls.gaveUp.interactionId)).queuedAt!);
    expect((await callStatus(calls.short.sid, 'completed', new Date(shortQueued + 2_000))).status).toBe(200);
    expect((await callStatus(calls.gaveUp.sid, 'no-answer', new Date(gaveUpQueued + 40_000))).status).toBe(200);
    const short = await eventually('short abandon', async () => { const current = await interaction(calls.short.interactionId); return current.status === 'abandoned' && current; });
    const gaveUp = await eventually('long abandon', async () => { const current = await interaction(calls.gaveUp.interactionId); return current.status === 'abandoned' && current; });

    // 4. A text, answered by B at once and completed over REST.
    await setState(agentB, 'available');
    const messageSid = `SM${randomBytes(16).toString('hex')}`;
    expect((await env.webhook('/webhooks/twilio/sms', { MessageSid: messageSid, AccountSid: env.twilio.accountSid, From: '+8613900000004', To: '+862150000000', Body: 'Is my car ready?', NumMedia: '0' })).status).toBe(200);
    smsInteractionId = (await env.app.services.interactions.findByExternalId(`twilio-sms:${messageSid}`))!.interactionId;
    await acceptOffer(agentB, smsInteractionId);
    expect((await api(agentB, 'POST', `/api/routing/work/${smsInteractionId}/complete`, { disposition: 'answered' })).status).toBe(200);
    await closedWithWrapUp(smsInteractionId);
    await setState(agentB, 'away');

    // 5. Follow-up tasks (per the TaskEvent contract) and CSAT answers.
    await feedTasks(slow.id);
    expect(await env.app.reports.recordCsatAnswer({ interactionId: quick.id, queue: 'general', agentId: agentA.id, channel: 'voice', score: 5, at: new Date() })).toEqual({ recorded: true });
    expect(await env.app.reports.recordCsatAnswer({ interactionId: slow.id, queue: 'general', agentId: agentB.id, channel: 'voice', score: 2, at: new Date() })).toEqual({ recorded: true });
    // One answer per interaction: a second one is not counted.
    expect(await env.app.reports.recordCsatAnswer({ interactionId: slow.id, queue: 'general', agentId: agentB.id, channel: 'voice', score: 5, at: new Date() })).toEqual({ recorded: false });

    // The figures, computed here from the log.
    const w1 = wait(quick, acceptedAt(quick));
    const w2 = wait(slow, acceptedAt(slow));
    expect(w1).toBeLessThanOrEqual(2_000);
    expect(w2).toBeGreaterThan(2_000);
    const shortWait = Date.parse(short.endedAt!) - shortQueued;
    const longWait = Date.parse(gaveUp.endedAt!) - gaveUpQueued;
    expect(shortWait).toBeLessThan(5_000);
    expect(longWait).toBeGreaterThanOrEqual(5_000);

    const [general] = (await report(`/api/reports/queues?${dayRange()}&interval=day&queue=general`)).items;
    expect(general).toMatchObject({
      queue: 'general', thresholdSeconds: 2,
      offered: 4, answered: 2, answeredWithinThreshold: 1, abandoned: 1, shortAbandoned: 1, overflowed: 0, transferred: 1,
      serviceLevel: 0.3333, serviceLevelAnswered: 0.5, asaSeconds: seconds((w1 + w2) / 2), abandonmentRate: 0.25, longestWaitSeconds: seconds(Math.max(w1, w2, shortWait, longWait)),
      handled: 3, fcrContacts: 2, fcr: 0, csatAnswers: 2, csatPercent: 0.5, csatAverage: 3.5,
    });
    expect(general.start.slice(0, 10)).toBe(today);

    const agents = (await report(`/api/reports/agents?${dayRange()}&interval=day`)).items;
    const rowOf = (id: string) => agents.find((row) => row.agentId === id);
    expect(rowOf(agentA.id)).toMatchObject({ answered: 2, handled: 2, transferred: 1, fcrContacts: 1, fcr: 0, csatAnswers: 1, csatAverage: 5, tasksFiled: 2 });
    expect(rowOf(agentB.id)).toMatchObject({ answered: 1, handled: 2, transferred: 0, fcrContacts: 2, fcr: 0.5, csatAnswers: 1, csatAverage: 2 });
    expect(rowOf(staffId)).toMatchObject({ tasksResolved: 2, tasksResolvedWithinSla: 1, tasksWithinSla: 0.5 });
    // AHT is (talk + hold + wrap-up) ÷ handled from the log's accept, transfer, completion and wrap-up entries.
    expect(rowOf(agentA.id)!.ahtSeconds).toBeCloseTo((rowOf(agentA.id)!.talkSeconds + rowOf(agentA.id)!.wrapSeconds) / 2, 0);
    expect(rowOf(agentA.id)!.occupancy).toBeGreaterThan(0);
    expect(rowOf(agentA.id)!.occupancy).toBeLessThanOrEqual(1);

    const channels = (await report(`/api/reports/channels?${dayRange()}&interval=day`)).items;
    expect(channels.find((row) => row.channel === 'voice')).toMatchObject({ offered: 4, answered: 2, abandoned: 1, shortAbandoned: 1, serviceLevel: 0.3333 });
    expect(channels.find((row) => row.channel === 'sms')).toMatchObject({ offered: 1, answered: 1, answeredWithinThreshold: 1, handled: 1, fcr: 1 });

    const [department] = (await report(`/api/reports/departments?${dayRange()}&interval=day&departmentId=${departmentId}`)).items;
    expect(department).toMatchObject({
      departmentId, tasksCreated: 2, tasksAccepted: 1, timeToAcceptSeconds: 600, tasksResolved: 2, tasksResolvedWithinSla: 1, tasksWithinSla: 0.5,
      timeToResolveSeconds: 3600, tasksReopened: 1, reopenedRate: 0.5, tasksBreached: 1, csatAnswers: 1, csatPercent: 0, csatAverage: 2,
    });
    const byType = (await report(`/api/reports/departments?${dayRange()}&interval=day&departmentId=${departmentId}&by=type`)).items;
    expect(byType).toEqual([expect.objectContaining({ departmentId, typeCode: 'warranty-claim', tasksCreated: 2, tasksWithinSla: 0.5 })]);

    // Quarters and hours add up to the day.
    for (const interval of ['15m', 'hour']) {
      const rows = (await report(`/api/reports/queues?${dayRange()}&interval=${interval}&queue=general`)).items;
      expect(rows.length).toBeGreaterThan(0);
      for (const field of ['offered', 'answered', 'answeredWithinThreshold', 'abandoned', 'shortAbandoned', 'handled', 'csatAnswers']) {
        expect(rows.reduce((sum, row) => sum + row[field], 0)).toBe(general[field]);
      }
    }
  }, 45_000);

  /** Two tasks of one department, filed by agent A from call 2, as the task service would publish them. */
  async function feedTasks(interactionId: string): Promise<void> {
    const base = Date.now();
    const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
    const staff = { kind: 'user' as const, id: staffId, name: 'Parts desk' };
    const filer = { kind: 'user' as const, id: agentA.id, name: 'Agent A' };
    const entry = (id: string, minutes: number, action: TaskHistoryEntry['action'], actor = staff, toStatus?: Task['status']): TaskHistoryEntry => ({ id, at: at(minutes), action, actor, ...(toStatus ? { toStatus } : {}) });
    const task = (id: string, history: TaskHistoryEntry[], extra: Partial<Task>): Task => ({
      id, reference: `T-${id.slice(-6)}`, departmentId, typeCode: 'warranty-claim', title: 'Warranty claim', description: '', fields: {}, checklist: [], priority: 'normal', status: 'open',
      createdBy: filer, customerId: hex(), interactionId, watcherIds: [], slaMinutes: 60, dueAt: at(60), reopenCount: 0, attachments: [], version: history.length,
      createdAt: at(0), updatedAt: history.at(-1)!.at, history, ...extra,
    });
    const t1 = hex();
    const t2 = hex();
    const h1 = [entry('a1', 0, 'created', filer, 'open'), entry('a2', 10, 'accepted', staff, 'accepted'), entry('a3', 30, 'resolved', staff, 'resolved')];
    const h2 = [entry('b1', 0, 'created', filer, 'open'), entry('b2', 60, 'sla_breached', { kind: 'system' as const, id: 'sla', name: 'SLA' } as never), entry('b3', 90, 'resolved', staff, 'resolved'), entry('b4', 100, 'reopened', filer, 'reopened')];
    const events: TaskEvent[] = [];
    h1.forEach((item, index) => events.push({ type: index ? 'task_updated' : 'task_created', action: item.action, entry: item, task: task(t1, h1.slice(0, index + 1), { status: item.toStatus ?? 'open', ...(index >= 1 ? { acceptedAt: h1[1].at } : {}), ...(index >= 2 ? { resolvedAt: h1[2].at } : {}) }) }));
    h2.forEach((item, index) => events.push({ type: index ? 'task_updated' : 'task_created', action: item.action, entry: item, task: task(t2, h2.slice(0, index + 1), { status: item.toStatus ?? 'open', ...(index === 1 || index === 2 ? { breachedAt: h2[1].at } : {}), ...(index >= 2 ? { resolvedAt: h2[2].at } : {}), ...(index >= 3 ? { reopenCount: 1 } : {}) }) }));
    for (const event of events) await env.app.reports.onTaskEvent(event);
    // A redelivered event changes nothing.
    await env.app.reports.onTaskEvent(events[2]);
    // The tasks as the task module stores them: the raw log the rebuild reads.
    const toDocument = (final: TaskEvent) => {
      const { id, history, ...rest } = final.task;
      const dates = Object.fromEntries(['createdAt', 'updatedAt', 'dueAt', 'acceptedAt', 'resolvedAt', 'breachedAt'].flatMap((field) => (rest[field as keyof typeof rest] ? [[field, new Date(rest[field as keyof typeof rest] as string)]] : [])));
      return { ...rest, ...dates, _id: id, history: history!.map(({ id: entryId, at: entryAt, ...item }) => ({ ...item, _id: entryId, at: new Date(entryAt) })) };
    };
    await env.app.mongo.collection('tasks').insertMany([toDocument(events[2]), toDocument(events.at(-1)!)] as never[]);
  }

  it('when the wallboard is read, then its figures for today are the report\'s day figures', async () => {
    const [general] = (await report(`/api/reports/queues?${dayRange()}&interval=day&queue=general`)).items;
    const board = (await api(supervisor, 'GET', '/api/routing/queues')).body.items.find((item: { queue: string }) => item.queue === 'general');
    expect(board.today).toEqual({
      day: today, timeZone: zone, serviceLevelSeconds: 2,
      offered: general.offered, answered: general.answered, answeredWithinServiceLevel: general.answeredWithinThreshold, abandoned: general.abandoned, shortAbandoned: general.shortAbandoned,
      overflowed: general.overflowed, serviceLevel: general.serviceLevel, serviceLevelAnswered: general.serviceLevelAnswered, asaSeconds: general.asaSeconds,
      abandonmentRate: general.abandonmentRate, longestWaitSeconds: general.longestWaitSeconds,
    });
    expect(board.today.serviceLevel).toBe(0.3333);
  });

  it('when a report is asked for as CSV, then it streams the same rows with "—" for figures without a denominator', async () => {
    const json = (await report(`/api/reports/queues?${dayRange()}&interval=day`)).items;
    const response = await fetch(`${env.app.url}/api/reports/queues?${dayRange()}&interval=day&format=csv`, { headers: { authorization: `Bearer ${supervisor.token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/csv');
    const [header, ...lines] = (await response.text()).trim().split('\r\n');
    const columns = header.split(',');
    expect(columns.slice(0, 4)).toEqual(['queue', 'start', 'end', 'thresholdSeconds']);
    expect(lines).toHaveLength(json.length);
    lines.forEach((line, index) => {
      const cells = line.split(',');
      columns.forEach((column, position) => expect(cells[position]).toBe(json[index][column] === null ? '—' : String(json[index][column])));
    });
    const sms = lines.find((line) => line.startsWith('sms,'))!.split(',');
    expect(sms[columns.indexOf('abandonmentRate')]).toBe('0');
    expect(sms[columns.indexOf('csatPercent')]).toBe('—');
  });

  it('when someone other than a supervisor asks, or the range is backwards, then the API refuses', async () => {
    expect((await api(agentA, 'GET', `/api/reports/queues?${dayRange()}`)).status).toBe(403);
    const backwards = await api(supervisor, 'GET', `/api/reports/queues?from=${today}T12:00:00Z&to=${today}T11:00:00Z`);
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.details).toEqual([expect.objectContaining({ field: 'query.to' })]);
    expect((await api(supervisor, 'GET', `/api/reports/queues?from=yesterday&to=${today}`)).body.error.details).toEqual([expect.objectContaining({ field: 'query.from' })]);
    // Without an offset the time would be read in the server's zone: refused.
    expect((await api(supervisor, 'GET', `/api/reports/queues?from=${today}T10:00:00&to=${today}`)).body.error.details).toEqual([expect.objectContaining({ field: 'query.from' })]);
    // 15-minute rows over years would be millions of reads: a coarser interval is asked for.
    const huge = await api(supervisor, 'GET', `/api/reports/agents?from=2000-01-01&to=${today}&interval=15m`);
    expect(huge.status).toBe(400);
    expect(huge.body.error.details).toEqual([expect.objectContaining({ field: 'query.interval' })]);
  });

  it('when the rollups are dropped and rebuilt from the raw log, then every report and scorecard is the same as live', async () => {
    const paths = [
      `/api/reports/queues?${dayRange()}&interval=day`,
      `/api/reports/queues?${dayRange()}&interval=15m`,
      `/api/reports/agents?${dayRange()}&interval=hour`,
      `/api/reports/channels?${dayRange()}&interval=day`,
      `/api/reports/departments?${dayRange()}&interval=day`,
      `/api/reports/departments?${dayRange()}&interval=day&by=type`,
      `/api/reports/scorecards/agents?${dayRange()}`,
      `/api/reports/scorecards/departments?${dayRange()}`,
    ];
    const live = await Promise.all(paths.map(async (path) => (await report(path)).items));
    expect(live.every((items) => items.length > 0)).toBe(true);

    await env.app.mongo.collection('report_rollups').deleteMany({});
    expect((await report(paths[0])).items).toEqual([]);

    const lines: string[] = [];
    const result = await runRebuild({ config: env.app.config, fromDay: today, toDay: today, queuesConfig: parseQueuesConfig(queuesConfig), out: (line) => lines.push(line) });
    expect(result).toMatchObject({ interactions: 5, tasks: 2, csatAnswers: 2 });
    expect(lines.some((line) => line.startsWith('interactions: 5'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^rebuilt \d+ buckets from \d+ facts/);

    const rebuilt = await Promise.all(paths.map(async (path) => (await report(path)).items));
    rebuilt.forEach((items, index) => expect({ path: paths[index], items }).toEqual({ path: paths[index], items: live[index] }));

    // Marks were kept: the next change of a counted contact does not count it again.
    await env.app.reports.onInteractionChange({ interaction: await interaction(calls.quick.interactionId), created: false });
    expect((await report(paths[0])).items).toEqual(live[0]);
  }, 30_000);
});

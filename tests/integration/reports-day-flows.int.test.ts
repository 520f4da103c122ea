import { randomBytes, randomInt } from 'node:crypto';
import { runRebuild } from '../../scripts/rebuild-rollups';
import { localDay } from '../../src/reports/intervals';
import { parseQueuesConfig } from '../../src/routing';
import { smsSurveyText, smsThanksText } from '../../src/surveys/survey.service';
import type { BusinessHours, Task, TaskHistoryEntry } from '../../src/tasks';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { createUserAndLogin, request, uniqueName, type TestUser } from '../support/test-app';
import { callSid, eventually, testQueues } from './routing-support';

/*
 * The task and CSAT half of a scripted day (issue #7), through the real flows: follow-up tasks filed
 * over REST and worked by a department user on a scaled SLA clock (SLA_TIME_SCALE 0.01: a 3-minute
 * SLA breaches after 1.8 s real), and CSAT surveys sent after two SMS contacts and a call routed to
 * an agent, answered by signed SMS replies. Every figure is computed here from the tasks' own histories and the
 * answers given, then the rollups are rebuilt from the raw log and must read the same.
 */

/** A zone where it is about noon now, so the scripted day never crosses local midnight. */
function zoneNearNoon(now = new Date()): string {
  const offset = Math.max(-12, Math.min(14, 12 - now.getUTCHours()));
  return offset === 0 ? 'Etc/GMT' : offset > 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}

const allDay = [{ start: '00:00', end: '24:00' }];
const alwaysOpen: BusinessHours = { weekly: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay }, holidays: [] };
const ourNumber = '+862150000000';
const messageSid = () => `SM${randomBytes(16).toString('hex')}`;
const newMobile = () => `+86137${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
/** As kpis.ts rounds an average: total ms ÷ count, in seconds to 1 decimal. */
const averageSeconds = (totalMs: number, count: number) => Math.round((totalMs / count / 1000) * 10) / 10;

describe('task and CSAT reports over a scripted day, through the real flows', () => {
  const zone = zoneNearNoon();
  const queuesConfig = testQueues();
  let env: ChannelTestApp;
  let agent: TestUser;
  let deskUser: TestUser;
  let supervisor: TestUser;
  let departmentId: string;
  let today: string;
  const contacts: Array<{ interactionId: string; customerId: string; from: string }> = [];
  const tasks: Record<'quick' | 'late' | 'open', Task> = {} as never;

  beforeAll(async () => {
    env = await startChannelTestApp(
      { REPORTS_TIME_ZONE: zone, SLA_TIME_SCALE: 0.01, CSAT_DELAY: '200ms', CSAT_QUIET_HOURS: 'off' },
      { routing: { queuesConfig } },
    );
    const department = await env.app.services.departments.create({
      code: uniqueName('parts'), name: 'Parts desk', timezone: 'UTC', businessHours: alwaysOpen,
      taskTypes: [
        { code: 'quick', name: 'Quick question', slaMinutes: 3, defaultPriority: 'normal', fields: [], checklist: [], notifyCustomerOnCreate: false, templates: {} },
        { code: 'order', name: 'Part order', slaMinutes: 600, defaultPriority: 'normal', fields: [], checklist: [], notifyCustomerOnCreate: false, templates: {} },
      ],
    });
    departmentId = department.id;
    [agent, deskUser, supervisor] = [await createUserAndLogin(env.app, 'agent'), await createUserAndLogin(env.app, 'department', { departmentId }), await createUserAndLogin(env.app, 'supervisor')];
    today = localDay(new Date(), zone);
  }, 30_000);
  afterAll(async () => {
    await env?.destroy();
  });

  const api = async (user: TestUser, method: string, path: string, body?: unknown, expected = 200) => {
    const response = await request(env.app, method, path, { token: user.token, body });
    if (response.status !== expected) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const text = (from: string, body: string, sid = messageSid()) =>
    env.webhook('/webhooks/twilio/sms', { MessageSid: sid, AccountSid: env.twilio.accountSid, From: from, To: ourNumber, Body: body, NumMedia: '0' });
  const report = async (path: string) => (await api(supervisor, 'GET', path)).items as Array<Record<string, any>>;
  const dayRange = () => `from=${today}&to=${today}`;
  const taskOf = async (id: string) => (await api(deskUser, 'GET', `/api/tasks/${id}`)) as Task;
  const entryOf = (task: Task, action: TaskHistoryEntry['action']) => task.history!.find((entry) => entry.action === action);

  const acceptOffer = async (interactionId: string) => {
    const offer = await eventually('the offer', async () => ((await api(agent, 'GET', '/api/routing/me')).offers as Array<{ id: string; interactionId: string }>).find((item) => item.interactionId === interactionId));
    await api(agent, 'POST', `/api/routing/reservations/${offer.id}/accept`);
  };
  const contactOf = async (interactionId: string, from: string) => ({ interactionId, customerId: (await env.app.services.interactions.getInteraction(interactionId)).customerId, from });

  /** A customer texts in; the agent accepts the offer and completes it over REST (wrap-up 0). */
  async function smsContact(body: string) {
    const from = newMobile();
    const sid = messageSid();
    expect((await text(from, body, sid)).status).toBe(200);
    const interactionId = (await env.app.services.interactions.findByExternalId(`twilio-sms:${sid}`))!.interactionId;
    await acceptOffer(interactionId);
    await api(agent, 'POST', `/api/routing/work/${interactionId}/complete`, { disposition: 'solved' });
    return contactOf(interactionId, from);
  }

  /** A customer calls; the agent answers, and the caller hanging up completes the work. */
  async function voiceContact() {
    const from = newMobile();
    const sid = callSid();
    expect((await env.webhook('/webhooks/twilio/voice', { CallSid: sid, AccountSid: env.twilio.accountSid, From: from, To: '+862159999999', CallStatus: 'ringing', Direction: 'inbound' })).status).toBe(200);
    const interactionId = (await env.app.services.interactions.findByExternalId(`twilio-call:${sid}`))!.interactionId;
    await acceptOffer(interactionId);
    expect((await env.webhook('/webhooks/twilio/voice/status', { CallSid: sid, AccountSid: env.twilio.accountSid, CallStatus: 'completed' })).status).toBe(200);
    await eventually('the call wrapped up', async () => (await env.app.services.interactions.getInteraction(interactionId)).entries!.some((entry) => entry.data?.event === 'wrap_up_ended'));
    return contactOf(interactionId, from);
  }

  const fileTask = async (contact: (typeof contacts)[number], typeCode: string, title: string) =>
    (await api(agent, 'POST', '/api/tasks', { departmentId, typeCode, title, customerId: contact.customerId, interactionId: contact.interactionId }, 201)) as Task;

  it('when tasks are filed and worked and customers answer CSAT surveys, then every department, queue and agent figure matches the log', async () => {
    // Two SMS contacts and a call routed to the agent and completed; each gets a survey text after 200 ms.
    await api(agent, 'PUT', '/api/routing/me/state', { state: 'available' });
    contacts.push(await smsContact('My wiper is broken'));
    contacts.push(await smsContact('Do you have brake pads for a Tiggo 7?'));
    contacts.push(await voiceContact());

    // Follow-up tasks filed by the agent from the day's contacts. The first is resolved at once, well within its 1.8 s (scaled) SLA.
    const quick = await fileTask(contacts[0], 'quick', 'Wiper motor in stock?');
    await api(deskUser, 'POST', `/api/tasks/${quick.id}/accept`, {});
    await api(deskUser, 'POST', `/api/tasks/${quick.id}/resolve`, { resolution: 'In stock' });
    const late = await fileTask(contacts[1], 'quick', 'Brake pads price');
    const open = await fileTask(contacts[0], 'order', 'Order a wiper motor');
    // Resolved only after its breach was recorded, then reopened by the agent.
    await eventually('the breach of the late task', async () => entryOf(await taskOf(late.id), 'sla_breached'), 10_000);
    await api(deskUser, 'POST', `/api/tasks/${late.id}/accept`, {});
    await api(deskUser, 'POST', `/api/tasks/${late.id}/resolve`, { resolution: 'Quoted by phone' });
    await api(agent, 'POST', `/api/tasks/${late.id}/reopen`, { comment: 'Customer wants a written quote' });
    // Accepted, still being worked (a 10-hour SLA: no breach today).
    await api(deskUser, 'POST', `/api/tasks/${open.id}/accept`, {});

    // The surveys reach the Twilio stand-in; the customers answer 5, 2 and 4.
    const surveyTo = (to: string) => env.twilio.messages.filter((message) => message.to === to && message.body === smsSurveyText);
    for (const contact of contacts) await eventually(`the survey to ${contact.interactionId}`, () => surveyTo(contact.from).length === 1);
    for (const [contact, score] of [[contacts[0], '5'], [contacts[1], ' 2. '], [contacts[2], '4']] as const) {
      const reply = await text(contact.from, score);
      expect(reply.status).toBe(200);
      expect(reply.text).toContain(smsThanksText);
    }
    const csatEntries = await Promise.all(contacts.map(async ({ interactionId }) => eventually('the answer in the log', async () => (await env.app.services.interactions.getInteraction(interactionId)).entries?.find((entry) => entry.data?.event === 'csat_answered'))));
    expect(csatEntries.map((entry) => entry.data?.score)).toEqual([5, 2, 4]);

    // The figures, computed from the tasks' own histories.
    tasks.quick = await taskOf(quick.id);
    tasks.late = await taskOf(late.id);
    tasks.open = await taskOf(open.id);
    expect(entryOf(tasks.quick, 'sla_breached')).toBeUndefined();
    expect(Date.parse(entryOf(tasks.late, 'sla_breached')!.at)).toBeLessThan(Date.parse(entryOf(tasks.late, 'resolved')!.at));
    expect(tasks.late).toMatchObject({ status: 'reopened', reopenCount: 1 });
    expect(entryOf(tasks.open, 'sla_breached')).toBeUndefined();
    const since = (task: Task, action: TaskHistoryEntry['action']) => Date.parse(entryOf(task, action)!.at) - Date.parse(task.createdAt);
    const acceptMs = [since(tasks.quick, 'accepted'), since(tasks.late, 'accepted'), since(tasks.open, 'accepted')];
    const resolveMs = [since(tasks.quick, 'resolved'), since(tasks.late, 'resolved')];
    const timeToAccept = averageSeconds(acceptMs[0] + acceptMs[1] + acceptMs[2], 3);
    const timeToResolve = averageSeconds(resolveMs[0] + resolveMs[1], 2);
    expect(timeToAccept).toBeGreaterThan(0);
    expect(timeToResolve).toBeGreaterThan(0);

    const [department] = await report(`/api/reports/departments?${dayRange()}&interval=day&departmentId=${departmentId}`);
    expect(department).toMatchObject({
      departmentId, tasksCreated: 3, tasksAccepted: 3, timeToAcceptSeconds: timeToAccept, tasksResolved: 2, tasksResolvedWithinSla: 1, tasksWithinSla: 0.5,
      timeToResolveSeconds: timeToResolve, tasksReopened: 1, reopenedRate: 0.5, tasksBreached: 1, csatAnswers: 2, csatPercent: 0.5, csatAverage: 3.5,
    });
    expect(department.start.slice(0, 10)).toBe(today);

    const byType = await report(`/api/reports/departments?${dayRange()}&interval=day&departmentId=${departmentId}&by=type`);
    expect(byType).toHaveLength(2);
    expect(byType.find((row) => row.typeCode === 'quick')).toMatchObject({
      departmentId, tasksCreated: 2, tasksAccepted: 2, timeToAcceptSeconds: averageSeconds(acceptMs[0] + acceptMs[1], 2), tasksResolved: 2, tasksResolvedWithinSla: 1,
      tasksWithinSla: 0.5, timeToResolveSeconds: timeToResolve, tasksReopened: 1, reopenedRate: 0.5, tasksBreached: 1,
    });
    expect(byType.find((row) => row.typeCode === 'order')).toMatchObject({
      departmentId, tasksCreated: 1, tasksAccepted: 1, timeToAcceptSeconds: averageSeconds(acceptMs[2], 1), tasksResolved: 0, tasksWithinSla: null, reopenedRate: null, tasksBreached: 0,
    });

    // CSAT = answers of 4–5 ÷ answers; the average is the mean score. The agent had 5, 2 and 4.
    const [general] = await report(`/api/reports/queues?${dayRange()}&interval=day&queue=general`);
    expect(general).toMatchObject({ queue: 'general', offered: 1, answered: 1, handled: 1, csatAnswers: 1, csatPercent: 1, csatAverage: 4 });
    // Texts are queued by channel: their answers count in the queue routing's accepted entry names.
    const [smsQueue] = await report(`/api/reports/queues?${dayRange()}&interval=day&queue=sms`);
    expect(smsQueue).toMatchObject({ queue: 'sms', offered: 2, answered: 2, handled: 2, fcrContacts: 2, fcr: 0, csatAnswers: 2, csatPercent: 0.5, csatAverage: 3.5 });
    const channels = await report(`/api/reports/channels?${dayRange()}&interval=day`);
    expect(channels.find((row) => row.channel === 'sms')).toMatchObject({ handled: 2, csatAnswers: 2, csatPercent: 0.5, csatAverage: 3.5 });
    expect(channels.find((row) => row.channel === 'voice')).toMatchObject({ handled: 1, csatAnswers: 1, csatPercent: 1, csatAverage: 4 });
    const agents = await report(`/api/reports/agents?${dayRange()}&interval=day`);
    expect(agents.find((row) => row.agentId === agent.id)).toMatchObject({ handled: 3, csatAnswers: 3, csatPercent: 0.6667, csatAverage: 3.67, tasksFiled: 3 });
    expect(agents.find((row) => row.agentId === deskUser.id)).toMatchObject({ tasksResolved: 2, tasksResolvedWithinSla: 1, tasksWithinSla: 0.5 });
    const [scorecard] = await report(`/api/reports/scorecards/agents?${dayRange()}&agentId=${agent.id}`);
    expect(scorecard).toMatchObject({ agentId: agent.id, handled: 3, csatAnswers: 3, csatPercent: 0.6667, csatAverage: 3.67, tasksFiled: 3 });
    const [departmentCard] = await report(`/api/reports/scorecards/departments?${dayRange()}&departmentId=${departmentId}`);
    expect(departmentCard).toMatchObject({ departmentId, tasksResolved: 2, tasksWithinSla: 0.5, tasksBreached: 1, reopenedRate: 0.5, csatAnswers: 2, csatPercent: 0.5, csatAverage: 3.5 });
  }, 30_000);

  it('when the rollups are dropped and rebuilt from the raw log, then the department and CSAT figures are the same as live', async () => {
    expect(tasks.late).toBeDefined();
    const paths = [
      `/api/reports/departments?${dayRange()}&interval=day&departmentId=${departmentId}`,
      `/api/reports/departments?${dayRange()}&interval=day&departmentId=${departmentId}&by=type`,
      `/api/reports/departments?${dayRange()}&interval=15m&departmentId=${departmentId}`,
      `/api/reports/queues?${dayRange()}&interval=day&queue=sms`,
      `/api/reports/queues?${dayRange()}&interval=day&queue=general`,
      `/api/reports/channels?${dayRange()}&interval=day`,
      `/api/reports/agents?${dayRange()}&interval=day&agentId=${agent.id}`,
      `/api/reports/agents?${dayRange()}&interval=day&agentId=${deskUser.id}`,
      `/api/reports/scorecards/agents?${dayRange()}&agentId=${agent.id}`,
      `/api/reports/scorecards/departments?${dayRange()}&departmentId=${departmentId}`,
    ];
    const live = await Promise.all(paths.map(report));
    expect(live.every((items) => items.length > 0)).toBe(true);

    await env.app.mongo.collection('report_rollups').deleteMany({});
    expect(await report(paths[0])).toEqual([]);
    const result = await runRebuild({ config: env.app.config, fromDay: today, toDay: today, queuesConfig: parseQueuesConfig(queuesConfig), out: () => undefined });
    expect(result).toMatchObject({ tasks: 3, csatAnswers: 3 });

    const rebuilt = await Promise.all(paths.map(report));
    rebuilt.forEach((items, index) => expect({ path: paths[index], items }).toEqual({ path: paths[index], items: live[index] }));
  }, 20_000);
});

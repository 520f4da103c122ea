import { randomBytes, randomInt } from 'node:crypto';
import { runRebuild } from '../../scripts/rebuild-rollups';
import type { Interaction } from '../../src/interactions';
import { localDay } from '../../src/reports/intervals';
import { parseQueuesConfig } from '../../src/routing';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';
import { eventually, testQueues } from '../integration/routing-support';

/*
 * A conversation stored in several parts (see interactions/interaction-parts.ts) is one contact to
 * the reports: the agent's accept may sit in an earlier part than the completion, and must still be
 * counted handled once, with the talk time between them, live and when rebuilt from the raw log.
 * Small caps: 5 entries a part, so a handful of texts rolls a conversation over.
 */

/** A zone where it is about noon now, so the scripted day never crosses local midnight. */
function zoneNearNoon(now = new Date()): string {
  const offset = Math.max(-12, Math.min(14, 12 - now.getUTCHours()));
  return offset === 0 ? 'Etc/GMT' : offset > 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}

const ourNumber = '+862150000000';
const messageSid = () => `SM${randomBytes(16).toString('hex')}`;
const newMobile = () => `+86137${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
const eventAt = (contact: Interaction, event: string) => Date.parse(contact.entries!.find((entry) => entry.data?.event === event)!.at);

interface RawPart { _id: string; conversationId?: string; continuesFrom?: string; entries: { data?: { event?: string } }[] }

describe('reports over a conversation that rolled over into several parts', () => {
  const zone = zoneNearNoon();
  const queuesConfig = testQueues();
  let env: ChannelTestApp;
  let agent: TestUser;
  let supervisor: TestUser;
  let today: string;
  const contacts: Interaction[] = [];

  beforeAll(async () => {
    env = await startChannelTestApp({ REPORTS_TIME_ZONE: zone, CSAT_ENABLED: '0', INTERACTION_MAX_ENTRIES: 5 }, { routing: { queuesConfig } });
    [agent, supervisor] = [await createUserAndLogin(env.app, 'agent'), await createUserAndLogin(env.app, 'supervisor')];
    today = localDay(new Date(), zone);
  });
  afterAll(async () => {
    await env?.destroy();
  });

  const api = async (user: TestUser, method: string, path: string, body?: unknown) => {
    const response = await request(env.app, method, path, { token: user.token, body });
    if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const text = async (from: string, body: string, sid = messageSid()) =>
    expect((await env.webhook('/webhooks/twilio/sms', { MessageSid: sid, AccountSid: env.twilio.accountSid, From: from, To: ourNumber, Body: body, NumMedia: '0' })).status).toBe(200);
  const report = async (path: string) => (await api(supervisor, 'GET', path)).items as Array<Record<string, any>>;
  const dayRange = () => `from=${today}&to=${today}`;
  const rawParts = (conversationId: string) =>
    env.app.mongo.collection('interactions').find({ $or: [{ _id: conversationId as never }, { conversationId }] }).toArray() as unknown as Promise<RawPart[]>;

  /** A customer texts in, the agent accepts, the customer writes `moreTexts` more, the agent completes (wrap-up 0). */
  async function smsContact(moreTexts: number): Promise<Interaction> {
    const from = newMobile();
    const sid = messageSid();
    await text(from, 'My wiper is broken', sid);
    const interactionId = (await env.app.services.interactions.findByExternalId(`twilio-sms:${sid}`))!.interactionId;
    const offer = await eventually('the offer', async () => ((await api(agent, 'GET', '/api/routing/me')).offers as Array<{ id: string; interactionId: string }>).find((item) => item.interactionId === interactionId));
    await api(agent, 'POST', `/api/routing/reservations/${offer.id}/accept`);
    for (let index = 0; index < moreTexts; index += 1) await text(from, `And the washer pump too (${index})`);
    // Talk time worth measuring.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await api(agent, 'POST', `/api/routing/work/${interactionId}/complete`, { disposition: 'solved' });
    return eventually('the text wrapped up', async () => {
      const contact = await env.app.services.interactions.getInteraction(interactionId);
      return contact.status === 'closed' && contact.entries!.some((entry) => entry.data?.event === 'wrap_up_ended') && contact;
    });
  }

  it('when a conversation is accepted, rolls over and is then completed, then it is counted handled once with its talk time, as one that never rolled over', async () => {
    await api(agent, 'PUT', '/api/routing/me/state', { state: 'available' });
    contacts.push(await smsContact(0));
    contacts.push(await smsContact(8));

    // The short one is one document; the long one's accept and completion sit in different parts.
    expect(await rawParts(contacts[0].id)).toHaveLength(1);
    const parts = await rawParts(contacts[1].id);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    const partWith = (event: string) => parts.find((part) => part.entries.some((entry) => entry.data?.event === event))!;
    expect(partWith('accepted')._id).not.toBe(partWith('work_completed')._id);
    expect(partWith('accepted').continuesFrom).toBeUndefined();

    // The customer's timeline still previews the last text, though the newest part holds none.
    const newest = parts.find((part) => !parts.some((other) => other.continuesFrom === part._id))!;
    expect(newest.entries.some((entry) => !entry.data?.event)).toBe(false);
    const { items } = await env.app.services.interactions.getTimeline(contacts[1].customerId, { limit: 5 });
    expect(items.find((item) => item.id === contacts[1].id)).toMatchObject({ entryCount: contacts[1].entries!.length, preview: 'And the washer pump too (7)' });

    const talkMs = contacts.reduce((sum, contact) => sum + (eventAt(contact, 'work_completed') - eventAt(contact, 'accepted')), 0);
    await eventually('both contacts counted', async () => ((await report(`/api/reports/agents?${dayRange()}&interval=day`)).find((row) => row.agentId === agent.id)?.handled ?? 0) >= 2);
    const [smsQueue] = await report(`/api/reports/queues?${dayRange()}&interval=day&queue=sms`);
    expect(smsQueue).toMatchObject({ queue: 'sms', offered: 2, answered: 2, handled: 2, overflowed: 0, transferred: 0, fcrContacts: 2 });
    const row = (await report(`/api/reports/agents?${dayRange()}&interval=day`)).find((item) => item.agentId === agent.id)!;
    expect(row).toMatchObject({ answered: 2, handled: 2, transferred: 0, fcrContacts: 2, talkSeconds: Math.round(talkMs / 100) / 10 });

    // A change told again (a retried event) counts nothing twice.
    await env.app.reports.onInteractionChange({ interaction: contacts[1], created: false });
    await env.app.reports.settle();
    expect((await report(`/api/reports/agents?${dayRange()}&interval=day`)).find((item) => item.agentId === agent.id)).toEqual(row);
  }, 45_000);

  it('when the rollups are dropped and rebuilt from the raw log, then the reports are the same as live and each conversation is read once', async () => {
    const paths = [
      `/api/reports/queues?${dayRange()}&interval=day`,
      `/api/reports/agents?${dayRange()}&interval=hour`,
      `/api/reports/channels?${dayRange()}&interval=day`,
      `/api/reports/scorecards/agents?${dayRange()}`,
    ];
    const live = await Promise.all(paths.map(report));
    expect(live.every((items) => items.length > 0)).toBe(true);

    await env.app.mongo.collection('report_rollups').deleteMany({});
    expect(await report(paths[0])).toEqual([]);
    const result = await runRebuild({ config: env.app.config, fromDay: today, toDay: today, queuesConfig: parseQueuesConfig(queuesConfig), out: () => undefined });
    expect(result).toMatchObject({ interactions: 2 });

    const rebuilt = await Promise.all(paths.map(report));
    rebuilt.forEach((items, index) => expect({ path: paths[index], items }).toEqual({ path: paths[index], items: live[index] }));

    // Marks were kept: the next change of the long conversation does not count it again.
    await env.app.reports.onInteractionChange({ interaction: await env.app.services.interactions.getInteraction(contacts[1].id), created: false });
    await env.app.reports.settle();
    expect(await report(paths[0])).toEqual(live[0]);
  }, 30_000);
});

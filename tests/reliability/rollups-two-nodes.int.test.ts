import { randomBytes } from 'node:crypto';
import type { EmailChannel } from '../../src/channels/email';
import { contactFacts, type ContactRules } from '../../src/reports/contact-facts';
import { localDay } from '../../src/reports/intervals';
import { DeskBot, startCluster, type Cluster } from '../support/multiprocess';
import { sendEmail } from '../support/email';
import { createUserAndLogin, request, type TestApp, type TestUser } from '../support/test-app';
import { eventually, testQueues } from '../integration/routing-support';

/**
 * Report rollups written by two Switchboard nodes at once. Each node counts the contacts its own
 * listeners see and adds them to the same buckets (the same queue, channel and agents, the same
 * quarter and day) with single-document `$inc` upserts and no lock. Stock FerretDB 1.24 lost
 * concurrent `$inc`s (tests/integration/store-guarantees.int.test.ts); this proves that the live
 * rollups, after both nodes counted, equal a rebuild of the same day from the raw log.
 */
const callsPerNode = 20;
const textsPerNode = 20;
const emailsPerNode = 8;
const agentsPerNode = 6;
const contacts = 2 * (callsPerNode + textsPerNode + emailsPerNode);

describe('report rollups written by two nodes at once', () => {
  let cluster: Cluster;
  let supervisor: TestUser;
  const bots: DeskBot[] = [];
  const queues = testQueues({ reservationTimeoutSeconds: 5, wrapUpSeconds: 0 });

  beforeAll(async () => {
    cluster = await startCluster(2, { routing: { queuesConfig: queues } });
    const node0: TestApp = { ...cluster.nodes[0].app, url: cluster.nodes[0].url, destroy: async () => undefined };
    supervisor = await createUserAndLogin(node0, 'supervisor');
    const users = await Promise.all(Array.from({ length: agentsPerNode * 2 }, () => cluster.createAgent()));
    bots.push(...(await Promise.all(users.map((user, index) => DeskBot.connect(user, cluster.nodes[index % 2].url, index % 2, 10)))));
  }, 30_000);

  afterAll(async () => {
    for (const bot of bots) bot.close();
    await cluster?.destroy();
  });

  const rules = (): ContactRules => ({
    thresholdSeconds: (queue) => queues.queues.find((item) => item.name === queue)?.serviceLevelSeconds,
    channelQueue: (channel) => (queues.channelQueues as Record<string, string | undefined>)[channel],
    shortAbandonSeconds: cluster.config.REPORTS_SHORT_ABANDON_SECONDS,
  });

  /** Every report a supervisor reads for these days, per quarter and per day, as JSON. */
  const reports = async (days: string[]) => {
    const node = { url: cluster.nodes[1].url };
    const read: Record<string, unknown> = {};
    for (const path of ['queues', 'channels', 'agents']) {
      for (const interval of ['15m', 'day']) {
        const response = await request(node, 'GET', `/api/reports/${path}?from=${days[0]}&to=${days.at(-1)}&interval=${interval}`, { token: supervisor.token });
        expect(response.status).toBe(200);
        read[`${path}/${interval}`] = response.body.items;
      }
    }
    return read;
  };

  const total = (items: unknown, key: string, field: string) =>
    (items as Array<Record<string, unknown>>).filter((row) => row.channel === key || row.queue === key).reduce((sum, row) => sum + Number(row[field] ?? 0), 0);

  it('when both nodes count the same buckets at once, then no count is lost: the live rollups equal a rebuild from the raw log', async () => {
    const firstDay = localDay(new Date(), cluster.config.REPORTS_TIME_ZONE);
    const sms = (node: number) =>
      cluster.webhook(node, '/webhooks/twilio/sms', {
        MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: cluster.twilio.accountSid,
        From: `+86138${String(randomBytes(4).readUInt32BE() % 100_000_000).padStart(8, '0')}`, To: '+862150000000', Body: 'hello', NumMedia: '0',
      });
    const email = async (node: number) => {
      const port = (cluster.nodes[node].app.channels.find((channel) => channel.name === 'email') as EmailChannel).smtpPort()!;
      const outcome = await sendEmail(port, { from: `customer-${randomBytes(5).toString('hex')}@example.net`, to: cluster.config.SUPPORT_EMAIL, subject: 'My car', text: 'It makes a noise.' });
      return { status: outcome.accepted ? 200 : (outcome.responseCode ?? 0), text: '' };
    };
    // Every contact at once, half through each node: both nodes' counters write the same buckets in the same batches' time.
    const answers = await Promise.all([
      // Emails in 4 lanes per node: the listener admits SMTP_MAX_CONNECTIONS_PER_IP (20) connections from one address across nodes.
      ...Array.from({ length: 8 }, async (_, lane) => {
        const outcomes = [];
        for (let index = lane; index < emailsPerNode * 2; index += 8) outcomes.push(await email(index % 2));
        return outcomes;
      }),
      ...Array.from({ length: callsPerNode * 2 }, (_, index) => cluster.webhook(index % 2, '/webhooks/twilio/voice', cluster.newCall())),
      ...Array.from({ length: textsPerNode * 2 }, (_, index) => sms(index % 2)),
    ]);
    expect(answers.flat().filter((answer) => answer.status !== 200)).toEqual([]);

    // Done when every contact's log says it was answered and its handling (wrap-up included) ended.
    const app = cluster.nodes[0].app;
    // Polled every 250 ms, each contact until it is done: the poll must not load the nodes it waits for.
    const handled = new Set<string>();
    await eventually('every contact handled', async () => {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const ids = (await app.mongo.collection('interactions').find({ direction: 'inbound' }, { projection: { _id: 1 } }).toArray()).map((doc) => String(doc._id));
      for (const id of ids.filter((item) => !handled.has(item))) {
        const interaction = await app.services.interactions.getInteraction(id);
        if (contactFacts(interaction, rules()).facts.some((fact) => fact.key.startsWith('handled:'))) handled.add(id);
      }
      return ids.length === contacts && handled.size === contacts;
    }, 60_000);
    await Promise.all(bots.map((bot) => bot.settle()));
    // Both nodes' batches written (a node's report read settles only its own listeners).
    await Promise.all(cluster.nodes.map((node) => node.app.reports.settle()));
    await Promise.all(cluster.nodes.map((node) => node.app.reports.settle()));

    const lastDay = localDay(new Date(), cluster.config.REPORTS_TIME_ZONE);
    const days = firstDay === lastDay ? [firstDay] : [firstDay, lastDay];
    const live = await reports(days);
    // The absolute truth first: every contact offered, answered and handled once.
    for (const [channel, count] of [['voice', callsPerNode * 2], ['sms', textsPerNode * 2], ['email', emailsPerNode * 2]] as const) {
      for (const field of ['offered', 'answered', 'handled']) expect({ channel, field, count: total(live['channels/day'], channel, field) }).toEqual({ channel, field, count });
      expect(total(live['channels/15m'], channel, 'offered')).toBe(count);
    }
    // Both nodes did count: each node's listeners saw the contacts that came through it.
    for (const node of [0, 1]) expect(bots.filter((bot) => bot.node === node).reduce((sum, bot) => sum + bot.assigned.length, 0)).toBeGreaterThan(0);

    const rebuilt = await app.reports.rebuild.rebuild({ fromDay: days[0], toDay: days.at(-1)! });
    expect(rebuilt.interactions).toBeGreaterThanOrEqual(contacts);
    expect(await reports(days)).toEqual(live);
  }, 90_000);
});

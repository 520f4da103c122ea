import { randomBytes, randomInt } from 'node:crypto';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { sendEmail, startSmtpSink, type SmtpSink } from '../support/email';
import { createUserAndLogin, type TestUser } from '../support/test-app';
import type { EmailChannel } from '../../src/channels/email';
import type { RoutingEvent } from '../../src/routing';
import { createSurveys, type CsatAnswer } from '../../src/surveys';
import { smsSurveyText, smsThanksText } from '../../src/surveys/survey.service';
import { eventually, testQueues } from './routing-support';

const messageSid = () => `SM${randomBytes(16).toString('hex')}`;
const newMobile = () => `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
const ourNumber = '+862150000000';

describe('CSAT surveys after a completed contact', () => {
  let channel: ChannelTestApp;
  let sink: SmtpSink;
  let agent: TestUser;
  const answers: CsatAnswer[] = [];
  const events: RoutingEvent[] = [];

  beforeAll(async () => {
    sink = await startSmtpSink();
    channel = await startChannelTestApp(
      { CSAT_DELAY: '200ms', CSAT_QUIET_HOURS: 'off', SMTP_OUT_URL: sink.url, SUPPORT_EMAIL: 'support@switchboard.test' },
      { routing: { queuesConfig: testQueues() }, onCsatAnswer: (answer) => void answers.push(answer) },
    );
    channel.app.routing!.onEvent((event) => void events.push(event));
    agent = await createUserAndLogin(channel.app, 'agent');
    await channel.app.routing!.desk.setAgentState(agent.id, 'available');
  });
  afterAll(async () => {
    await channel.destroy();
    await sink.close();
  });

  const text = (from: string, body: string, sid = messageSid()) =>
    channel.webhook('/webhooks/twilio/sms', { MessageSid: sid, AccountSid: channel.twilio.accountSid, From: from, To: ourNumber, Body: body, NumMedia: '0' });

  const interactionOfSms = async (sid: string) => {
    const found = await channel.app.services.interactions.findByExternalId(`twilio-sms:${sid}`);
    if (!found) throw new Error(`nothing recorded for ${sid}`);
    return found.interactionId;
  };

  /** What an agent does on the desk: accept the offer, then complete the work (wrap-up 0). */
  const handleByAgent = async (interactionId: string) => {
    const offer = await eventually('the offer', () =>
      events.find((event): event is Extract<RoutingEvent, { type: 'offer' }> => event.type === 'offer' && event.reservation.interactionId === interactionId),
    );
    await channel.app.routing!.desk.accept(agent.id, offer.reservation.id);
    await channel.app.routing!.desk.completeWork(agent.id, interactionId, { disposition: 'solved' });
  };

  const survey = (interactionId: string) => channel.app.mongo.collection('csat_surveys').findOne({ _id: interactionId as never });
  const surveysTo = (to: string) => channel.twilio.messages.filter((message) => message.to === to && message.body === smsSurveyText);

  it('when an agent completes an SMS conversation, then one survey text goes out, and a reply "5" is recorded on it, not queued', async () => {
    const from = newMobile();
    const firstSid = messageSid();
    await text(from, 'My wiper is broken', firstSid);
    const interactionId = await interactionOfSms(firstSid);
    await handleByAgent(interactionId);

    await eventually('the survey text', () => surveysTo(from).length > 0);
    // The same completion told again (a retried listener, a late status change): still one survey.
    await channel.app.services.interactions.updateInteraction(interactionId, { status: 'closed' });
    await channel.app.services.interactions.updateInteraction(interactionId, { status: 'closed' });
    await new Promise((resolve) => setTimeout(resolve, 600)); // three survey delays: a second one would have gone out by now
    expect(surveysTo(from)).toHaveLength(1);
    expect(await survey(interactionId)).toMatchObject({ status: 'pending', channel: 'sms', agentId: agent.id });

    const replySid = messageSid();
    const offersBefore = events.filter((event) => event.type === 'offer').length;
    const reply = await text(from, ' 5! ', replySid);
    expect(reply.status).toBe(200);
    expect(reply.text).toContain(smsThanksText);
    expect(await interactionOfSms(replySid)).toBe(interactionId);
    const interaction = await channel.app.services.interactions.getInteraction(interactionId);
    expect(interaction.status).toBe('closed');
    expect(interaction.entries?.find((entry) => entry.data?.event === 'csat_answered')).toMatchObject({ kind: 'system', text: 'Customer satisfaction: 5/5', data: { score: 5, via: 'sms' } });
    expect(await survey(interactionId)).toMatchObject({ status: 'answered', score: 5, answeredVia: 'sms' });
    expect(answers.filter((answer) => answer.interactionId === interactionId)).toEqual([
      expect.objectContaining({ interactionId, channel: 'sms', agentId: agent.id, score: 5 }),
    ]);

    // Twilio retrying the same webhook changes nothing.
    await text(from, ' 5! ', replySid);
    expect(answers.filter((answer) => answer.interactionId === interactionId)).toHaveLength(1);

    // A second answer is not claimed: it is an ordinary text, in a new conversation queued for an agent.
    const secondSid = messageSid();
    const second = await text(from, '2', secondSid);
    expect(second.text).not.toContain(smsThanksText);
    const secondInteraction = await interactionOfSms(secondSid);
    expect(secondInteraction).not.toBe(interactionId);
    await eventually('the second text offered to the agent', () => events.filter((event) => event.type === 'offer').length > offersBefore);
    expect(await survey(interactionId)).toMatchObject({ status: 'answered', score: 5 });
    expect(answers.filter((answer) => answer.interactionId === interactionId)).toHaveLength(1);
    await handleByAgent(secondInteraction);
  });

  it('when a survey was created but its send was never queued (a node died in between), then the next completion change queues it, at the due time first set', async () => {
    const from = newMobile();
    const sid = messageSid();
    await text(from, 'My horn is quiet', sid);
    const interactionId = await interactionOfSms(sid);
    const customerId = (await channel.app.services.interactions.getInteraction(interactionId)).customerId;
    // Later than a fresh survey's (CSAT_DELAY 200ms), so the send time tells which one was used.
    const dueAt = new Date(Date.now() + 1_500);
    const createdAt = new Date(Date.now() - 1_000);
    await channel.app.mongo.collection('csat_surveys').insertOne({ _id: interactionId as never, customerId, channel: 'sms', contactChannel: 'sms', status: 'scheduled', dueAt, createdAt });
    await handleByAgent(interactionId);
    await eventually('the survey text', () => surveysTo(from).length > 0, 5_000);
    expect(await survey(interactionId)).toMatchObject({ status: 'pending', dueAt, createdAt });
    expect(new Date((await survey(interactionId))!.sentAt).getTime()).toBeGreaterThanOrEqual(dueAt.getTime());
    expect(surveysTo(from)).toHaveLength(1);
  });

  it('when the customer opted out of SMS, then no survey text goes out and the survey is recorded as skipped', async () => {
    const from = newMobile();
    const sid = messageSid();
    await text(from, 'Question about my invoice', sid);
    const interactionId = await interactionOfSms(sid);
    await text(from, 'STOP');
    await handleByAgent(interactionId);
    const skipped = await eventually('the skipped survey', async () => {
      const found = await survey(interactionId);
      return found?.status === 'skipped' && found;
    });
    expect(skipped).toMatchObject({ skipReason: 'opted_out' });
    expect(surveysTo(from)).toHaveLength(0);
  });

  it('when an agent completes an email contact, then the survey email has a link per score; opening one shows it and confirming records it', async () => {
    const address = `csat-${randomBytes(4).toString('hex')}@example.net`;
    const port = (channel.app.channels.find((candidate) => candidate.name === 'email') as EmailChannel).smtpPort()!;
    const sent = await sendEmail(port, { from: address, to: 'support@switchboard.test', subject: 'Brake noise', text: 'My brakes squeal.' });
    expect(sent.accepted).toBe(true);
    const customer = await eventually('the email customer', () => channel.app.services.customers.findByIdentity({ email: address }));
    const { items } = await eventually('the email interaction', async () => {
      const page = await channel.app.services.interactions.getTimeline(customer!.id, { limit: 5, channel: 'email' });
      return page.items.length > 0 && page;
    });
    const interactionId = items[0].id;
    await handleByAgent(interactionId);

    const mail = await sink.waitFor((message) => message.envelope.rcptTo.includes(address) && (message.parsed.subject ?? '').startsWith('How did we do?'), 10_000);
    const links = [...(mail.parsed.text ?? '').matchAll(/(http:\/\/\S+\/csat\/\S+\?score=(\d))/g)].map((match) => ({ url: match[1], score: Number(match[2]) }));
    expect(links.map((link) => link.score)).toEqual([1, 2, 3, 4, 5]);
    expect(mail.parsed.html).toContain(links[3].url);

    const forged = links[3].url.replace(/\.([A-Za-z0-9_-]+)\?/, (_all, signature: string) => `.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}?`);
    const forgedResponse = await fetch(forged);
    expect(forgedResponse.status).toBe(404);
    expect(forgedResponse.headers.get('content-type')).toMatch(/text\/html/);
    expect(await forgedResponse.text()).toContain('not valid');
    expect((await fetch(links[3].url.replace('score=4', 'score=9'))).status).toBe(400);
    expect(await survey(interactionId)).toMatchObject({ status: 'pending', channel: 'email' });

    // Opening the link shows the choice; the confirm form's POST records it (mail scanners only GET).
    const opened = await fetch(links[3].url);
    expect(opened.status).toBe(200);
    expect(await opened.text()).toContain('4 of 5');
    expect(await survey(interactionId)).toMatchObject({ status: 'pending' });
    const confirm = (url: string, score: number) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `score=${score}` });
    const response = await confirm(links[3].url, 4);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(await response.text()).toContain('Thank you');
    expect(await survey(interactionId)).toMatchObject({ status: 'answered', score: 4, answeredVia: 'link' });
    const interaction = await channel.app.services.interactions.getInteraction(interactionId);
    expect(interaction.entries?.find((entry) => entry.data?.event === 'csat_answered')).toMatchObject({ data: { score: 4, via: 'link' } });
    expect(answers.filter((answer) => answer.interactionId === interactionId)).toEqual([expect.objectContaining({ channel: 'email', agentId: agent.id, score: 4 })]);

    // A second click (another score, or a mail scanner) keeps the first answer.
    const again = await confirm(links[0].url, 1);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('already have your rating');
    expect(await survey(interactionId)).toMatchObject({ score: 4 });
    expect(answers.filter((answer) => answer.interactionId === interactionId)).toHaveLength(1);
  });

  // Last: the second listener stays registered for the rest of the app's life.
  it('when a second node is told the same completion changes, then the survey is created once, keeps its first due time, and one text goes out', async () => {
    const { app } = channel;
    createSurveys({ config: app.config, log: app.log, mongo: app.mongo, redis: app.redis, queues: app.queues, interactions: app.services.interactions, channels: app.channels, linkSecret: app.config.AUTH_TOKEN_SECRET!, onAnswer: async () => undefined });
    const from = newMobile();
    const sid = messageSid();
    await text(from, 'The seat heater is stuck', sid);
    const interactionId = await interactionOfSms(sid);
    await handleByAgent(interactionId);
    const created = await eventually('the survey', async () => (await survey(interactionId)) ?? undefined);
    await channel.app.services.interactions.updateInteraction(interactionId, { status: 'closed' });
    await eventually('the survey text', () => surveysTo(from).length > 0);
    await channel.app.services.interactions.updateInteraction(interactionId, { status: 'closed' });
    await new Promise((resolve) => setTimeout(resolve, 600)); // three survey delays: a second one would have gone out by now
    expect(surveysTo(from)).toHaveLength(1);
    expect(await survey(interactionId)).toMatchObject({ status: 'pending', dueAt: created.dueAt, createdAt: created.createdAt });
  });
});

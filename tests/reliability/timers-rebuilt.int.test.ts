import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import type { Queue } from 'bullmq';
import { standinCredentials, startTwilioStandin, type TwilioStandin } from '../../scripts/standins/twilio-standin';
import { startSmtpSink, type SmtpSink } from '../../scripts/standins/smtp-sink';
import type { EmailChannel } from '../../src/channels/email';
import { EmailSendRepository } from '../../src/channels/email/email-send.repository';
import { outboundEmailQueueName } from '../../src/channels/email/outbound-email.jobs';
import type { SmsChannel } from '../../src/channels/sms';
import { smsOutboundQueue } from '../../src/channels/sms/sms.jobs';
import { SmsRepository } from '../../src/channels/sms/sms.repository';
import { webhookDeliveryQueue } from '../../src/integrations/webhook.jobs';
import type { Principal } from '../../src/platform/http/principal';
import { csatQueue } from '../../src/surveys/survey.jobs';
import { surveyPendingKey, smsSurveyText } from '../../src/surveys/survey.service';
import type { BusinessHours, TaskHistoryEntry } from '../../src/tasks';
import { taskSlaQueue } from '../../src/tasks';
import { taskNotifyQueue } from '../../src/tasks/task-notifications.jobs';
import { slaJobId } from '../../src/tasks/task-sla';
import { freePort, startPrivateRedis, type PrivateStore } from '../support/private-stores';
import { createUserAndLogin, request, startTestApp, uniqueName, type TestApp } from '../support/test-app';
import { eventuallyThroughOutages } from '../support/edge-fixtures';

/*
 * Issue 13: every BullMQ job lives only in Redis. Here Redis is a private one without persistence;
 * it is SIGKILLed and started again empty, as a crash or a failover to an empty replica would leave
 * it. The due work is created through the services while only an `api` node runs (no worker takes
 * the jobs), then the repairs run, and a `worker` node started afterwards must fire what they put
 * back: once, however many nodes repaired.
 */
const slaScale = 0.05; // a 2-minute SLA: warning job after 4.5 s, breach after 6 s
const allDay = [{ start: '00:00', end: '24:00' }];
const alwaysOpen: BusinessHours = { weekly: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay }, holidays: [] };
const ourNumber = '+862150000000';
const newMobile = () => `+86137${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;

const eventually = <T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 15_000) => eventuallyThroughOutages(probe, what, timeoutMs, 50);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A webhook receiver that keeps what it got; answers 200 unless `refuse` names the delivery (then 503). */
async function startReceiver() {
  const received: Array<{ deliveryId: string; body: any; status: number }> = [];
  const refuse = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const deliveryId = String(req.headers['x-switchboard-delivery'] ?? '');
      const status = refuse.has(deliveryId) ? 503 : 200;
      received.push({ deliveryId, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), status });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    refuse,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('timers and pending sends are rebuilt from MongoDB after Redis is lost', () => {
  let redis: PrivateStore;
  let twilio: TwilioStandin;
  let sink: SmtpSink;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let api: TestApp;
  let settings: Record<string, string | number>;
  let agent: Principal;
  const workers: TestApp[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const credentials = standinCredentials();
    twilio = await startTwilioStandin({ ...credentials, callbackDelayMs: 5 });
    sink = await startSmtpSink();
    receiver = await startReceiver();
    const port = await freePort();
    settings = {
      REDIS_URL: redis.url,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      TWILIO_ACCOUNT_SID: credentials.accountSid,
      TWILIO_AUTH_TOKEN: credentials.authToken,
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_NUMBERS: ourNumber,
      SMTP_OUT_URL: sink.url,
      SUPPORT_EMAIL: 'support@switchboard.test',
      SLA_TIME_SCALE: slaScale,
      CSAT_DELAY: '3s',
      CSAT_QUIET_HOURS: 'off',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      // Long enough for a retry to be pending while Redis is lost.
      WEBHOOK_RETRY_DELAY: '4s',
      WEBHOOK_ATTEMPTS: 5,
    };
    api = await startTestApp({ ...settings, PORT: port, ROLES: 'api' }, { routing: false });
    // These tests run the repairs by hand and count what each put back: the node's own reconciler
    // (which would run them within seconds of the reset) is stopped. Its triggers have their own tests.
    await api.reconciler.stop();
    // Every node of this test shares the api node's database and key prefix.
    settings = { ...settings, MONGODB_URI: api.config.MONGODB_URI, REDIS_KEY_PREFIX: api.config.REDIS_KEY_PREFIX };
    const agentUser = await api.services.auth.createUser({ email: `${uniqueName('agent')}@test.local`, password: randomBytes(12).toString('hex'), role: 'agent', name: 'Agent' });
    agent = { kind: 'user', id: agentUser.id, role: 'agent', name: 'Agent' };
  }, 60_000);

  afterEach(async () => {
    while (workers.length) await workers.pop()!.close();
  });

  afterAll(async () => {
    await api?.destroy();
    await Promise.all([twilio?.close(), sink?.close(), receiver?.close()]);
    await redis?.destroy();
  });

  /** A node that runs the workers (and nothing else), started after Redis came back. */
  const startWorkerNode = async () => {
    const node = await startTestApp({ ...settings, ROLES: 'worker' }, { routing: false });
    await node.reconciler.stop();
    workers.push(node);
    return node;
  };
  const queueOf = <T>(app: TestApp, name: string) => app.queues.queue<T>(name) as Queue<T>;
  const loseRedis = async () => {
    await redis.kill('SIGKILL');
    await redis.start();
    await eventually(async () => (await api.redis.ping()) === 'PONG', 'redis back for the api node');
    // The producers' own connection (no offline queue) reconnects on its own schedule: wait for it too.
    await eventually(() => queueOf(api, taskSlaQueue).getJobCounts().then(() => true, () => false), 'redis back for the producers');
  };
  const runRepairs = async (...apps: TestApp[]) => {
    const counts = await Promise.all(apps.flatMap((app) => app.repairs.map(async (repair) => [repair.name, await repair.run()] as const)));
    const byName: Record<string, number> = {};
    for (const [name, count] of counts) byName[name] = (byName[name] ?? 0) + count;
    return byName;
  };
  const newCustomer = async () => {
    const mobile = newMobile();
    const email = `${uniqueName('customer')}@example.net`;
    const customer = await api.services.customers.createCustomer({ name: 'Li Wei', phones: [mobile], emails: [email] });
    return { id: customer.id, mobile, email };
  };
  const sms = () => api.channels.find((channel) => channel.name === 'sms') as SmsChannel;
  const email = () => api.channels.find((channel) => channel.name === 'email') as EmailChannel;
  const textsTo = (to: string) => twilio.messages.filter((message) => message.to === to);
  const mailsTo = (to: string) => sink.messages.filter((message) => message.envelope.rcptTo.includes(to));

  it('when the SLA jobs of an open task are lost, then the repair puts back the warning and the breach under their ids and delays, and both fire once', async () => {
    const department = await api.services.departments.create({ code: uniqueName('parts'), name: 'Parts', timezone: 'UTC', businessHours: alwaysOpen });
    await api.services.departments.update(department.id, {
      taskTypes: [{ code: 'quick', name: 'Quick question', slaMinutes: 2, defaultPriority: 'normal', fields: [], checklist: [], notifyCustomerOnCreate: false, templates: {} }],
    });
    const customer = await newCustomer();
    const task = await api.services.tasks.fileTask({ departmentId: department.id, typeCode: 'quick', title: 'Brake pads for a Tiggo 7', customerId: customer.id }, agent);
    const warnId = slaJobId('warn', task.id, task.dueAt);
    const breachId = slaJobId('breach', task.id, task.dueAt);
    const sla = queueOf(api, taskSlaQueue);
    await eventually(() => sla.getJob(breachId), 'the breach job set by filing');

    await loseRedis();
    expect(await sla.getJob(breachId)).toBeUndefined();
    const repaired = await runRepairs(api);

    expect(repaired['task-sla-timers']).toBeGreaterThanOrEqual(2);
    const [warn, breach] = await Promise.all([sla.getJob(warnId), sla.getJob(breachId)]);
    expect(warn?.data).toEqual({ step: 'warn', taskId: task.id, dueAt: task.dueAt });
    expect(breach?.data).toEqual({ step: 'breach', taskId: task.id, dueAt: task.dueAt });
    // The delay left, on the scaled clock: the breach 2 minutes after filing, the warning at 75 % of it.
    const filedAt = Date.parse(task.createdAt);
    const breachLeft = (Date.parse(task.dueAt) - Date.now()) * slaScale;
    expect(breach!.opts.delay).toBeGreaterThan(breachLeft - 1_500);
    expect(breach!.opts.delay).toBeLessThanOrEqual(breachLeft + 50);
    expect(warn!.opts.delay).toBeLessThanOrEqual((filedAt + 90_000 - Date.now()) * slaScale + 50);
    expect(warn!.opts.delay).toBeLessThan(breach!.opts.delay!);
    expect(await sla.getJobState(breachId)).toBe('delayed');

    await startWorkerNode();
    const history = await eventually(async () => {
      const entries = (await api.services.tasks.findTask(task.id))?.history ?? [];
      return entries.some((entry) => entry.action === 'sla_breached') ? entries : undefined;
    }, 'the breach recorded');
    const count = (action: TaskHistoryEntry['action']) => history.filter((entry) => entry.action === action).length;
    expect(count('sla_warned')).toBe(1);
    expect(count('sla_breached')).toBe(1);
    expect((await api.services.tasks.findTask(task.id))?.breachedAt).toBeDefined();
  }, 60_000);

  it('when queued SMS and email jobs are lost and two nodes repair at once, then each job is back once, and each message reaches the customer once', async () => {
    const customer = await newCustomer();
    const text = await sms().outbound.sendSms({ customerId: customer.id, text: 'Your car is ready', idempotencyKey: uniqueName('sms') });
    const mail = await email().sendEmail({ customerId: customer.id, subject: 'Your car', text: 'Your car is ready', idempotencyKey: uniqueName('mail') });
    expect(text.status).toBe('queued');
    await loseRedis();

    const second = await startWorkerNode();
    // Two nodes reconcile at the same moment (a reset seen by both).
    const repaired = await runRepairs(api, second);
    expect(repaired['sms-outbound']).toBeGreaterThanOrEqual(1);
    expect(repaired['email-outbound']).toBeGreaterThanOrEqual(1);
    expect((await queueOf(api, smsOutboundQueue).getJob(text.entryId))?.data).toEqual({ interactionId: text.interactionId, entryId: text.entryId });
    expect((await queueOf(api, outboundEmailQueueName).getJob(mail.entryId))?.data).toEqual({ interactionId: mail.interactionId, entryId: mail.entryId });

    await eventually(async () => textsTo(customer.mobile).length > 0, 'the text at the stand-in');
    await eventually(async () => mailsTo(customer.email).length > 0, 'the email at the sink');
    // Run again on both nodes after the sends: nothing is owed, nothing is added or sent again.
    const again = await runRepairs(api, second);
    expect(again['sms-outbound']).toBe(0);
    expect(again['email-outbound']).toBe(0);
    await pause(1_500);
    expect(textsTo(customer.mobile)).toHaveLength(1);
    expect(textsTo(customer.mobile)[0]).toMatchObject({ from: ourNumber, body: 'Your car is ready' });
    expect(mailsTo(customer.email)).toHaveLength(1);
    expect((await new SmsRepository(api.mongo).findSend(text.entryId))?.state).toBe('sent');
    expect((await new EmailSendRepository(api.mongo).find(mail.entryId))?.state).toBe('done');
  }, 60_000);

  it('when a text was caught in `sending` (the node died during the Twilio call), then the repair never resends blindly: a text Twilio took is adopted, a fresh attempt is left alone', async () => {
    const customer = await newCustomer();
    const body = `Parts arrived ${randomBytes(3).toString('hex')}`;
    const text = await sms().outbound.sendSms({ customerId: customer.id, text: body, idempotencyKey: uniqueName('sms') });
    // What the dead attempt left: Twilio has the message, our record says `sending` since 5 minutes ago.
    const created = await fetch(`${twilio.url}/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${twilio.accountSid}:${api.config.TWILIO_AUTH_TOKEN}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ To: customer.mobile, From: ourNumber, Body: body }).toString(),
    });
    expect(created.status).toBe(201);
    const sends = new SmsRepository(api.mongo);
    await sends.markSending(text.entryId, new Date(Date.now() - 5 * 60_000));
    // A second text whose attempt began just now: its worker may still be inside the Twilio call.
    const fresh = await sms().outbound.sendSms({ customerId: customer.id, text: `${body} (2)`, idempotencyKey: uniqueName('sms') });
    await sends.markSending(fresh.entryId, new Date());
    await loseRedis();

    const repaired = await runRepairs(api);
    expect(repaired['sms-outbound']).toBeGreaterThanOrEqual(1);
    expect(await queueOf(api, smsOutboundQueue).getJob(text.entryId)).toBeDefined();
    expect(await queueOf(api, smsOutboundQueue).getJob(fresh.entryId)).toBeUndefined();

    await startWorkerNode();
    const sent = await eventually(async () => {
      const send = await sends.findSend(text.entryId);
      return send?.state === 'sent' ? send : undefined;
    }, 'the text adopted');
    await pause(500);
    expect(textsTo(customer.mobile).filter((message) => message.body === body)).toHaveLength(1);
    expect(sent.sid).toBe(textsTo(customer.mobile).find((message) => message.body === body)!.sid);
    expect(textsTo(customer.mobile).filter((message) => message.body === `${body} (2)`)).toHaveLength(0);
    expect((await sends.findSend(fresh.entryId))?.state).toBe('sending');
  }, 60_000);

  it('when an email was caught in `sending`, then once the attempt is surely over it is sent again with the Message-ID fixed before the attempt; a fresh attempt is left alone', async () => {
    const customer = await newCustomer();
    const stale = await email().sendEmail({ customerId: customer.id, subject: 'Invoice', text: 'Your invoice', idempotencyKey: uniqueName('mail') });
    const fresh = await email().sendEmail({ customerId: customer.id, subject: 'Receipt', text: 'Your receipt', idempotencyKey: uniqueName('mail') });
    const sends = new EmailSendRepository(api.mongo);
    await sends.markSending(stale.entryId, new Date(Date.now() - 10 * 60_000));
    await sends.markSending(fresh.entryId, new Date());
    await loseRedis();

    await runRepairs(api);
    expect(await queueOf(api, outboundEmailQueueName).getJob(stale.entryId)).toBeDefined();
    expect(await queueOf(api, outboundEmailQueueName).getJob(fresh.entryId)).toBeUndefined();
    await startWorkerNode();
    const received = await eventually(async () => mailsTo(customer.email).find((message) => message.parsed.subject?.includes('Invoice')), 'the invoice email');
    const entry = (await api.services.interactions.getInteraction(stale.interactionId)).entries?.find((candidate) => candidate.id === stale.entryId);
    expect((entry?.data?.message as { messageId?: string } | undefined)?.messageId).toBe(received.parsed.messageId);
    await pause(500);
    expect(mailsTo(customer.email)).toHaveLength(1);
  }, 60_000);

  it('when a scheduled CSAT survey and then its expiry are lost, then the repair puts back the send, later the expiry and the reply key, and the survey goes out once', async () => {
    const customer = await newCustomer();
    const contact = await api.services.interactions.createInteraction({ customerId: customer.id, channel: 'sms', direction: 'inbound' });
    await api.services.interactions.updateInteraction(contact.id, { status: 'wrap_up', agentId: agent.id, answeredAt: new Date() });
    const csat = queueOf(api, csatQueue);
    await eventually(() => csat.getJob(`csat-${contact.id}`), 'the survey scheduled');
    await loseRedis();

    const repaired = await runRepairs(api);
    expect(repaired['csat-surveys']).toBeGreaterThanOrEqual(1);
    const send = await csat.getJob(`csat-${contact.id}`);
    expect(send?.data).toEqual({ kind: 'send', interactionId: contact.id });
    expect(send!.opts.delay).toBeGreaterThan(0);
    expect(send!.opts.delay).toBeLessThanOrEqual(3_000);

    const worker = await startWorkerNode();
    await eventually(async () => textsTo(customer.mobile).some((message) => message.body === smsSurveyText), 'the survey text', 20_000);
    const surveys = api.mongo.collection('csat_surveys');
    await eventually(async () => (await surveys.findOne({ _id: contact.id as never }))?.status === 'pending', 'the survey pending');
    await eventually(() => csat.getJob(`csat-expire-${contact.id}`), 'the expiry scheduled');
    await worker.close();
    workers.length = 0;

    await loseRedis();
    await runRepairs(api);
    const expiry = await csat.getJob(`csat-expire-${contact.id}`);
    expect(expiry?.data).toEqual({ kind: 'expire', interactionId: contact.id });
    expect(expiry!.opts.delay).toBeGreaterThan(2 * 24 * 3_600_000);
    expect(await api.redis.get(surveyPendingKey(api.config.REDIS_KEY_PREFIX, customer.id))).toBe(contact.id);
    expect(textsTo(customer.mobile).filter((message) => message.body === smsSurveyText)).toHaveLength(1);
  }, 60_000);

  it('when the webhook delivery and the customer notification of a new task are lost, then both are back under their ids and each arrives once', async () => {
    const admin = await createUserAndLogin(api, 'admin');
    const subscription = await request(api, 'POST', '/api/webhooks', { token: admin.token, body: { url: receiver.url, events: ['task.created'] } });
    expect(subscription.status).toBe(201);
    const department = await api.services.departments.create({ code: uniqueName('warranty'), name: 'Warranty', timezone: 'UTC', businessHours: alwaysOpen });
    await api.services.departments.update(department.id, {
      taskTypes: [{ code: 'claim', name: 'Warranty claim', slaMinutes: 600, defaultPriority: 'normal', fields: [], checklist: [], notifyCustomerOnCreate: true, templates: { created: 'We filed {reference}' } }],
    });
    const customer = await newCustomer();
    const task = await api.services.tasks.fileTask({ departmentId: department.id, typeCode: 'claim', title: 'Gearbox noise', customerId: customer.id }, agent);
    const deliveryId = `${subscription.body.subscription.id}-${task.id}-1-created`;
    const notifyId = `task-${task.id}-created-v1`;
    await eventually(() => queueOf(api, webhookDeliveryQueue).getJob(deliveryId), 'the delivery queued');
    await eventually(() => queueOf(api, taskNotifyQueue).getJob(notifyId), 'the notification queued');
    await loseRedis();

    const repaired = await runRepairs(api);
    expect(repaired['webhook-deliveries']).toBeGreaterThanOrEqual(1);
    expect(repaired['task-notifications']).toBeGreaterThanOrEqual(1);
    expect((await queueOf(api, webhookDeliveryQueue).getJob(deliveryId))?.data).toEqual({ deliveryId });
    expect((await queueOf(api, taskNotifyQueue).getJob(notifyId))?.data).toEqual({ taskId: task.id, kind: 'created', version: 1 });

    const second = await startWorkerNode();
    await eventually(async () => receiver.received.some((item) => item.deliveryId === deliveryId), 'the webhook delivered');
    await eventually(async () => textsTo(customer.mobile).some((message) => message.body?.includes(task.reference)), 'the customer told');
    await eventually(async () => (await api.services.tasks.findTask(task.id))?.history?.some((entry) => entry.action === 'customer_notified'), 'the notification recorded');
    const again = await runRepairs(api, second);
    expect(again['webhook-deliveries']).toBe(0);
    expect(again['task-notifications']).toBe(0);
    await pause(500);
    expect(receiver.received.filter((item) => item.deliveryId === deliveryId)).toHaveLength(1);
    expect(textsTo(customer.mobile).filter((message) => message.body?.includes(task.reference))).toHaveLength(1);
  }, 60_000);

  it('when a webhook delivery failed once and its retry is lost, then the retry comes back after the rest of its backoff with the tries left, and it is delivered', async () => {
    const admin = await createUserAndLogin(api, 'admin');
    const subscription = await request(api, 'POST', '/api/webhooks', { token: admin.token, body: { url: receiver.url, events: ['task.created'] } });
    const department = await api.services.departments.create({ code: uniqueName('dealer'), name: 'Dealer', timezone: 'UTC', businessHours: alwaysOpen });
    await api.services.departments.update(department.id, {
      taskTypes: [{ code: 'visit', name: 'Dealer visit', slaMinutes: 600, defaultPriority: 'normal', fields: [], checklist: [], notifyCustomerOnCreate: false, templates: {} }],
    });
    const customer = await newCustomer();
    const task = await api.services.tasks.fileTask({ departmentId: department.id, typeCode: 'visit', title: 'Book a visit', customerId: customer.id }, agent);
    const deliveryId = `${subscription.body.subscription.id}-${task.id}-1-created`;
    receiver.refuse.add(deliveryId);
    // One worker node makes the first try (refused with 503), then goes away before the retry.
    const first = await startWorkerNode();
    const log = async () => {
      const page = await request(api, 'GET', `/api/webhooks/${subscription.body.subscription.id}/deliveries`, { token: admin.token });
      return { body: (page.body.items as Array<{ id: string; state: string; attempts: Array<{ at: string }> }>).find((item) => item.id === deliveryId)! };
    };
    await eventually(async () => (await log()).body?.state === 'retrying', 'the first try recorded');
    await first.close();
    workers.length = 0;
    const failedAt = Date.parse((await log()).body.attempts[0].at);
    await loseRedis();

    receiver.refuse.delete(deliveryId);
    const repairedAt = Date.now();
    await runRepairs(api);
    const job = await queueOf(api, webhookDeliveryQueue).getJob(deliveryId);
    expect(job?.data).toEqual({ deliveryId });
    // The backoff after one failed try is the retry delay (4 s) from that try; four of five tries are left.
    expect(job!.opts.attempts).toBe(4);
    expect(job!.opts.delay).toBeGreaterThan(0);
    expect(job!.opts.delay).toBeLessThanOrEqual(failedAt + 4_000 - repairedAt);
    expect(job!.opts.backoff).toEqual({ type: 'exponential', delay: 8_000 });

    await startWorkerNode();
    await eventually(async () => (await log()).body?.state === 'delivered', 'the retry delivered', 20_000);
    const tries = receiver.received.filter((item) => item.deliveryId === deliveryId);
    expect(tries.map((item) => item.status)).toEqual([503, 200]);
  }, 60_000);
});

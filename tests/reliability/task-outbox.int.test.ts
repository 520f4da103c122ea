import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { startSwitchboard, type Switchboard } from '../../src/app';
import type { Principal } from '../../src/platform/http/principal';
import { createLogger } from '../../src/platform/logger';
import { taskSlaQueue, type Task, type TaskEvent, type TaskSlaJob } from '../../src/tasks';
import { slaJobId } from '../../src/tasks/task-sla';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { eventually } from '../support/email';
import { createUserAndLogin, request, testConfig, uniqueName } from '../support/test-app';

/*
 * Task events through the outbox: a change stores its intent (the history entry's id in the task's
 * `pendingEvents`) in the same write; a node that dies before its listeners ran leaves the intent,
 * and any node's dispatcher does the must-succeed work once (timers, customer notice, webhook).
 */

const ourNumber = '+862150000000';
const newMobile = () => `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;

/** A local webhook receiver that counts what it got. */
async function startReceiver() {
  const received: Array<{ delivery: string; body: { action: string; task: { id: string } } }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ delivery: String(req.headers['x-switchboard-delivery']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.statusCode = 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('task outbox: nothing a task change owes is lost or doubled', () => {
  let main: ChannelTestApp;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let departmentId: string;
  let agent: Principal;
  const extraNodes: Switchboard[] = [];

  /** Another app node on the same database, Redis prefix and Twilio stand-in (a second machine). */
  const startNode = async (overrides: Record<string, string>) => {
    const config = testConfig({
      MONGODB_URI: main.app.config.MONGODB_URI,
      REDIS_KEY_PREFIX: main.app.config.REDIS_KEY_PREFIX,
      TWILIO_ACCOUNT_SID: main.app.config.TWILIO_ACCOUNT_SID!,
      TWILIO_AUTH_TOKEN: main.app.config.TWILIO_AUTH_TOKEN!,
      TWILIO_API_BASE_URL: main.app.config.TWILIO_API_BASE_URL!,
      TWILIO_NUMBERS: '+862150000000,+862150000001',
      PUBLIC_BASE_URL: main.app.url,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      AUTH_TOKEN_SECRET: main.app.config.AUTH_TOKEN_SECRET!,
      ...overrides,
    });
    const node = await startSwitchboard(config, { log: createLogger(config.LOG_LEVEL), routing: false });
    extraNodes.push(node);
    return node;
  };

  /** A customer who texted in (so notices go back by SMS) and the interaction to file the task on. */
  const textingCustomer = async () => {
    const phone = newMobile();
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const response = await main.webhook('/webhooks/twilio/sms', { MessageSid: sid, AccountSid: main.twilio.accountSid, From: phone, To: ourNumber, Body: 'My brakes squeak', NumMedia: '0' });
    expect(response.status).toBe(200);
    const found = (await main.app.services.interactions.findByExternalId(`twilio-sms:${sid}`))!;
    const customer = (await main.app.services.customers.findByIdentity({ phone }))!;
    return { phone, customerId: customer.id, interactionId: found.interactionId };
  };

  /**
   * Files a task on `node` whose process "dies" right after the write: the task service's fan-out
   * never runs (as when the process is killed between the write and the publish).
   */
  const fileAndDie = async (node: Switchboard, customer: { customerId: string; interactionId: string }) => {
    const tasks = node.services.tasks as unknown as { publish(event: TaskEvent): Promise<void> };
    const died = jest.spyOn(tasks, 'publish').mockImplementationOnce(async () => undefined);
    try {
      return await node.services.tasks.fileTask({ departmentId, typeCode: 'claim', title: 'Brake noise', customerId: customer.customerId, interactionId: customer.interactionId }, agent);
    } finally {
      died.mockRestore();
    }
  };

  const smsAbout = (phone: string, task: Task) => main.twilio.messages.filter((message) => message.to === phone && message.body?.includes(task.reference));
  const hooksAbout = (task: Task) => receiver.received.filter((hook) => hook.body.task.id === task.id && hook.body.action === 'created');
  const notices = async (task: Task) => ((await main.app.services.tasks.findTask(task.id))!.history ?? []).filter((entry) => entry.action === 'customer_notified');
  const pendingOf = async (task: Task) => ((await main.app.mongo.collection('tasks').findOne({ _id: task.id as never }))?.pendingEvents ?? []) as string[];
  const slaJob = (task: Task) => main.app.queues.queue<TaskSlaJob>(taskSlaQueue).getJob(slaJobId('breach', task.id, task.dueAt));

  /** Once the first notice and webhook arrived, waits a little longer: a second copy would show by then. */
  const expectExactlyOnce = async (phone: string, task: Task, dispatch: () => Promise<unknown> = async () => undefined) => {
    await eventually(async () => smsAbout(phone, task).length > 0 && hooksAbout(task).length > 0, 15_000, 'notice and webhook');
    await eventually(async () => (await pendingOf(task)).length === 0, 15_000, 'outbox cleared');
    // The dispatcher's pointer to the task goes too, once nothing is owed (a dispatcher sees to it after the grace).
    await eventually(async () => {
      await dispatch();
      return (await main.app.mongo.collection('task_outbox').countDocuments({ _id: task.id as never })) === 0;
    }, 15_000, 'outbox pointer dropped');
    await pause(2_500);
    expect(smsAbout(phone, task)).toHaveLength(1);
    expect(hooksAbout(task).map((hook) => hook.body.action)).toEqual(['created']);
    expect(await notices(task)).toHaveLength(1);
    expect(await slaJob(task)).toBeTruthy();
    expect(await pendingOf(task)).toEqual([]);
  };

  beforeAll(async () => {
    // This node dispatches its outbox often, and takes an intent as lost after 1 s.
    main = await startChannelTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_DELAY: '100ms', TASK_OUTBOX_GRACE: '1s', TASK_OUTBOX_INTERVAL: '250ms' }, { routing: false });
    receiver = await startReceiver();
    const admin = await createUserAndLogin(main.app, 'admin');
    const subscribed = await request(main.app, 'POST', '/api/webhooks', { token: admin.token, body: { url: receiver.url, events: ['*'], description: 'ERP' } });
    expect(subscribed.status).toBe(201);
    const department = await main.app.services.departments.create({ code: uniqueName('warranty').replace(/_/g, '-').toLowerCase().slice(0, 30), name: 'Warranty claims', timezone: 'Asia/Shanghai' });
    departmentId = department.id;
    await main.app.services.departments.update(departmentId, {
      taskTypes: [{ code: 'claim', name: 'Warranty claim', slaMinutes: 480, defaultPriority: 'normal', fields: [], checklist: [], notifyCustomerOnCreate: true, templates: {} }],
    });
    const agentUser = await createUserAndLogin(main.app, 'agent');
    agent = { kind: 'user', id: agentUser.id, role: 'agent', name: 'Agent' };
  }, 60_000);

  afterAll(async () => {
    for (const node of extraNodes) await node.close().catch(() => undefined);
    await receiver?.close();
    await main?.destroy();
  });

  it('when a node dies between the write and the publish, then another node sends the notice and the webhook once and sets the SLA timer', async () => {
    const customer = await textingCustomer();
    // This node never dispatches on its own: it "dies" below.
    const doomed = await startNode({ TASK_OUTBOX_GRACE: '1h', TASK_OUTBOX_INTERVAL: '1h' });
    const task = await fileAndDie(doomed, customer);
    expect(await pendingOf(task)).toHaveLength(1);
    expect(await main.app.mongo.collection('task_outbox').findOne({ _id: task.id as never })).toBeTruthy();
    await doomed.close();
    await pause(300);
    expect(smsAbout(customer.phone, task)).toHaveLength(0);
    expect(hooksAbout(task)).toHaveLength(0);

    await expectExactlyOnce(customer.phone, task);
  }, 40_000);

  it('when every listener succeeds, then nothing stays owed the moment the change is answered: the outbox and its pointer are empty', async () => {
    const customer = await textingCustomer();
    const task = await main.app.services.tasks.fileTask({ departmentId, typeCode: 'claim', title: 'Brake noise', customerId: customer.customerId, interactionId: customer.interactionId }, agent);
    await eventually(async () => (await notices(task)).length === 1, 15_000, 'notice');
    const commented = await main.app.services.tasks.comment(task.id, agent, { text: 'Called the dealer', visibility: 'internal' });
    expect(commented.history!.at(-1)).toMatchObject({ action: 'commented', version: commented.version });
    expect(await pendingOf(task)).toEqual([]);
    expect(await main.app.mongo.collection('task_outbox').countDocuments({ _id: task.id as never })).toBe(0);
  }, 40_000);

  it('when a must-succeed listener fails the first time, then the dispatcher runs it again until it succeeds, once, and nothing else is sent twice', async () => {
    const customer = await textingCustomer();
    const calls: string[] = [];
    let watched: string | undefined;
    main.app.services.tasks.onEvent(async (event) => {
      if (event.task.customerId !== customer.customerId) return;
      watched = event.task.id;
      calls.push(event.action);
      if (calls.length === 1) throw new Error('ledger unavailable');
    }, 'must-succeed', 'test-ledger');
    const task = await main.app.services.tasks.fileTask({ departmentId, typeCode: 'claim', title: 'Brake noise', customerId: customer.customerId, interactionId: customer.interactionId }, agent);
    expect(watched).toBe(task.id);

    await eventually(async () => calls.filter((action) => action === 'created').length >= 2, 15_000, 'the listener retried');
    await expectExactlyOnce(customer.phone, task);
    // Succeeded on its second run; not run again after that (later entries are the notice's own event).
    expect(calls.filter((action) => action === 'created')).toHaveLength(2);
  }, 40_000);

  it('when two nodes replay the same outbox at once, then the receiver gets one webhook delivery and the customer one notice', async () => {
    // Only the two nodes below dispatch now.
    await main.app.taskOutbox.close();
    // The others' pointers are dropped by now: the two nodes find this test's task alone.
    await eventually(async () => (await main.app.mongo.collection('task_outbox').countDocuments({})) === 0, 15_000, 'no pointer left');
    const customer = await textingCustomer();
    const [first, second] = await Promise.all([
      startNode({ TASK_OUTBOX_GRACE: '1s', TASK_OUTBOX_INTERVAL: '1h' }),
      startNode({ TASK_OUTBOX_GRACE: '1s', TASK_OUTBOX_INTERVAL: '1h' }),
    ]);
    const task = await fileAndDie(first, customer);
    await pause(2_100);
    expect(await pendingOf(task)).toHaveLength(1);
    const [byFirst, bySecond] = await Promise.all([first.taskOutbox.run(), second.taskOutbox.run()]);
    // Usually both replayed it (each read the outbox before either cleared it); at least one did.
    expect(byFirst + bySecond).toBeGreaterThanOrEqual(1);
    // The lag /metrics reports: the owed event was at least the grace old when found.
    expect(Math.max(first.taskOutbox.stats().oldestAgeMs, second.taskOutbox.stats().oldestAgeMs)).toBeGreaterThanOrEqual(1_000);

    // The notice's own change is announced later; a dispatcher drops the pointer after its grace.
    await expectExactlyOnce(customer.phone, task, () => second.taskOutbox.run());
    const deliveries = new Set(hooksAbout(task).map((hook) => hook.delivery));
    expect(deliveries.size).toBe(1);
  }, 40_000);
});

import { randomBytes, randomInt } from 'node:crypto';
import type { Principal } from '../../src/platform/http/principal';
import type { Task } from '../../src/tasks';
import { eventually, sendEmail, startEmailTestApp, type EmailTestApp } from '../support/email';
import { uniqueName } from '../support/test-app';

const ourNumber = '+862150000000';
const newMobile = () => `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
const messageSid = () => `SM${randomBytes(16).toString('hex')}`;

describe('tasks: telling the customer and closing the loop with them', () => {
  let t: EmailTestApp;
  let departmentId: string;
  let agent: Principal;
  let staff: Principal;

  beforeAll(async () => {
    t = await startEmailTestApp();
    const { services } = t.app;
    const department = await services.departments.create({ code: uniqueName('warranty'), name: 'Warranty claims', timezone: 'Asia/Shanghai' });
    departmentId = department.id;
    await services.departments.update(departmentId, {
      taskTypes: [{ code: 'claim', name: 'Warranty claim', slaMinutes: 480, defaultPriority: 'normal', fields: [], checklist: [], notifyCustomerOnCreate: false, templates: {} }],
    });
    const agentUser = await services.auth.createUser({ email: `${uniqueName('agent')}@test.local`, password: randomBytes(12).toString('hex'), role: 'agent', name: 'Agent' });
    const staffUser = await services.auth.createUser({ email: `${uniqueName('dept')}@test.local`, password: randomBytes(12).toString('hex'), role: 'department', name: 'Warranty clerk', departmentId });
    agent = { kind: 'user', id: agentUser.id, role: 'agent', name: 'Agent' };
    staff = { kind: 'user', id: staffUser.id, role: 'department', departmentId, name: 'Warranty clerk' };
  }, 30_000);
  afterAll(() => t.destroy());

  const text = async (from: string, body: string) => {
    const sid = messageSid();
    const response = await t.webhook('/webhooks/twilio/sms', { MessageSid: sid, AccountSid: t.twilio.accountSid, From: from, To: ourNumber, Body: body, NumMedia: '0' });
    expect(response.status).toBe(200);
    const found = await t.app.services.interactions.findByExternalId(`twilio-sms:${sid}`);
    return { twiml: response.text, interactionId: found!.interactionId, entryId: found!.entryId };
  };
  const customerOf = async (phone: string) => (await t.app.services.customers.findByIdentity({ phone }))!;
  const fileTask = async (customerId: string, interactionId: string, title = 'Brake noise') =>
    t.app.services.tasks.fileTask({ departmentId, typeCode: 'claim', title, customerId, interactionId }, agent);
  const resolve = async (task: Task, resolution = 'Brake pads replaced under warranty') => {
    await t.app.services.tasks.perform(task.id, 'accept', staff);
    return t.app.services.tasks.perform(task.id, 'resolve', staff, { resolution });
  };
  const smsTo = (phone: string) => t.twilio.messages.filter((message) => message.to === phone);
  const notifiedEntries = (taskId: string) =>
    eventually(async () => {
      const entries = (await t.app.services.tasks.findTask(taskId))?.history?.filter((entry) => entry.action === 'customer_notified') ?? [];
      return entries.length ? entries : undefined;
    }, 10_000, 'customer_notified');
  const status = async (taskId: string) => (await t.app.services.tasks.findTask(taskId))!.status;

  it('when a texted-in task is resolved, then the customer gets an SMS with the reference; YES verifies and closes it and is not queued for an agent', async () => {
    const phone = newMobile();
    const first = await text(phone, 'My brakes squeak since the last service');
    const customer = await customerOf(phone);
    const task = await fileTask(customer.id, first.interactionId);
    expect(task.customerChannel).toBe('sms');
    await resolve(task);

    const sms = await eventually(async () => smsTo(phone).find((message) => message.body?.includes(task.reference)), 10_000, 'resolution sms');
    expect(sms.body).toContain('Brake pads replaced under warranty');
    expect(sms.body).toMatch(/Reply YES or NO/);
    const [record] = await notifiedEntries(task.id);
    expect(record.data).toMatchObject({ kind: 'resolved', channel: 'sms', interactionId: expect.any(String) });

    const answer = await text(phone, ' yes ');
    expect(answer.twiml).toMatch(/<Message>Thank you for confirming/);
    // The answer joined the interaction that asked, not a new conversation in a queue.
    expect(answer.interactionId).toBe(record.data!.interactionId);
    expect(answer.interactionId).not.toBe(first.interactionId);
    const thread = await t.app.services.interactions.getInteraction(answer.interactionId);
    expect(thread.status).not.toBe('queued');
    expect(thread.queue).toBeUndefined();

    const closed = (await t.app.services.tasks.findTask(task.id))!;
    expect(closed.status).toBe('closed');
    expect(closed.history!.map((entry) => entry.action)).toEqual(expect.arrayContaining(['verified', 'closed']));
    expect(closed.history!.find((entry) => entry.action === 'verified')).toMatchObject({ actor: { kind: 'customer' }, data: { interactionId: answer.interactionId } });

    // Another YES now is an ordinary text: nothing pending any more, so it is not claimed.
    const later = await text(phone, 'yes');
    expect(later.twiml).not.toMatch(/Thank you for confirming/);
    expect(later.interactionId).not.toBe(record.data!.interactionId);

    // A new text quoting the closed task's reference reopens it.
    await text(phone, `About ${task.reference}: the noise is back`);
    await eventually(async () => (await status(task.id)) === 'reopened', 5_000, 'reopened by contact');
  }, 30_000);

  it('when the customer answers NO, then the task is reopened, back with the department', async () => {
    const phone = newMobile();
    const first = await text(phone, 'Engine light is on');
    const task = await fileTask((await customerOf(phone)).id, first.interactionId, 'Engine light');
    await resolve(task, 'Sensor recalibrated');
    await eventually(async () => smsTo(phone).find((message) => message.body?.includes(task.reference)), 10_000, 'resolution sms');
    await notifiedEntries(task.id);

    const answer = await text(phone, 'NO');
    expect(answer.twiml).toMatch(/<Message>Sorry it is not solved yet/);
    const reopened = (await t.app.services.tasks.findTask(task.id))!;
    expect(reopened.status).toBe('reopened');
    expect(reopened.reopenCount).toBe(1);
    expect(reopened.history!.at(-1)).toMatchObject({ action: 'reopened', actor: { kind: 'customer' }, comment: 'NO' });
  }, 30_000);

  it('when a task from an email contact is resolved, then the customer gets an email with the reference, and a YES reply in that thread closes it', async () => {
    const address = `${uniqueName('driver')}@example.net`;
    const sent = await sendEmail(t.smtpPort, { from: address, to: t.supportEmail, subject: 'Rust on the tailgate', text: 'There is rust on my tailgate, is that covered?' });
    expect(sent.accepted).toBe(true);
    const [contact] = await eventually(async () => {
      const found = await t.emailInteractions(address);
      return found.length ? found : undefined;
    }, 10_000, 'email recorded');
    const task = await fileTask(contact.customerId, contact.id, 'Tailgate rust');
    expect(task.customerChannel).toBe('email');
    await resolve(task, 'Tailgate repainted');

    const mail = await t.sink.waitFor((message) => message.parsed.text?.includes(task.reference) ?? false, 10_000);
    expect(mail.envelope.rcptTo).toEqual([address]);
    expect(mail.parsed.subject).toContain(task.reference);
    expect(mail.parsed.text).toContain('Tailgate repainted');
    const [record] = await notifiedEntries(task.id);
    expect(record.data).toMatchObject({ channel: 'email', interactionId: contact.id });

    const reply = await sendEmail(t.smtpPort, {
      from: address,
      to: mail.parsed.replyTo?.value[0]?.address ?? t.supportEmail,
      subject: `Re: ${mail.parsed.subject}`,
      inReplyTo: mail.parsed.messageId,
      references: mail.parsed.messageId,
      text: `Yes\n\nOn Monday you wrote:\n> ${mail.parsed.text}`,
    });
    expect(reply.accepted).toBe(true);
    await eventually(async () => (await status(task.id)) === 'closed', 10_000, 'closed by email reply');
  }, 30_000);

  it('when the customer texted STOP and has no email, then no SMS is sent and the task history says why', async () => {
    const phone = newMobile();
    const first = await text(phone, 'Clutch slips');
    await text(phone, 'STOP');
    const task = await fileTask((await customerOf(phone)).id, first.interactionId, 'Clutch');
    await resolve(task, 'Clutch replaced');

    const [record] = await notifiedEntries(task.id);
    expect(record.data).toMatchObject({ kind: 'resolved', reason: 'sms_opted_out' });
    expect(record.data).not.toHaveProperty('channel');
    expect(record.comment).toMatch(/could not be told.*opted out/);
    expect(smsTo(phone).filter((message) => message.body?.includes(task.reference))).toEqual([]);
    // Nothing is pending either: a YES is not taken as an answer.
    const answer = await text(phone, 'YES');
    expect(answer.twiml).not.toMatch(/Thank you for confirming/);
  }, 30_000);

  it('when the department comments internally and for the customer, then only the customer comment reaches them', async () => {
    const phone = newMobile();
    const first = await text(phone, 'When will my part arrive?');
    const task = await fileTask((await customerOf(phone)).id, first.interactionId, 'Part delivery');
    await t.app.services.tasks.perform(task.id, 'accept', staff);
    await t.app.services.tasks.comment(task.id, staff, { text: 'Supplier margin is 40%, do not tell', visibility: 'internal' });
    await t.app.services.tasks.comment(task.id, staff, { text: 'Your part ships on Friday', visibility: 'customer' });
    await t.app.services.tasks.perform(task.id, 'resolve', staff, { resolution: 'Part delivered to the dealer' });

    await eventually(async () => smsTo(phone).some((message) => message.body?.includes('Part delivered to the dealer')), 10_000, 'resolution sms');
    const update = await eventually(async () => smsTo(phone).find((message) => message.body?.includes('Your part ships on Friday')), 10_000, 'update sms');
    expect(update.body).toContain(task.reference);
    expect(smsTo(phone).some((message) => message.body?.includes('Supplier margin'))).toBe(false);
    const stored = (await t.app.services.tasks.findTask(task.id))!;
    expect(stored.history!.filter((entry) => entry.action === 'customer_notified').map((entry) => entry.data?.kind).sort()).toEqual(['resolved', 'update']);
  }, 30_000);
});

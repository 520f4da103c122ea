import { randomBytes } from 'node:crypto';
import type { Principal } from '../../src/platform/http/principal';
import { eventually, sendRawEmail, startEmailTestApp, type EmailTestApp } from '../support/email';
import { uniqueName } from '../support/test-app';

const trustedMx = 'mx.switchboard.test';

describe('email trust: a spoofed From cannot join or change another customer\'s conversation', () => {
  let t: EmailTestApp;
  let departmentId: string;
  let agent: Principal;
  let staff: Principal;

  beforeAll(async () => {
    t = await startEmailTestApp({ EMAIL_TRUSTED_AUTHSERV_ID: trustedMx, EMAIL_TRUSTED_RELAYS: '127.0.0.1,::1', EMAIL_ACKNOWLEDGE: 'true' });
    const { services } = t.app;
    const department = await services.departments.create({ code: uniqueName('warranty'), name: 'Warranty claims', timezone: 'Asia/Shanghai' });
    departmentId = department.id;
    await services.departments.update(departmentId, {
      taskTypes: [{ code: 'claim', name: 'Warranty claim', slaMinutes: 480, defaultPriority: 'normal', fields: [], checklist: [], notifyCustomerOnCreate: false, templates: {} }],
    });
    const agentUser = await services.auth.createUser({ email: `${uniqueName('agent')}@test.local`, password: randomBytes(12).toString('hex'), role: 'agent', name: 'Agent' });
    const staffUser = await services.auth.createUser({ email: `${uniqueName('dept')}@test.local`, password: randomBytes(12).toString('hex'), role: 'department', name: 'Clerk', departmentId });
    agent = { kind: 'user', id: agentUser.id, role: 'agent', name: 'Agent' };
    staff = { kind: 'user', id: staffUser.id, role: 'department', departmentId, name: 'Clerk' };
  }, 30_000);
  afterAll(() => t.destroy());

  const passing = (domain: string) => `Authentication-Results: ${trustedMx}; spf=pass smtp.mailfrom=${domain}; dkim=pass header.d=${domain}; dmarc=pass header.from=${domain}`;
  const email = (options: { from: string; to: string; subject: string; text: string; headers?: string[] }) =>
    Buffer.from(
      [...(options.headers ?? []), `From: ${options.from}`, `To: ${options.to}`, `Subject: ${options.subject}`, `Message-ID: <${randomBytes(8).toString('hex')}@sender.example>`, 'Content-Type: text/plain; charset=utf-8', '', options.text, ''].join('\r\n'),
    );
  const deliver = async (raw: Buffer, from: string, to: string) => {
    expect(await sendRawEmail(t.smtpPort, raw, { from, to: [to] })).toMatchObject({ accepted: true });
  };
  const status = async (taskId: string) => (await t.app.services.tasks.findTask(taskId))!.status;

  it('when a spoofed From carries the victim\'s [#SB-…] tag, reply token and task reference, then it starts a new flagged conversation and the task stays resolved; the same mail authenticated by our MTA joins and reopens', async () => {
    const domain = `customer-${randomBytes(3).toString('hex')}.example`;
    const victim = `victim@${domain}`;
    await deliver(email({ from: victim, to: t.supportEmail, subject: 'Gearbox whine', text: 'It whines at 80 km/h.', headers: [passing(domain)] }), victim, t.supportEmail);
    const ack = await t.sink.waitFor((message) => message.envelope.rcptTo.includes(victim));
    const ref = /\[#(SB-[0-9A-F]{6})\]/.exec(ack.parsed.subject ?? '')![1];
    const replyAddress = ack.parsed.replyTo!.value[0].address!;
    const [thread] = await t.emailInteractions(victim);
    const task = await t.app.services.tasks.fileTask({ departmentId, typeCode: 'claim', title: 'Gearbox whine', customerId: thread.customerId, interactionId: thread.id }, agent);
    await t.app.services.tasks.perform(task.id, 'accept', staff);
    await t.app.services.tasks.perform(task.id, 'resolve', staff, { resolution: 'Oil changed' });

    // The attacker: victim's From, our tag and the reply token, a forged "pass" below our MTA's real verdict.
    const spoof = email({
      from: victim,
      to: replyAddress,
      subject: `Re: [#${ref}] Gearbox whine`,
      text: `Not fixed, reopen ${task.reference}. Send the invoice to me.`,
      headers: [`Authentication-Results: ${trustedMx}; spf=fail smtp.mailfrom=attacker.example; dmarc=fail header.from=${domain}`, passing(domain)],
    });
    await deliver(spoof, 'a@attacker.example', replyAddress);
    const spoofed = await eventually(async () => (await t.emailInteractions(victim)).find((interaction) => interaction.id !== thread.id), 5_000, 'a new conversation');
    expect(spoofed.entries?.find((entry) => entry.direction === 'inbound')?.flags).toEqual(expect.arrayContaining(['unverified_sender']));
    expect(spoofed.flags).toEqual(expect.arrayContaining(['email_unverified_sender']));
    expect((await t.app.services.interactions.getInteraction(thread.id)).entries?.filter((entry) => entry.direction === 'inbound')).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await status(task.id)).toBe('resolved');

    // The customer, authenticated by our MTA: joins the thread by the tag and reopens the task.
    const genuine = email({ from: victim, to: t.supportEmail, subject: `Re: [#${ref}] Gearbox whine`, text: `The whine is back, ${task.reference}.`, headers: [passing(domain)] });
    await deliver(genuine, victim, t.supportEmail);
    await eventually(async () => ((await t.app.services.interactions.getInteraction(thread.id)).entries?.filter((entry) => entry.direction === 'inbound').length ?? 0) === 2, 5_000, 'the reply to join the thread');
    await eventually(async () => (await status(task.id)) === 'reopened', 5_000, 'the task to reopen');
  }, 30_000);

  it('when an unauthenticated reply names a Message-ID we sent to that customer, then it joins their thread (still changing no task); from another sender it does not', async () => {
    const domain = `plain-${randomBytes(3).toString('hex')}.example`;
    const customer = `li@${domain}`;
    await deliver(email({ from: customer, to: t.supportEmail, subject: 'Door rattles', text: 'The door rattles.' }), customer, t.supportEmail);
    const ack = await t.sink.waitFor((message) => message.envelope.rcptTo.includes(customer));
    const ourId = ack.header('message-id')!;
    const [thread] = await t.emailInteractions(customer);

    const stranger = `x@other-${randomBytes(3).toString('hex')}.example`;
    await deliver(email({ from: stranger, to: t.supportEmail, subject: 'Re: Door rattles', text: 'me too', headers: [`In-Reply-To: ${ourId}`] }), stranger, t.supportEmail);
    const [strangerThread] = await eventually(async () => { const found = await t.emailInteractions(stranger); return found.length ? found : undefined; }, 5_000, "the stranger's mail");
    expect(strangerThread.id).not.toBe(thread.id);

    await deliver(email({ from: customer, to: t.supportEmail, subject: 'Re: Door rattles', text: 'Still rattling.', headers: [`In-Reply-To: ${ourId}`] }), customer, t.supportEmail);
    const joined = await eventually(async () => {
      const entries = (await t.app.services.interactions.getInteraction(thread.id)).entries?.filter((entry) => entry.direction === 'inbound') ?? [];
      return entries.length === 2 ? entries : undefined;
    }, 5_000, 'the reply to join');
    expect(joined[1].flags).toEqual(expect.arrayContaining(['unverified_sender']));
    expect(await t.emailInteractions(customer)).toHaveLength(1);
  }, 30_000);
});

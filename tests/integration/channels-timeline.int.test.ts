import { randomBytes } from 'node:crypto';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';
import { eventually, sendEmail, startEmailTestApp, type EmailTestApp } from '../support/email';

describe('one customer across every channel', () => {
  let env: EmailTestApp;
  let agent: TestUser;

  beforeAll(async () => {
    env = await startEmailTestApp();
    agent = await createUserAndLogin(env.app, 'agent');
  });
  afterAll(() => env.destroy());

  it('when the same person calls, texts and emails, then all three land once in one timeline, newest first', async () => {
    const phone = '+8613912340001';
    const email = `li.na.${randomBytes(3).toString('hex')}@example.cn`;
    const created = await request(env.app, 'POST', '/api/customers', { token: agent.token, body: { name: 'Li Na', phones: [phone], emails: [email] } });
    expect(created.status).toBe(201);

    const call = { CallSid: `CA${randomBytes(16).toString('hex')}`, AccountSid: env.twilio.accountSid, From: phone, To: '+862150000000', CallStatus: 'ringing', Direction: 'inbound' };
    const text = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: env.twilio.accountSid, From: phone, To: '+862150000000', Body: 'Is my car ready?', NumMedia: '0' };
    const messageId = `<${randomBytes(8).toString('hex')}@example.cn>`;
    // Twilio and mail servers retry: every delivery is sent three times.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await env.webhook('/webhooks/twilio/voice', call)).status).toBe(200);
    }
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await env.webhook('/webhooks/twilio/sms', text)).status).toBe(200);
    }
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await sendEmail(env.smtpPort, { from: `"Li Na" <${email}>`, to: env.supportEmail, subject: 'Invoice', text: 'Please resend the invoice', messageId })).accepted).toBe(true);
    }

    const timeline = await eventually(async () => {
      const page = await request(env.app, 'GET', `/api/customers/${created.body.id}/timeline`, { token: agent.token });
      return page.body.items.length === 3 ? page.body : undefined;
    }, 10_000, 'three interactions on the timeline');
    expect(timeline.items.map((interaction: { channel: string }) => interaction.channel)).toEqual(['email', 'sms', 'voice']);
    for (const interaction of timeline.items as { customerId: string; entryCount: number }[]) {
      expect(interaction.customerId).toBe(created.body.id);
      expect(interaction.entryCount).toBe(1);
    }
  });
});

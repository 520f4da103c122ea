import { randomBytes } from 'node:crypto';
import { sendEmail, startEmailTestApp, type EmailTestApp } from '../support/email';

describe('automatic acknowledgements are rate limited per sender', () => {
  let env: EmailTestApp;

  beforeAll(async () => {
    env = await startEmailTestApp({ EMAIL_ACKNOWLEDGE: 'true' });
  });
  afterAll(() => env.destroy());

  it('when one mailbox floods us in parallel under many +tag variants, then it gets at most three acknowledgements', async () => {
    const domain = `flood-${randomBytes(3).toString('hex')}.example`;
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        sendEmail(env.smtpPort, { from: `loop+${index}@${domain}`, to: env.supportEmail, subject: `case ${index}`, text: 'hello', messageId: `<${randomBytes(8).toString('hex')}@${domain}>` }),
      ),
    );
    expect(outcomes.every((outcome) => outcome.accepted)).toBe(true);
    // Every email is recorded, as its own case; only the acknowledgements are limited.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const acks = env.sink.messages.filter((message) => message.envelope.rcptTo.some((address) => address.endsWith(`@${domain}`)));
    expect(acks.length).toBeGreaterThan(0);
    expect(acks.length).toBeLessThanOrEqual(3);
  });
});

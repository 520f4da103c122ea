import { randomBytes, randomInt } from 'node:crypto';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';

/**
 * Issue 12: automatic replies are rate limited per sender. A number that texts HELP in a loop gets
 * three answers an hour, not one per text (each costs money and can feed a loop with another
 * robot); every text is still recorded, and a change of consent is always confirmed.
 */
const messageSid = () => `SM${randomBytes(16).toString('hex')}`;
const newMobile = () => `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
const ourNumber = '+862150000000';

describe('automatic SMS replies per sender', () => {
  let channel: ChannelTestApp;

  beforeAll(async () => {
    channel = await startChannelTestApp();
  });
  afterAll(() => channel.destroy());

  const text = (from: string, body: string, sid = messageSid()) =>
    channel.webhook('/webhooks/twilio/sms', { MessageSid: sid, AccountSid: channel.twilio.accountSid, From: from, To: ourNumber, Body: body, NumMedia: '0' });
  const answered = (twiml: string) => /<Message>/.test(twiml);

  it('when one number texts HELP six times, then the first three are answered, all six are recorded, and another number is still answered', async () => {
    const from = newMobile();
    const sids = Array.from({ length: 6 }, messageSid);
    const answers: boolean[] = [];
    for (const sid of sids) {
      const response = await text(from, 'HELP', sid);
      expect(response.status).toBe(200);
      answers.push(answered(response.text));
    }
    expect(answers).toEqual([true, true, true, false, false, false]);
    for (const sid of sids) expect(await channel.app.services.interactions.findByExternalId(`twilio-sms:${sid}`)).not.toBeNull();
    expect(answered((await text(newMobile(), 'HELP')).text)).toBe(true);
  });

  it('when a number past its limit texts STOP, then the opt-out is still confirmed once, and a repeated STOP is not', async () => {
    const from = newMobile();
    for (let index = 0; index < 4; index += 1) await text(from, 'HELP');
    expect(answered((await text(from, 'STOP')).text)).toBe(true);
    expect(answered((await text(from, 'STOP')).text)).toBe(false);
  });
});

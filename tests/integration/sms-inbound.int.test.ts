import { randomBytes, randomInt } from 'node:crypto';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';

const messageSid = () => `SM${randomBytes(16).toString('hex')}`;
const newMobile = () => `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
const ourNumber = '+862150000000';

describe('inbound SMS through the Twilio webhook', () => {
  let channel: ChannelTestApp;

  beforeAll(async () => {
    channel = await startChannelTestApp();
  });
  afterAll(() => channel.destroy());

  const text = (from: string, body: string, extra: Record<string, string> = {}) =>
    channel.webhook('/webhooks/twilio/sms', { MessageSid: extra.MessageSid ?? messageSid(), AccountSid: channel.twilio.accountSid, From: from, To: ourNumber, Body: body, NumMedia: '0', ...extra });

  const interactionOf = async (sid: string) => {
    const found = await channel.app.services.interactions.findByExternalId(`twilio-sms:${sid}`);
    if (!found) throw new Error(`nothing recorded for ${sid}`);
    return channel.app.services.interactions.getInteraction(found.interactionId);
  };

  it('when a new number texts, then a customer and an SMS interaction are created and Twilio gets empty TwiML', async () => {
    const from = newMobile();
    const sid = messageSid();
    const response = await text(from, 'My car makes a noise', { MessageSid: sid });
    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/text\/xml/);
    expect(response.text).toMatch(/<Response\/>$/);
    const customer = await channel.app.services.customers.findByIdentity({ phone: from });
    expect(customer?.phones).toEqual([{ value: from, kind: 'e164' }]);
    const interaction = await interactionOf(sid);
    expect(interaction).toMatchObject({ customerId: customer!.id, channel: 'sms', direction: 'inbound', status: 'open' });
    expect(interaction.entries).toHaveLength(1);
    expect(interaction.entries![0]).toMatchObject({ kind: 'message', direction: 'inbound', text: 'My car makes a noise', externalId: `twilio-sms:${sid}`, data: { from, to: ourNumber, senderKind: 'e164' } });
  });

  it('when two texts come within the window, then they join one interaction; after the window, then a new one opens', async () => {
    const from = newMobile();
    const [first, second, third] = [messageSid(), messageSid(), messageSid()];
    await text(from, 'Hello', { MessageSid: first });
    await text(from, 'Are you there?', { MessageSid: second });
    const conversation = await interactionOf(first);
    expect((await interactionOf(second)).id).toBe(conversation.id);
    expect(conversation.entries?.map((entry) => entry.text)).toEqual(['Hello', 'Are you there?']);

    // The conversation went quiet 31 minutes ago: past the default 30m window.
    await channel.app.mongo.collection('interactions').updateOne({ _id: conversation.id as never }, { $set: { lastActivityAt: new Date(Date.now() - 31 * 60_000) } });
    await text(from, 'New question', { MessageSid: third });
    const next = await interactionOf(third);
    expect(next.id).not.toBe(conversation.id);
    expect(next.customerId).toBe(conversation.customerId);
    expect((await interactionOf(first)).entries).toHaveLength(2);
  });

  it('when two texts from a new number arrive at the same moment, then they still share one conversation', async () => {
    const from = newMobile();
    const sids = [messageSid(), messageSid(), messageSid()];
    const responses = await Promise.all(sids.map((sid, index) => text(from, `part ${index}`, { MessageSid: sid })));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    const ids = new Set(await Promise.all(sids.map(async (sid) => (await interactionOf(sid)).id)));
    expect(ids.size).toBe(1);
    expect((await interactionOf(sids[0])).entries).toHaveLength(3);
  });

  it('when Twilio delivers the same webhook 20 times, then one entry is recorded', async () => {
    const from = newMobile();
    const sid = messageSid();
    const responses = await Promise.all(Array.from({ length: 20 }, () => text(from, 'Retry me', { MessageSid: sid })));
    expect(responses.every((response) => response.status === 200)).toBe(true);
    const interaction = await interactionOf(sid);
    expect(interaction.entries).toHaveLength(1);
    const customer = await channel.app.services.customers.findByIdentity({ phone: from });
    expect((await channel.app.services.interactions.getTimeline(customer!.id, { limit: 10 })).items).toHaveLength(1);
  });

  it('when the signature is forged, then 403 and nothing is stored', async () => {
    const from = newMobile();
    const sid = messageSid();
    const response = await channel.twilio.sendWebhook(
      `${channel.app.url}/webhooks/twilio/sms`,
      { MessageSid: sid, AccountSid: channel.twilio.accountSid, From: from, To: ourNumber, Body: 'forged', NumMedia: '0' },
      { signature: 'bm90LWEtc2lnbmF0dXJl' },
    );
    expect(response.status).toBe(403);
    expect(await channel.app.services.interactions.findByExternalId(`twilio-sms:${sid}`)).toBeNull();
    expect(await channel.app.services.customers.findByIdentity({ phone: from })).toBeNull();
  });

  it('when a field is missing or media is announced without a URL, then 400 names the field', async () => {
    const missing = await channel.webhook('/webhooks/twilio/sms', { AccountSid: channel.twilio.accountSid, From: newMobile(), To: ourNumber, Body: 'x' });
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.text).error.details).toEqual([expect.objectContaining({ field: 'body.MessageSid' })]);
    const media = await text(newMobile(), 'photo', { NumMedia: '2', MediaUrl0: 'https://api.twilio.com/x', MediaContentType0: 'image/jpeg' });
    expect(media.status).toBe(400);
    expect(JSON.parse(media.text).error.details).toEqual([expect.objectContaining({ field: 'body.MediaUrl1' })]);
  });

  it('when a text carries media, then each item is on the entry and a non-Twilio URL is flagged', async () => {
    const sid = messageSid();
    const twilioUrl = `https://api.twilio.com/2010-04-01/Accounts/${channel.twilio.accountSid}/Messages/${sid}/Media/ME${randomBytes(16).toString('hex')}`;
    await text(newMobile(), 'See the dent', {
      MessageSid: sid,
      NumMedia: '2',
      MediaUrl0: twilioUrl,
      MediaContentType0: 'image/jpeg',
      MediaUrl1: 'https://api.twilio.com.evil.com/steal',
      MediaContentType1: 'video/mp4',
    });
    const interaction = await interactionOf(sid);
    expect(interaction.entries![0].attachments).toEqual([
      { contentType: 'image/jpeg', url: twilioUrl },
      { contentType: 'video/mp4', url: 'https://api.twilio.com.evil.com/steal' },
    ]);
    expect(interaction.entries![0].flags).toContain('untrusted_media_url');
    expect(interaction.flags).toContain('untrusted_media_url');

    const cleanSid = messageSid();
    await text(newMobile(), '', { MessageSid: cleanSid, NumMedia: '1', MediaUrl0: twilioUrl, MediaContentType0: 'image/png' });
    expect((await interactionOf(cleanSid)).entries![0].flags ?? []).not.toContain('untrusted_media_url');
  });

  it('when a short code or a sender that is no phone at all texts, then the text is kept and flagged', async () => {
    const shortSid = messageSid();
    await text('95588', 'Your code is 1234', { MessageSid: shortSid });
    const shortCode = await interactionOf(shortSid);
    expect(shortCode.entries![0]).toMatchObject({ data: { from: '95588', senderKind: 'short_code' }, flags: ['short_code_sender'] });
    expect(shortCode.flags).toContain('sms_sender_not_a_phone');

    const sender = `whatsapp:${newMobile()}`;
    const [first, second] = [messageSid(), messageSid()];
    expect((await text(sender, 'hi', { MessageSid: first })).status).toBe(200);
    expect((await text(sender, 'again', { MessageSid: second })).status).toBe(200);
    const unrecognized = await interactionOf(first);
    expect(unrecognized.entries![0]).toMatchObject({ data: { from: sender, senderKind: 'unrecognized' }, flags: ['unrecognized_sender'] });
    expect(unrecognized.flags).toContain('sms_sender_not_a_phone');
    // The same odd sender maps to the same placeholder customer and conversation.
    expect((await interactionOf(second)).id).toBe(unrecognized.id);
  });

  it('when a customer texts HELP, then Twilio is answered with the help text', async () => {
    const response = await text(newMobile(), ' help ');
    expect(response.status).toBe(200);
    expect(response.text).toMatch(/<Response><Message>Switchboard support: .*Reply STOP to unsubscribe\.<\/Message><\/Response>/);
  });
});

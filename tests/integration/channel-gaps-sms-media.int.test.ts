import { createHash, randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { eventually } from '../support/email';
import { createUserAndLogin, type TestUser } from '../support/test-app';
import type { Entry } from '../../src/interactions';

const messageSid = () => `MM${randomBytes(16).toString('hex')}`;
const newMobile = () => `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');
const maxBytes = 50_000;

describe('inbound MMS media downloaded into the attachment store', () => {
  let channel: ChannelTestApp;
  let attachmentsDir: string;
  let agent: TestUser;
  // Stands for any host that is not Twilio: it counts every request it gets.
  let elsewhere: http.Server;
  let elsewhereHits = 0;
  let elsewhereUrl: string;

  beforeAll(async () => {
    attachmentsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sb-sms-media-'));
    channel = await startChannelTestApp({ ATTACHMENTS_DIR: attachmentsDir, SMS_MEDIA_MAX_BYTES: maxBytes });
    agent = await createUserAndLogin(channel.app, 'agent');
    elsewhere = http.createServer((_req, res) => {
      elsewhereHits += 1;
      res.end('not media');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', () => resolve()));
    elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await channel.destroy();
    await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
    await fs.rm(attachmentsDir, { recursive: true, force: true });
  });

  const textWithMedia = (sid: string, items: { url: string; contentType: string }[], from = newMobile()) =>
    channel.webhook('/webhooks/twilio/sms', {
      MessageSid: sid,
      AccountSid: channel.twilio.accountSid,
      From: from,
      To: '+862150000000',
      Body: 'See the photo',
      NumMedia: String(items.length),
      ...Object.fromEntries(items.flatMap((item, index) => [[`MediaUrl${index}`, item.url], [`MediaContentType${index}`, item.contentType]])),
    });

  const entryOf = async (sid: string): Promise<{ interactionId: string; entry: Entry }> => {
    const found = await channel.app.services.interactions.findByExternalId(`twilio-sms:${sid}`);
    if (!found) throw new Error(`nothing recorded for ${sid}`);
    const interaction = await channel.app.services.interactions.getInteraction(found.interactionId);
    return { interactionId: interaction.id, entry: interaction.entries!.find((entry) => entry.id === found.entryId)! };
  };

  /** Waits until attachment `index` of the text is settled: stored (sha256) or flagged. */
  const settled = (sid: string, index: number) =>
    eventually(async () => {
      const { interactionId, entry } = await entryOf(sid);
      const attachment = entry.attachments?.[index];
      return attachment?.sha256 || attachment?.flags?.length ? { interactionId, entry, attachment } : null;
    }, 15_000, `media ${index} of ${sid} to be stored or flagged`);

  const download = (interactionId: string, entryId: string, index: number) =>
    fetch(`${channel.app.url}/api/interactions/${interactionId}/entries/${entryId}/attachments/${index}`, { headers: { authorization: `Bearer ${agent.token}` } });

  it('when a signed MMS webhook names media on Twilio, then the bytes land in the store and the attachment has digest, size and path', async () => {
    const sid = messageSid();
    const photo = randomBytes(4_000);
    const media = channel.twilio.addMedia(sid, photo, 'image/jpeg');
    expect((await textWithMedia(sid, [{ url: media.url, contentType: 'image/jpeg' }])).status).toBe(200);

    const { interactionId, entry, attachment } = await settled(sid, 0);
    expect(attachment).toMatchObject({ contentType: 'image/jpeg', url: media.url, sha256: sha256(photo), size: photo.length });
    expect(attachment.flags).toBeUndefined();
    expect(await fs.readFile(path.join(attachmentsDir, attachment.path!))).toEqual(photo);
    expect(channel.twilio.mediaRequests(media.sid)).toBe(1);

    // The agent downloads it through the API with the recorded type and a name made from it.
    const response = await download(interactionId, entry.id, 0);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="attachment-1.jpg"; filename*=UTF-8''attachment-1.jpg`);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(photo);
  });

  it('when Twilio delivers the same webhook again, then the media is downloaded once', async () => {
    const sid = messageSid();
    const from = newMobile();
    const media = channel.twilio.addMedia(sid, randomBytes(1_000), 'image/png');
    const items = [{ url: media.url, contentType: 'image/png' }];
    await textWithMedia(sid, items, from);
    await Promise.all([textWithMedia(sid, items, from), textWithMedia(sid, items, from)]);
    await settled(sid, 0);
    await textWithMedia(sid, items, from);

    // A later text's download finishing means the replays' turn in the queue has passed.
    const laterSid = messageSid();
    await textWithMedia(laterSid, [{ url: channel.twilio.addMedia(laterSid, randomBytes(500), 'image/png').url, contentType: 'image/png' }]);
    await settled(laterSid, 0);
    expect(channel.twilio.mediaRequests(media.sid)).toBe(1);
  });

  it('when a media URL is not on Twilio, or Twilio redirects elsewhere, then nothing is fetched there and the items are flagged', async () => {
    const sid = messageSid();
    const foreign = `${elsewhereUrl}/2010-04-01/Accounts/${channel.twilio.accountSid}/Messages/${sid}/Media/ME${randomBytes(16).toString('hex')}`;
    const redirected = channel.twilio.addMedia(sid, randomBytes(100), 'image/jpeg', { redirectTo: `${elsewhereUrl}/steal` });
    await textWithMedia(sid, [
      { url: foreign, contentType: 'image/jpeg' },
      { url: redirected.url, contentType: 'image/jpeg' },
    ]);

    const { interactionId, entry, attachment } = await settled(sid, 1);
    expect(attachment).toMatchObject({ flags: ['media_redirect_untrusted'] });
    expect(attachment.sha256).toBeUndefined();
    expect(channel.twilio.mediaRequests(redirected.sid)).toBe(1);
    expect(entry.attachments![0].sha256).toBeUndefined();
    expect(entry.flags).toContain('untrusted_media_url');
    expect(elsewhereHits).toBe(0);
    const refused = await download(interactionId, entry.id, 0);
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('when media is larger than SMS_MEDIA_MAX_BYTES, then it is flagged and not stored', async () => {
    const sid = messageSid();
    const media = channel.twilio.addMedia(sid, randomBytes(maxBytes + 1), 'video/mp4');
    await textWithMedia(sid, [{ url: media.url, contentType: 'video/mp4' }]);
    const { attachment } = await settled(sid, 0);
    expect(attachment).toMatchObject({ flags: ['media_over_size_cap'] });
    expect(attachment.sha256).toBeUndefined();
  });

  it('when Twilio fails once, then the download is retried and the media stored', async () => {
    const sid = messageSid();
    const photo = randomBytes(2_000);
    const media = channel.twilio.addMedia(sid, photo, 'image/jpeg');
    channel.twilio.failNext(1, 503);
    await textWithMedia(sid, [{ url: media.url, contentType: 'image/jpeg' }]);
    const { attachment } = await settled(sid, 0);
    expect(attachment).toMatchObject({ sha256: sha256(photo), size: photo.length });
    expect(attachment.flags).toBeUndefined();
  });
});

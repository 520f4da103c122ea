import { randomBytes } from 'node:crypto';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';

const newCallSid = () => `CA${randomBytes(16).toString('hex')}`;
const newRecordingSid = () => `RE${randomBytes(16).toString('hex')}`;
// The default entry of config/voice-numbers.json: open around the clock, straight to "general".
const unlistedNumber = '+862150009999';
const hotline = '+862150000000';
const holidayLine = '+862150000002';

describe('incoming Twilio Voice calls', () => {
  let channel: ChannelTestApp;

  beforeAll(async () => {
    channel = await startChannelTestApp();
  });
  afterAll(() => channel.destroy());

  const incoming = (callSid: string, from: string, to = unlistedNumber) =>
    channel.webhook('/webhooks/twilio/voice', { CallSid: callSid, AccountSid: channel.twilio.accountSid, From: from, To: to, CallStatus: 'ringing', Direction: 'inbound', ApiVersion: '2010-04-01' });
  const interactionOf = async (callSid: string) => {
    const link = await channel.app.services.interactions.findByExternalId(`twilio-call:${callSid}`);
    if (!link) throw new Error(`no interaction for ${callSid}`);
    return channel.app.services.interactions.getInteraction(link.interactionId);
  };

  it('when a customer calls, then a queued interaction is logged on their customer and Twilio is told to enqueue them', async () => {
    const callSid = newCallSid();
    const response = await incoming(callSid, '+8613800138001');

    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/^text\/xml/);
    expect(response.text).toContain('<Say>Thank you for calling.');
    expect(response.text).toMatch(new RegExp(`<Enqueue waitUrl="${channel.app.url}/webhooks/twilio/voice/wait" waitUrlMethod="POST">general</Enqueue>`));
    const customer = await channel.app.services.customers.findByIdentity({ phone: '+8613800138001' });
    const interaction = await interactionOf(callSid);
    expect(interaction).toMatchObject({ customerId: customer!.id, channel: 'voice', direction: 'inbound', status: 'queued', queue: 'general' });
    expect(interaction.queuedAt).toBeDefined();
    expect(interaction.entries![0]).toMatchObject({ kind: 'call_event', data: { event: 'incoming', callSid, route: 'queue', queue: 'general' } });
  });

  it('when Twilio replays the same incoming call 20 times, then there is one interaction with one entry and the same TwiML', async () => {
    const callSid = newCallSid();
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => incoming(callSid, '+8613800138002')));
    const sequential = [];
    for (let index = 0; index < 10; index += 1) sequential.push(await incoming(callSid, '+8613800138002'));
    const responses = [...concurrent, ...sequential];

    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect(new Set(responses.map((response) => response.text)).size).toBe(1);
    const interaction = await interactionOf(callSid);
    expect(interaction.entries).toHaveLength(1);
    const timeline = await channel.app.services.interactions.getTimeline(interaction.customerId, { limit: 10 });
    expect(timeline.items.map((item) => item.id)).toEqual([interaction.id]);
  });

  it('when the signature is forged, then the webhook is refused with 403 and nothing is stored', async () => {
    const callSid = newCallSid();
    const params = { CallSid: callSid, From: '+8613800138003', To: unlistedNumber, CallStatus: 'ringing' };
    const forged = await channel.twilio.sendWebhook(`${channel.app.url}/webhooks/twilio/voice`, params, { signature: 'bm90IGEgc2lnbmF0dXJl' });
    const otherUrl = await channel.twilio.sendWebhook(`${channel.app.url}/webhooks/twilio/voice`, params, { signatureUrl: 'https://evil.example/webhooks/twilio/voice' });

    expect([forged.status, otherUrl.status]).toEqual([403, 403]);
    expect(await channel.app.services.interactions.findByExternalId(`twilio-call:${callSid}`)).toBeNull();
    expect(await channel.app.services.customers.findByIdentity({ phone: '+8613800138003' })).toBeNull();
  });

  it('when a parameter is missing, then the webhook answers 400 naming it', async () => {
    const response = await channel.webhook('/webhooks/twilio/voice', { From: '+8613800138004', To: unlistedNumber });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text).error.details).toEqual([expect.objectContaining({ field: 'body.CallSid' })]);
  });

  it('when callers withhold their number, then their calls are kept as given, flagged, on one shared customer', async () => {
    const [first, second] = [newCallSid(), newCallSid()];
    expect((await incoming(first, 'anonymous')).status).toBe(200);
    expect((await incoming(second, '+266696687')).status).toBe(200);

    const [one, two] = [await interactionOf(first), await interactionOf(second)];
    expect(one.flags).toContain('caller_withheld');
    expect(one.entries![0].data).toMatchObject({ from: 'anonymous' });
    expect(two.entries![0].data).toMatchObject({ from: '+266696687' });
    expect(two.customerId).toBe(one.customerId);
    expect(two.status).toBe('queued');
  });

  it('when a queued caller hangs up before any agent answers, then the call is abandoned with the wait recorded', async () => {
    const callSid = newCallSid();
    await incoming(callSid, '+8613800138005');
    const queuedAt = new Date((await interactionOf(callSid)).queuedAt!);
    // Twilio's Timestamp has whole seconds, so the expected wait is computed from what it carries.
    const hungUpAt = new Date(Math.floor((queuedAt.getTime() + 42_000) / 1000) * 1000);
    const expectedWait = Math.round((hungUpAt.getTime() - queuedAt.getTime()) / 1000);

    const response = await channel.webhook('/webhooks/twilio/voice/status', { CallSid: callSid, CallStatus: 'completed', CallDuration: '50', SequenceNumber: '1', Timestamp: hungUpAt.toUTCString() });

    expect(response.status).toBe(200);
    const interaction = await interactionOf(callSid);
    expect(interaction.status).toBe('abandoned');
    expect(interaction.endedAt).toBe(hungUpAt.toISOString());
    expect(expectedWait).toBeGreaterThanOrEqual(41);
    expect(interaction.entries!.at(-1)!.data).toMatchObject({ progress: 'completed', twilioStatus: 'completed', waitSeconds: expectedWait, durationSeconds: 50 });
  });

  it('when the caller presses 2 in the menu, then the choice is recorded and they wait in the after-sales queue', async () => {
    const callSid = newCallSid();
    const menu = await incoming(callSid, '+8613800138006', hotline);
    expect(menu.text).toContain(`<Gather numDigits="1" timeout="6" action="${channel.app.url}/webhooks/twilio/voice/menu?attempt=1"`);
    expect(menu.text).toContain('press 2');
    expect((await interactionOf(callSid)).status).toBe('open');

    const chosen = await channel.webhook('/webhooks/twilio/voice/menu?attempt=1', { CallSid: callSid, From: '+8613800138006', To: hotline, Digits: '2' });

    expect(chosen.text).toMatch(/<Enqueue waitUrl="[^"]+\/webhooks\/twilio\/voice\/wait"[^>]*>after-sales<\/Enqueue>/);
    const interaction = await interactionOf(callSid);
    expect(interaction).toMatchObject({ status: 'queued', queue: 'after-sales' });
    expect(interaction.queuedAt).toBeDefined();
    expect(interaction.entries!.at(-1)!.data).toMatchObject({ event: 'menu', digits: '2', valid: true, choice: 'after-sales', queue: 'after-sales' });
  });

  it('when the caller presses an invalid key and then nothing, then the menu repeats once and they go to the default queue', async () => {
    const callSid = newCallSid();
    await incoming(callSid, '+8613800138007', hotline);

    const repeat = await channel.webhook('/webhooks/twilio/voice/menu?attempt=1', { CallSid: callSid, To: hotline, Digits: '9' });
    expect(repeat.text).toContain('/webhooks/twilio/voice/menu?attempt=2');
    expect(repeat.text).not.toContain('<Enqueue');
    const fallback = await channel.webhook('/webhooks/twilio/voice/menu?attempt=2', { CallSid: callSid, To: hotline, Digits: '' });

    expect(fallback.text).toMatch(/<Enqueue[^>]*>general<\/Enqueue>/);
    const interaction = await interactionOf(callSid);
    expect(interaction).toMatchObject({ status: 'queued', queue: 'general' });
    expect(interaction.flags).toContain('ivr_no_choice');
    expect(interaction.entries!.filter((entry) => entry.data?.event === 'menu').map((entry) => entry.data?.valid)).toEqual([false, false]);
  });

  it('when a call comes in after hours, then the caller gets voicemail and the recording is stored once', async () => {
    const callSid = newCallSid();
    const recordingSid = newRecordingSid();
    const answer = await incoming(callSid, '+8613800138008', holidayLine);
    expect(answer.text).toContain('closed for the holiday');
    expect(answer.text).toMatch(new RegExp(`<Record action="${channel.app.url}/webhooks/twilio/voice/recording"[^>]*recordingStatusCallback="${channel.app.url}/webhooks/twilio/voice/recording"`));
    expect(answer.text).not.toContain('<Enqueue');

    const recordingUrl = `https://api.twilio.com/2010-04-01/Accounts/${channel.twilio.accountSid}/Recordings/${recordingSid}`;
    const action = await channel.webhook('/webhooks/twilio/voice/recording', { CallSid: callSid, RecordingSid: recordingSid, RecordingUrl: recordingUrl, RecordingDuration: '17', Digits: '#' });
    const callback = await channel.webhook('/webhooks/twilio/voice/recording', { CallSid: callSid, RecordingSid: recordingSid, RecordingUrl: recordingUrl, RecordingDuration: '17', RecordingStatus: 'completed' });
    await channel.webhook('/webhooks/twilio/voice/status', { CallSid: callSid, CallStatus: 'completed', SequenceNumber: '1' });

    expect([action.status, callback.status]).toEqual([200, 200]);
    expect(action.text).toContain('<Hangup/>');
    const interaction = await interactionOf(callSid);
    expect(interaction.status).toBe('open');
    expect(interaction.endedAt).toBeDefined();
    expect(interaction.flags).toEqual(expect.arrayContaining(['after_hours', 'voicemail', 'voicemail_left']));
    const recordings = interaction.entries!.filter((entry) => entry.kind === 'attachment');
    expect(recordings).toHaveLength(1);
    expect(recordings[0].data).toMatchObject({ event: 'voicemail', recordingSid, recordingUrl, durationSeconds: 17 });
    expect(recordings[0].attachments).toEqual([expect.objectContaining({ url: recordingUrl, contentType: 'audio/wav' })]);
  });

  it('when Twilio asks what a waiting caller hears, then their position and expected wait are announced before a pause', async () => {
    const response = await channel.webhook('/webhooks/twilio/voice/wait', { CallSid: newCallSid(), QueuePosition: '3', QueueTime: '30', AvgQueueTime: '240', CurrentQueueSize: '5' });
    expect(response.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Say>You are number 3 in line.</Say><Say>The expected wait is about 4 minutes.</Say><Pause length="20"/></Response>');
  });
});

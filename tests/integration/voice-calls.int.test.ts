import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { createUserAndLogin, request, startTestApp, type TestApp, type TestUser } from '../support/test-app';
import type { CallControlService } from '../../src/channels/voice/call-control.service';

const newCallSid = () => `CA${randomBytes(16).toString('hex')}`;
const hex32 = () => randomBytes(16).toString('hex');

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('agents and calls: connecting, click-to-call, call progress', () => {
  let channel: ChannelTestApp;
  let agent: TestUser;
  let otherAgent: TestUser;

  beforeAll(async () => {
    channel = await startChannelTestApp();
    // Connecting a queued caller without a routed offer is a supervisor's step-in (agents: tests/security/authz-voice).
    [agent, otherAgent] = await Promise.all([createUserAndLogin(channel.app, 'supervisor'), createUserAndLogin(channel.app, 'supervisor')]);
  });
  afterAll(() => channel.destroy());

  const queuedCall = async (from: string) => {
    const callSid = newCallSid();
    const answer = await channel.webhook('/webhooks/twilio/voice', { CallSid: callSid, From: from, To: '+862150009999', CallStatus: 'ringing', Direction: 'inbound' });
    expect(answer.status).toBe(200);
    const link = await channel.app.services.interactions.findByExternalId(`twilio-call:${callSid}`);
    return { callSid, interactionId: link!.interactionId };
  };
  const interaction = (id: string) => channel.app.services.interactions.getInteraction(id);

  it('when an agent accepts a queued call, then Twilio is told to dial their softphone and the call is active', async () => {
    const { callSid, interactionId } = await queuedCall('+8613900139001');

    const connected = await request(channel.app, 'POST', `/api/voice/calls/${interactionId}/connect`, { token: agent.token });

    expect(connected.status).toBe(200);
    expect(connected.body).toEqual({ interactionId, status: 'active', agentId: agent.id });
    const updates = channel.twilio.calls.get(callSid)?.updates ?? [];
    expect(updates).toHaveLength(1);
    expect(updates[0].Twiml).toContain(`<Dial><Client>agent-${agent.id}</Client></Dial>`);
    const stored = await interaction(interactionId);
    expect(stored).toMatchObject({ status: 'active', agentId: agent.id });
    expect(stored.answeredAt).toBeDefined();
    expect(stored.entries!.at(-1)).toMatchObject({ kind: 'call_event', authorId: agent.id, data: { event: 'connected' } });

    const again = await request(channel.app, 'POST', `/api/voice/calls/${interactionId}/connect`, { token: agent.token });
    const someoneElse = await request(channel.app, 'POST', `/api/voice/calls/${interactionId}/connect`, { token: otherAgent.token });
    expect(again.status).toBe(200);
    expect(someoneElse.status).toBe(409);
    expect(channel.twilio.calls.get(callSid)!.updates).toHaveLength(1);
  });

  it("when routing hands the bridge the call's id, then that call is connected; an id that is not this interaction's call is ignored", async () => {
    const calls = (channel.app.channels.find((module) => module.name === 'voice') as unknown as { calls: CallControlService }).calls;
    const hinted = await queuedCall('+8613900139011');
    const other = await queuedCall('+8613900139012');

    await calls.connectCallToAgent({ interactionId: hinted.interactionId, agentId: agent.id, externalId: `twilio-call:${hinted.callSid}` });
    await calls.connectCallToAgent({ interactionId: other.interactionId, agentId: otherAgent.id, externalId: `twilio-call:${hinted.callSid}` });

    expect(channel.twilio.calls.get(hinted.callSid)!.updates.map((update) => update.Twiml)).toEqual([expect.stringContaining(`agent-${agent.id}`)]);
    expect(channel.twilio.calls.get(other.callSid)!.updates.map((update) => update.Twiml)).toEqual([expect.stringContaining(`agent-${otherAgent.id}`)]);
    expect(await interaction(other.interactionId)).toMatchObject({ status: 'active', agentId: otherAgent.id });
  });

  it('when the caller has already hung up, then connecting answers 409 and Twilio is not called', async () => {
    const { callSid, interactionId } = await queuedCall('+8613900139002');
    await channel.webhook('/webhooks/twilio/voice/status', { CallSid: callSid, CallStatus: 'completed', SequenceNumber: '1' });

    const response = await request(channel.app, 'POST', `/api/voice/calls/${interactionId}/connect`, { token: agent.token });

    expect(response.status).toBe(409);
    expect(channel.twilio.calls.has(callSid)).toBe(false);
  });

  it('when status callbacks arrive out of order and twice, then every event is stored once and the call ends closed', async () => {
    const { callSid, interactionId } = await queuedCall('+8613900139003');
    await request(channel.app, 'POST', `/api/voice/calls/${interactionId}/connect`, { token: agent.token });
    const endedAt = new Date('2026-03-02T02:15:00Z');
    const send = (CallStatus: string, SequenceNumber: string, extra: Record<string, string> = {}) =>
      channel.webhook('/webhooks/twilio/voice/status', { CallSid: callSid, CallStatus, SequenceNumber, ...extra });

    const responses = [
      await send('completed', '3', { CallDuration: '65', Timestamp: endedAt.toUTCString() }),
      await send('ringing', '0'),
      await send('in-progress', '1'),
      await send('in-progress', '1'),
      await send('completed', '3', { CallDuration: '65', Timestamp: endedAt.toUTCString() }),
    ];

    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    const stored = await interaction(interactionId);
    expect(stored.status).toBe('closed');
    expect(stored.endedAt).toBe(endedAt.toISOString());
    const statuses = stored.entries!.filter((entry) => entry.data?.event === 'status');
    expect(statuses.map((entry) => entry.data?.twilioStatus).sort()).toEqual(['completed', 'in-progress', 'ringing']);
    expect(statuses.find((entry) => entry.data?.twilioStatus === 'completed')!.data).toMatchObject({ progress: 'completed', durationSeconds: 65, interactionStatus: 'closed' });
  });

  it('when an agent calls a customer, then Twilio gets the call and its status callbacks reach the outbound interaction', async () => {
    const customer = (await channel.app.services.customers.resolveCustomer({ phone: '+8613900139004' })).customer;

    const placed = await request(channel.app, 'POST', '/api/voice/calls', { token: agent.token, body: { customerId: customer.id } });

    expect(placed.status).toBe(202);
    const { interactionId, callSid } = placed.body as { interactionId: string; callSid: string };
    const call = channel.twilio.calls.get(callSid)!;
    expect(call).toMatchObject({ to: '+8613900139004', from: '+862150000000' });
    expect(call.twiml).toContain(`<Dial><Client>agent-${agent.id}</Client></Dial>`);
    expect(call.statusCallback).toBe(`${channel.app.url}/webhooks/twilio/voice/status?interactionId=${interactionId}`);
    const answered = await eventually(() => interaction(interactionId), (value) => value.status === 'active');
    expect(answered).toMatchObject({ customerId: customer.id, channel: 'voice', direction: 'outbound', status: 'active', agentId: agent.id });
    expect(answered.answeredAt).toBeDefined();
    const done = await eventually(() => interaction(interactionId), (value) => value.entries!.filter((entry) => entry.data?.event === 'status').length === 3);
    expect(done.entries!.filter((entry) => entry.data?.event === 'status').map((entry) => entry.data?.progress).sort()).toEqual(['answered', 'initiated', 'ringing']);
    expect(done.entries![0].data).toMatchObject({ event: 'dialing', callSid });
    expect(await channel.app.services.interactions.findByExternalId(`twilio-call:${callSid}`)).toEqual({ interactionId, entryId: done.entries![0].id });
  });

  it("when the number to call is not one of the customer's, then the call is refused with 400 naming body.to", async () => {
    const customer = (await channel.app.services.customers.resolveCustomer({ phone: '+8613900139005' })).customer;
    const callsBefore = channel.twilio.calls.size;

    const response = await request(channel.app, 'POST', '/api/voice/calls', { token: agent.token, body: { customerId: customer.id, to: '+8613900139999' } });

    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([expect.objectContaining({ field: 'body.to' })]);
    expect(channel.twilio.calls.size).toBe(callsBefore);
  });

  it('when Twilio refuses the call, then the outbound interaction is marked failed and the agent gets 503', async () => {
    const customer = (await channel.app.services.customers.resolveCustomer({ phone: '+8613900139006' })).customer;
    channel.twilio.failNext(1, 503);

    const response = await request(channel.app, 'POST', '/api/voice/calls', { token: agent.token, body: { customerId: customer.id } });

    expect(response.status).toBe(503);
    const timeline = await channel.app.services.interactions.getTimeline(customer.id, { limit: 5 });
    expect(timeline.items).toEqual([expect.objectContaining({ direction: 'outbound', status: 'failed', flags: ['dial_failed'] })]);
  });

  it('when softphone keys are not configured, then the token endpoint answers 503 naming the settings to set', async () => {
    const response = await request(channel.app, 'GET', '/api/voice/token', { token: agent.token });
    expect(response.status).toBe(503);
    expect(response.body.error.message).toContain('TWILIO_API_KEY_SID');
    expect(response.body.error.details.missing).toEqual(['TWILIO_API_KEY_SID', 'TWILIO_API_KEY_SECRET', 'TWILIO_TWIML_APP_SID']);
  });
});

describe('softphone tokens when configured', () => {
  const keySid = `SK${hex32()}`;
  const keySecret = hex32();
  const appSid = `AP${hex32()}`;
  let channel: ChannelTestApp;

  beforeAll(async () => {
    channel = await startChannelTestApp({ TWILIO_API_KEY_SID: keySid, TWILIO_API_KEY_SECRET: keySecret, TWILIO_TWIML_APP_SID: appSid });
  });
  afterAll(() => channel.destroy());

  it('when an agent asks for a token, then it is a one-hour JWT signed with the API key, carrying a VoiceGrant for agent-<id>', async () => {
    const agent = await createUserAndLogin(channel.app, 'agent');

    const response = await request(channel.app, 'GET', '/api/voice/token', { token: agent.token });

    expect(response.status).toBe(200);
    const claims = jwt.verify(response.body.token, keySecret) as jwt.JwtPayload & { grants: { identity: string; voice: { incoming: { allow: boolean }; outgoing: { application_sid: string } } } };
    expect(claims.iss).toBe(keySid);
    expect(claims.sub).toBe(channel.twilio.accountSid);
    expect(claims.grants.identity).toBe(`agent-${agent.id}`);
    expect(claims.grants.voice).toEqual({ incoming: { allow: true }, outgoing: { application_sid: appSid } });
    expect(claims.exp! - claims.iat!).toBe(3600);
  });

  it('when a department user asks for a token, then it is refused with 403', async () => {
    const parts = await channel.app.services.departments.create({ code: 'parts', name: 'Parts', timezone: 'Asia/Shanghai' });
    const department = await createUserAndLogin(channel.app, 'department', { departmentId: parts.id });
    expect((await request(channel.app, 'GET', '/api/voice/token', { token: department.token })).status).toBe(403);
  });
});

describe('voice without Twilio credentials', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ TWILIO_NUMBERS: '+862150000000' });
  });
  afterAll(() => app.destroy());

  it('when Twilio is not configured, then webhooks and the calls API answer 503 with what to set', async () => {
    const agent = await createUserAndLogin(app, 'agent');
    const customer = (await app.services.customers.resolveCustomer({ phone: '+8613900139007' })).customer;

    const webhook = await fetch(`${app.url}/webhooks/twilio/voice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `CallSid=${newCallSid()}&From=%2B8613900139007&To=%2B862150000000` });
    const placed = await request(app, 'POST', '/api/voice/calls', { token: agent.token, body: { customerId: customer.id } });

    expect(webhook.status).toBe(503);
    expect(placed.status).toBe(503);
    expect(placed.body.error.message).toContain('TWILIO_ACCOUNT_SID');
    expect((await app.services.interactions.getTimeline(customer.id, { limit: 5 })).items).toEqual([]);
  });
});

import { randomBytes, randomInt } from 'node:crypto';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { connectSocket, type TestSocket } from '../support/socket';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';
import { testQueues } from '../integration/routing-support';

const newCallSid = () => `CA${randomBytes(16).toString('hex')}`;
const newMobile = () => `+86136${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;

/** Issue 12: POST /api/voice/calls/:id/connect let any agent pull a queued caller without a reservation. */
describe('who may connect a queued caller', () => {
  let env: ChannelTestApp;
  let holder: TestUser;
  let bystander: TestUser;
  let supervisor: TestUser;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    env = await startChannelTestApp({}, { routing: { queuesConfig: testQueues(), presenceGraceMs: 300 } });
    [holder, bystander, supervisor] = [await createUserAndLogin(env.app, 'agent'), await createUserAndLogin(env.app, 'agent'), await createUserAndLogin(env.app, 'supervisor')];
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await env.destroy();
  });

  const queuedCall = async () => {
    const callSid = newCallSid();
    const answer = await env.webhook('/webhooks/twilio/voice', { CallSid: callSid, From: newMobile(), To: '+862150009999', CallStatus: 'ringing', Direction: 'inbound' });
    expect(answer.status).toBe(200);
    const link = await env.app.services.interactions.findByExternalId(`twilio-call:${callSid}`);
    return { callSid, interactionId: link!.interactionId };
  };
  const connect = (user: TestUser, interactionId: string) => request(env.app, 'POST', `/api/voice/calls/${interactionId}/connect`, { token: user.token });
  const redirects = (callSid: string) => env.twilio.calls.get(callSid)?.updates ?? [];

  // First: a caller left queued by a later test would be offered to the agent before this one.
  it('when the agent accepted the offer, then their connect answers 200 without a second bridge, and another agent is refused', async () => {
    const desk = await connectSocket(env.app.url, { token: holder.token });
    sockets.push(desk);
    expect((await desk.act('state:set', { state: 'available' })).ok).toBe(true);
    const { callSid, interactionId } = await queuedCall();
    const offer = await desk.waitFor('offer', (payload) => payload.data.reservation.interactionId === interactionId);
    expect((await desk.act('offer:accept', { reservationId: offer.data.reservation.id })).ok).toBe(true);

    const again = await connect(holder, interactionId);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ interactionId, status: 'active', agentId: holder.id });
    expect((await connect(bystander, interactionId)).status).toBe(403);
    expect(redirects(callSid).map((update) => update.Twiml)).toEqual([expect.stringContaining(`agent-${holder.id}`)]);
    await desk.act('state:set', { state: 'away' });
  }, 20_000);

  it('when an agent without a reservation connects a queued caller, then 403, Twilio is not told and the caller stays queued', async () => {
    const { callSid, interactionId } = await queuedCall();
    const response = await connect(bystander, interactionId);
    expect(response.status).toBe(403);
    expect(response.body.error).toMatchObject({ code: 'forbidden' });
    expect(redirects(callSid)).toHaveLength(0);
    expect(await env.app.services.interactions.getInteraction(interactionId)).toMatchObject({ status: 'queued' });
    expect((await env.app.services.interactions.getInteraction(interactionId)).agentId).toBeUndefined();
    // The caller hangs up, so the call leaves the queue before the next test makes an agent available.
    await env.webhook('/webhooks/twilio/voice/status', { CallSid: callSid, CallStatus: 'completed', SequenceNumber: '1' });
  });

  it('when a supervisor connects a queued caller, then the call is bridged to the supervisor', async () => {
    const { callSid, interactionId } = await queuedCall();
    const response = await connect(supervisor, interactionId);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ interactionId, status: 'active', agentId: supervisor.id });
    expect(redirects(callSid).map((update) => update.Twiml)).toEqual([expect.stringContaining(`agent-${supervisor.id}`)]);
    await env.webhook('/webhooks/twilio/voice/status', { CallSid: callSid, CallStatus: 'completed', SequenceNumber: '1' });
  });

});

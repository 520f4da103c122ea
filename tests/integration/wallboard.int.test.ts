import { randomBytes } from 'node:crypto';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { connectSocket, type TestSocket } from '../support/socket';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';
import { testQueues } from './routing-support';

/** The supervisor's live wallboard and a socket transfer, through the real app, sockets and Twilio stand-in. */
describe('wallboard snapshots and socket transfers', () => {
  let env: ChannelTestApp;
  let agent: TestUser;
  let colleague: TestUser;
  let supervisor: TestUser;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    env = await startChannelTestApp({}, { routing: { queuesConfig: testQueues() } });
    [agent, colleague, supervisor] = [await createUserAndLogin(env.app, 'agent'), await createUserAndLogin(env.app, 'agent'), await createUserAndLogin(env.app, 'supervisor')];
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await env.destroy();
  });

  const connect = async (user: TestUser) => {
    const socket = await connectSocket(env.app.url, { token: user.token });
    sockets.push(socket);
    return socket;
  };
  const general = (predicate: (data: any) => boolean) => (payload: any) => payload.data.queue === 'general' && predicate(payload.data);

  it('when an agent asks for the queue names to transfer to, then they get every configured queue, while the full wallboard view stays for supervisors', async () => {
    const names = await request(env.app, 'GET', '/api/routing/queue-names', { token: agent.token });
    expect(names.status).toBe(200);
    expect(names.body.items).toEqual(expect.arrayContaining(['general']));
    expect(names.body.items).toEqual([...names.body.items].sort());
    expect((await request(env.app, 'GET', '/api/routing/queues', { token: agent.token })).status).toBe(403);
  });

  it('when a call arrives and an agent accepts it, then supervisors see waiting 1 and then waiting 0 with one answered in service level, as the REST view does', async () => {
    const boss = await connect(supervisor);
    const desk = await connect(agent);
    const sid = `CA${randomBytes(16).toString('hex')}`;
    await env.webhook('/webhooks/twilio/voice', { CallSid: sid, AccountSid: env.twilio.accountSid, From: '+8613912349002', To: '+862159999999', CallStatus: 'ringing', Direction: 'inbound' });

    const queued = await boss.waitFor('queue_snapshot', general((data) => data.waiting === 1), 5_000);
    expect(queued.data.today).toMatchObject({ offered: 1, answered: 0, timeZone: 'Asia/Shanghai', serviceLevel: null });

    expect((await desk.act('state:set', { state: 'available' })).ok).toBe(true);
    const offer = await desk.waitFor('offer');
    expect((await desk.act('offer:accept', { reservationId: offer.data.reservation.id })).ok).toBe(true);
    const answered = await boss.waitFor('queue_snapshot', general((data) => data.waiting === 0 && data.today.answered === 1), 5_000);
    expect(answered.data).toMatchObject({ offersInFlight: 0, today: { answeredWithinServiceLevel: 1, abandoned: 0, serviceLevel: 1 } });
    expect(answered.data.agents.busy).toBeGreaterThanOrEqual(1);

    const rest = await request(env.app, 'GET', '/api/routing/queues', { token: supervisor.token });
    expect(rest.body.items.find((item: { queue: string }) => item.queue === 'general')).toMatchObject({ waiting: 0, today: { offered: 1, answered: 1, answeredWithinServiceLevel: 1, serviceLevel: 1 } });
    // Agents do not get the wallboard.
    expect(desk.received.map((item) => item.event)).not.toContain('queue_snapshot');

    // Transfer over the socket: the colleague is offered it with the note, and accepting re-bridges the live call.
    const other = await connect(colleague);
    await other.act('state:set', { state: 'available' });
    const refused = await desk.act('work:transfer', { interactionId: offer.data.reservation.interactionId, note: 'no target' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    const moved = await desk.act('work:transfer', { interactionId: offer.data.reservation.interactionId, toAgentId: colleague.id, note: 'billing question' });
    expect(moved).toMatchObject({ ok: true, data: { load: 0 } });
    const handed = await other.waitFor('offer');
    expect(handed.data.reservation.transfer).toEqual({ fromAgentId: agent.id, note: 'billing question' });
    expect((await other.act('offer:accept', { reservationId: handed.data.reservation.id })).ok).toBe(true);
    expect(env.twilio.calls.get(sid)?.twiml).toContain(`<Client>agent-${colleague.id}</Client>`);
    expect(await env.app.services.interactions.getInteraction(offer.data.reservation.interactionId)).toMatchObject({ status: 'active', agentId: colleague.id });
    // The transfer is not a second answer.
    const after = await request(env.app, 'GET', '/api/routing/queues', { token: supervisor.token });
    expect(after.body.items.find((item: { queue: string }) => item.queue === 'general').today.answered).toBe(1);
  }, 15_000);
});

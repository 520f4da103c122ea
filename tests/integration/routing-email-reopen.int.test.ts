import { randomBytes } from 'node:crypto';
import { connectSocket, type TestSocket } from '../support/socket';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';
import { eventually, sendEmail, startEmailTestApp, type EmailTestApp } from '../support/email';

/** A closed email thread that the customer answers goes back to its queue and is offered again. */
describe('a re-opened email thread', () => {
  let env: EmailTestApp;
  let agent: TestUser;
  let supervisor: TestUser;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    env = await startEmailTestApp({ EMAIL_ACKNOWLEDGE: 'true' });
    [agent, supervisor] = [await createUserAndLogin(env.app, 'agent'), await createUserAndLogin(env.app, 'supervisor')];
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await env.destroy();
  });

  const newMessageId = () => `<${randomBytes(8).toString('hex')}@mail.customer.example.cn>`;
  const waitingIn = async (queue: string) =>
    ((await request(env.app, 'GET', `/api/routing/queues/${queue}/waiting`, { token: supervisor.token })).body.items as { interactionId: string }[]).map((item) => item.interactionId);

  it('when the customer replies to a closed thread, then the interaction is queued again in the email queue and offered to an available agent', async () => {
    const from = `reopen.${randomBytes(4).toString('hex')}@customer.example.cn`;
    await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Brake noise', text: 'Squeaks when cold.', messageId: newMessageId() });
    const [first] = await eventually(async () => {
      const found = await env.emailInteractions(from);
      return found.length ? found : undefined;
    });
    const ack = await env.sink.waitFor((message) => message.envelope.rcptTo.includes(from));
    await eventually(async () => (await waitingIn('email')).includes(first.id), 5_000, 'the new thread queued');

    // Handled and closed (e.g. answered by phone): it leaves routing.
    await env.app.services.interactions.updateInteraction(first.id, { status: 'closed', endedAt: new Date() });
    await eventually(async () => !(await waitingIn('email')).includes(first.id), 5_000, 'the closed thread out of the queue');

    const desk = await connectSocket(env.app.url, { token: agent.token });
    sockets.push(desk);
    expect((await desk.act('state:set', { state: 'away', reason: 'lunch' })).ok).toBe(true);

    await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Re: Brake noise', text: 'Still squeaking.', messageId: newMessageId(), inReplyTo: ack.header('message-id')! });
    const reopened = await eventually(async () => {
      const interaction = await env.app.services.interactions.getInteraction(first.id);
      return interaction.status === 'queued' ? interaction : undefined;
    }, 5_000, 'the thread queued again');
    expect(reopened.flags).toContain('reopened_by_email');
    expect(reopened.entries?.filter((entry) => entry.direction === 'inbound').map((entry) => entry.text)).toEqual(['Squeaks when cold.', 'Still squeaking.']);
    await eventually(async () => (await waitingIn('email')).includes(first.id), 5_000, 'the re-opened thread waiting in the email queue');

    expect((await desk.act('state:set', { state: 'available' })).ok).toBe(true);
    const offer = await desk.waitFor('offer', (payload) => payload.data.reservation.interactionId === first.id);
    expect(offer.data.reservation.queue).toBe('email');
  }, 20_000);
});

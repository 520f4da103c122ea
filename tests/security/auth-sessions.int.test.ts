import { startSwitchboard, type Switchboard } from '../../src/app';
import type { Config } from '../../src/platform/config';
import { createLogger } from '../../src/platform/logger';
import { connectSocket, type TestSocket } from '../support/socket';
import { createUserAndLogin, dropTestStores, request, startTestApp, testConfig, type TestApp, type TestUser } from '../support/test-app';
import { eventually } from '../integration/routing-support';

/** Resolves with the time the socket was closed by the server, or rejects after `timeoutMs`. */
function closedWithin(client: TestSocket, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    if (!client.socket.connected) return resolve(Date.now());
    const timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    client.socket.once('disconnect', () => {
      clearTimeout(timer);
      resolve(Date.now());
    });
  });
}

/** The other node learns of the change through Redis pub/sub: milliseconds, not the 30 s of its cache. */
const refusedWithinASecond = (node: TestApp, token: string) =>
  eventually('the token refused on the other node', async () => (await request(node, 'GET', '/api/auth/me', { token })).status === 401, 1_000);

const eventsAfter = (client: TestSocket, from: number, names: string[]) => client.received.slice(from).filter((item) => names.includes(item.event));

/**
 * Two nodes on the same stores. The user cache is long (30 s) on purpose: a change made on one node
 * must reach the other node's cache and sockets through Redis at once, not when the cache expires.
 */
describe('sessions end everywhere at once when an account changes', () => {
  let config: Config;
  let nodes: TestApp[] = [];
  let admin: TestUser;
  let agent: TestUser;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    config = testConfig({ AUTH_USER_CACHE_TTL: '30s' });
    const start = async (): Promise<TestApp> => {
      const node: Switchboard = await startSwitchboard({ ...config }, { log: createLogger(config.LOG_LEVEL) });
      return { ...node, url: node.url!, destroy: () => node.close() };
    };
    nodes = [await start(), await start()];
    admin = await createUserAndLogin(nodes[0], 'admin');
    agent = await createUserAndLogin(nodes[0], 'agent');
  }, 30_000);
  afterEach(() => {
    for (const client of sockets.splice(0)) client.close();
  });
  afterAll(async () => {
    for (const node of nodes) await node.destroy();
    await dropTestStores(config);
  });

  const connect = async (user: TestUser, node = nodes[1]) => {
    const client = await connectSocket(node.url, { token: user.token });
    sockets.push(client);
    return client;
  };

  /** Supervisor events sent by node 0: an agent's state and a queue change. */
  const sendSupervisorEvents = async () => {
    await nodes[0].realtime!.deliver({ type: 'agent_state', agentId: agent.id, snapshot: { agentId: agent.id, state: 'busy' } as never });
    await nodes[0].realtime!.deliver({ type: 'queue_changed', queue: 'service' });
  };

  /** Arranges a watched supervisor and a control supervisor, both on node 1, and applies `change` on node 0. */
  const supervisorLosesWallboard = async (change: (watched: TestUser) => Promise<void>) => {
    const [watched, control] = [await createUserAndLogin(nodes[0], 'supervisor'), await createUserAndLogin(nodes[0], 'supervisor')];
    const [watchedSocket, controlSocket] = [await connect(watched), await connect(control)];
    // Node 1 has authenticated the watched supervisor (its cache holds the active user).
    expect((await request(nodes[1], 'GET', '/api/auth/me', { token: watched.token })).status).toBe(200);
    const changedAt = Date.now();
    const closed = closedWithin(watchedSocket, 1_000);
    await change(watched);
    expect((await closed) - changedAt).toBeLessThan(1_000);
    const seen = watchedSocket.received.length;
    const controlSeen = controlSocket.received.length;
    await sendSupervisorEvents();
    // The control supervisor still gets both: the events were sent, the watched one is just gone.
    await eventually('agent_state to the control supervisor', () => eventsAfter(controlSocket, controlSeen, ['agent_state']).length > 0, 3_000);
    await eventually('queue_changed to the control supervisor', () => eventsAfter(controlSocket, controlSeen, ['queue_changed']).length > 0, 3_000);
    expect(eventsAfter(watchedSocket, seen, ['agent_state', 'queue_changed', 'queue_snapshot'])).toEqual([]);
    // Its old token is refused on both nodes at once, despite node 1's 30 s cache.
    for (const node of nodes) expect((await request(node, 'GET', '/api/auth/me', { token: watched.token })).status).toBe(401);
    return watched;
  };

  it('when an admin disables a supervisor on one node, then that supervisor’s socket on the other node is closed within 1 s and gets no more wallboard events', async () => {
    await supervisorLosesWallboard(async (watched) => {
      expect((await request(nodes[0], 'PATCH', `/api/users/${watched.id}`, { token: admin.token, body: { active: false } })).status).toBe(200);
    });
  });

  it('when an admin demotes a supervisor to agent, then the socket is closed within 1 s, the old token is refused, and a new sign-in carries the new role', async () => {
    const watched = await supervisorLosesWallboard(async (user) => {
      expect((await request(nodes[0], 'PATCH', `/api/users/${user.id}`, { token: admin.token, body: { role: 'agent' } })).status).toBe(200);
    });
    const again = await request(nodes[1], 'POST', '/api/auth/login', { body: { email: watched.email, password: watched.password } });
    expect(again.status).toBe(200);
    expect(again.body.user.role).toBe('agent');
    expect((await request(nodes[1], 'GET', '/api/users', { token: again.body.token })).status).toBe(403);
  });

  it('when a user signs out everywhere, then every token of theirs is refused on every node and their sockets close; a new sign-in works', async () => {
    const user = await createUserAndLogin(nodes[0], 'agent');
    const second = await request(nodes[1], 'POST', '/api/auth/login', { body: { email: user.email, password: user.password } });
    const socket = await connect(user);
    for (const node of nodes) expect((await request(node, 'GET', '/api/auth/me', { token: user.token })).status).toBe(200);
    const closed = closedWithin(socket, 1_000);
    expect((await request(nodes[0], 'POST', '/api/auth/logout-all', { token: user.token })).status).toBe(204);
    await closed;
    for (const node of nodes) {
      for (const token of [user.token, second.body.token]) expect((await request(node, 'GET', '/api/auth/me', { token })).status).toBe(401);
    }
    const fresh = await request(nodes[1], 'POST', '/api/auth/login', { body: { email: user.email, password: user.password } });
    expect((await request(nodes[0], 'GET', '/api/auth/me', { token: fresh.body.token })).status).toBe(200);
  });

  it('when an admin signs a user out everywhere, then the user’s tokens are refused; an agent may not do it to someone else', async () => {
    const user = await createUserAndLogin(nodes[0], 'agent');
    expect((await request(nodes[0], 'POST', `/api/users/${user.id}/logout-all`, { token: agent.token })).status).toBe(403);
    expect((await request(nodes[1], 'GET', '/api/auth/me', { token: user.token })).status).toBe(200);
    expect((await request(nodes[0], 'POST', `/api/users/${user.id}/logout-all`, { token: admin.token })).status).toBe(204);
    expect((await request(nodes[0], 'GET', '/api/auth/me', { token: user.token })).status).toBe(401);
    await refusedWithinASecond(nodes[1], user.token);
  });

  it('when an admin changes a user’s password or department, then the tokens issued before are refused', async () => {
    const department = await request(nodes[0], 'POST', '/api/departments', { token: admin.token, body: { code: 'sessions-parts', name: 'Parts' } });
    const other = await request(nodes[0], 'POST', '/api/departments', { token: admin.token, body: { code: 'sessions-warranty', name: 'Warranty' } });
    const desk = await createUserAndLogin(nodes[0], 'department', { departmentId: department.body.id });
    expect((await request(nodes[1], 'GET', '/api/auth/me', { token: desk.token })).status).toBe(200);
    expect((await request(nodes[0], 'PATCH', `/api/users/${desk.id}`, { token: admin.token, body: { departmentId: other.body.id } })).status).toBe(200);
    expect((await request(nodes[0], 'GET', '/api/auth/me', { token: desk.token })).status).toBe(401);
    await refusedWithinASecond(nodes[1], desk.token);

    const user = await createUserAndLogin(nodes[0], 'agent');
    expect((await request(nodes[1], 'GET', '/api/auth/me', { token: user.token })).status).toBe(200);
    expect((await request(nodes[0], 'PATCH', `/api/users/${user.id}`, { token: admin.token, body: { password: 'a-brand-new-password' } })).status).toBe(200);
    expect((await request(nodes[0], 'GET', '/api/auth/me', { token: user.token })).status).toBe(401);
    await refusedWithinASecond(nodes[1], user.token);
  });

  it('when a user changes only their display language, then their token keeps working', async () => {
    const user = await createUserAndLogin(nodes[0], 'agent');
    expect((await request(nodes[0], 'PATCH', '/api/auth/me', { token: user.token, body: { locale: 'zh-CN' } })).status).toBe(200);
    expect((await request(nodes[1], 'GET', '/api/auth/me', { token: user.token })).status).toBe(200);
  });
});

describe('a socket ends with its token', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ AUTH_TOKEN_TTL: '2s' });
  });
  afterAll(() => app.destroy());

  it('when the token of a connected supervisor expires, then the socket is closed at expiry and gets no more wallboard events', async () => {
    const supervisor = await createUserAndLogin(app, 'supervisor');
    const socket = await connectSocket(app.url, { token: supervisor.token });
    const issuedAt = Date.now();
    try {
      const closedAt = await closedWithin(socket, 4_000);
      // jwt expiry has a 1 s resolution: the token lives 1-2 s from its sign-in.
      expect(closedAt - issuedAt).toBeLessThan(3_000);
      const seen = socket.received.length;
      await app.realtime!.deliver({ type: 'queue_changed', queue: 'service' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(eventsAfter(socket, seen, ['queue_changed', 'agent_state'])).toEqual([]);
    } finally {
      socket.close();
    }
  });
});

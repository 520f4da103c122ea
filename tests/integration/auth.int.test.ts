import { startSwitchboard, type Switchboard } from '../../src/app';
import type { Config } from '../../src/platform/config';
import { createLogger } from '../../src/platform/logger';
import { connectSocket } from '../support/socket';
import { createUserAndLogin, dropTestStores, request, startTestApp, testConfig, type TestApp, type TestUser } from '../support/test-app';
import { eventually } from './routing-support';

describe('auth and roles', () => {
  let app: TestApp;
  let admin: TestUser;
  let agent: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await createUserAndLogin(app, 'admin');
    agent = await createUserAndLogin(app, 'agent');
  });
  afterAll(() => app.destroy());

  it('when no credentials are sent, then every /api route answers 401 with a JSON error', async () => {
    for (const path of ['/api/customers?q=li', '/api/users', '/api/interactions', '/api/auth/me']) {
      const response = await request(app, 'GET', path);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('unauthenticated');
    }
  });

  it('when the token is forged or signed with another secret, then 401', async () => {
    const response = await request(app, 'GET', '/api/auth/me', { token: `${agent.token.slice(0, -4)}abcd` });
    expect(response.status).toBe(401);
  });

  it('when the password is wrong, then login answers 401 without saying whether the email exists', async () => {
    const wrong = await request(app, 'POST', '/api/auth/login', { body: { email: agent.email, password: 'not-the-password' } });
    const unknown = await request(app, 'POST', '/api/auth/login', { body: { email: 'nobody@example.com', password: 'whatever-password' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
  });

  it('when login succeeds, then the token works as Bearer and me returns the user without its hash', async () => {
    const response = await request(app, 'GET', '/api/auth/me', { token: agent.token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: agent.id, email: agent.email, role: 'agent' });
    expect(JSON.stringify(response.body)).not.toContain('argon2');
  });

  it('when an agent calls an admin route, then 403 names the roles needed', async () => {
    const response = await request(app, 'POST', '/api/users', {
      token: agent.token,
      body: { email: 'x@example.com', name: 'X', role: 'admin', password: 'long-enough-password' },
    });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('forbidden');
    expect(response.body.error.message).toContain('admin');
  });

  it('when an admin creates a department user without a department, then 400 names departmentId', async () => {
    const response = await request(app, 'POST', '/api/users', {
      token: admin.token,
      body: { email: 'parts@example.com', name: 'Parts desk', role: 'department', password: 'long-enough-password' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([expect.objectContaining({ field: 'departmentId' })]);
  });

  it('when a department user names a department that does not exist, then 400; with a real one, 201', async () => {
    const body = { email: 'warranty.desk@example.com', name: 'Warranty desk', role: 'department', password: 'long-enough-password' };
    const missing = await request(app, 'POST', '/api/users', { token: admin.token, body: { ...body, departmentId: 'a'.repeat(24) } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details[0].field).toBe('departmentId');
    const department = await request(app, 'POST', '/api/departments', { token: admin.token, body: { code: 'warranty', name: 'Warranty claims' } });
    expect(department.status).toBe(201);
    expect(department.body.timezone).toBe('Asia/Shanghai');
    const created = await request(app, 'POST', '/api/users', { token: admin.token, body: { ...body, departmentId: department.body.id } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ role: 'department', departmentId: department.body.id });
    const duplicate = await request(app, 'POST', '/api/departments', { token: admin.token, body: { code: 'warranty', name: 'Again' } });
    expect(duplicate.status).toBe(409);
    const badZone = await request(app, 'POST', '/api/departments', { token: admin.token, body: { code: 'finance', name: 'Finance', timezone: 'Mars/Olympus' } });
    expect(badZone.body.error.details[0].field).toBe('timezone');
  });

  it('when an admin disables a user, then that user’s existing token stops working at once', async () => {
    const victim = await createUserAndLogin(app, 'agent');
    // Authenticated just before, so the node has the active user at hand.
    expect((await request(app, 'GET', '/api/auth/me', { token: victim.token })).status).toBe(200);
    const disabled = await request(app, 'PATCH', `/api/users/${victim.id}`, { token: admin.token, body: { active: false } });
    expect(disabled.status).toBe(200);
    const response = await request(app, 'GET', '/api/auth/me', { token: victim.token });
    expect(response.status).toBe(401);
  });

  // A role change ends the user's sessions (token version): the socket closes, a new sign-in carries the new role.
  it('when an admin changes the role of a user with an open socket, then the socket is closed and the old token refused', async () => {
    const user = await createUserAndLogin(app, 'agent');
    const socket = await connectSocket(app.url, { token: user.token });
    try {
      expect(await socket.act('state:set', { state: 'available' })).toMatchObject({ ok: true });
      const closed = new Promise((resolve) => socket.socket.once('disconnect', resolve));
      expect((await request(app, 'PATCH', `/api/users/${user.id}`, { token: admin.token, body: { role: 'admin' } })).status).toBe(200);
      await closed;
      expect((await request(app, 'GET', '/api/auth/me', { token: user.token })).status).toBe(401);
    } finally {
      socket.close();
    }
  });

  it('when an admin disables a user with an open socket, then the socket is closed at once', async () => {
    const user = await createUserAndLogin(app, 'agent');
    const socket = await connectSocket(app.url, { token: user.token });
    try {
      expect(await socket.act('state:set', { state: 'available' })).toMatchObject({ ok: true });
      const closed = new Promise((resolve) => socket.socket.once('disconnect', resolve));
      expect((await request(app, 'PATCH', `/api/users/${user.id}`, { token: admin.token, body: { active: false } })).status).toBe(200);
      await closed;
    } finally {
      socket.close();
    }
  });

  it('when an API key is created, then it authenticates with its role, and after revocation it does not', async () => {
    const created = await request(app, 'POST', '/api/api-keys', { token: admin.token, body: { name: 'ERP', role: 'agent' } });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect((await request(app, 'GET', '/api/customers?q=zhang', { apiKey: key })).status).toBe(200);
    expect((await request(app, 'GET', '/api/users', { apiKey: key })).status).toBe(403);
    const listed = await request(app, 'GET', '/api/api-keys', { token: admin.token });
    // sb_<16 hex id>_<secret>; the secret is base64url and may itself hold '_' (so no split on it).
    const secret = key.slice('sb_'.length + 16 + 1);
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    await request(app, 'DELETE', `/api/api-keys/${created.body.apiKey.id}`, { token: admin.token });
    expect((await request(app, 'GET', '/api/customers?q=zhang', { apiKey: key })).status).toBe(401);
  });

  it('when a password is guessed repeatedly, then login is throttled with 429', async () => {
    const target = await createUserAndLogin(app, 'supervisor');
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 11; attempt += 1) {
      statuses.push((await request(app, 'POST', '/api/auth/login', { body: { email: target.email, password: `guess-${attempt}` } })).status);
    }
    expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
    const correct = await request(app, 'POST', '/api/auth/login', { body: { email: target.email, password: target.password } });
    expect(correct.status).toBe(429);
  });
});

/** Two nodes on the same stores: each keeps the users it authenticated for AUTH_USER_CACHE_TTL. */
describe('auth across nodes', () => {
  const cacheMs = 1_000;
  let config: Config;
  let nodes: TestApp[] = [];
  let admin: TestUser;

  beforeAll(async () => {
    config = testConfig({ AUTH_USER_CACHE_TTL: `${cacheMs}ms` });
    const start = async (): Promise<TestApp> => {
      // Same database, Redis prefix and token secret; another port.
      const node: Switchboard = await startSwitchboard({ ...config }, { log: createLogger(config.LOG_LEVEL) });
      return { ...node, url: node.url!, destroy: () => node.close() };
    };
    nodes = [await start(), await start()];
    admin = await createUserAndLogin(nodes[0], 'admin');
  }, 30_000);
  afterAll(async () => {
    for (const node of nodes) await node.destroy();
    await dropTestStores(config);
  });

  /** Waits until node 1 answers `status` for the request; fails after the cache time and some slack. */
  const untilNodeOneAnswers = (status: number, path: string, token: string) =>
    eventually(`status ${status} from the other node`, async () => (await request(nodes[1], 'GET', path, { token })).status === status, cacheMs + 2_000);

  it('when a user is disabled on one node, then another node that had just let them in refuses their token within the cache time', async () => {
    const user = await createUserAndLogin(nodes[0], 'agent');
    expect((await request(nodes[1], 'GET', '/api/auth/me', { token: user.token })).status).toBe(200);
    const changedAt = Date.now();
    expect((await request(nodes[0], 'PATCH', `/api/users/${user.id}`, { token: admin.token, body: { active: false } })).status).toBe(200);
    expect((await request(nodes[0], 'GET', '/api/auth/me', { token: user.token })).status).toBe(401);
    await untilNodeOneAnswers(401, '/api/auth/me', user.token);
    expect(Date.now() - changedAt).toBeLessThan(cacheMs + 2_000);
  });

  // A demotion ends the user's sessions: the old token is refused (401), not just judged by the new role.
  it('when an admin is demoted on one node, then another node that had just let them in refuses their token within the cache time', async () => {
    const demoted = await createUserAndLogin(nodes[0], 'admin');
    expect((await request(nodes[1], 'GET', '/api/users', { token: demoted.token })).status).toBe(200);
    expect((await request(nodes[0], 'PATCH', `/api/users/${demoted.id}`, { token: admin.token, body: { role: 'agent' } })).status).toBe(200);
    expect((await request(nodes[0], 'GET', '/api/users', { token: demoted.token })).status).toBe(401);
    await untilNodeOneAnswers(401, '/api/users', demoted.token);
  });
});

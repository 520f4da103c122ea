import { createUserAndLogin, request, startTestApp, type TestApp, type TestUser } from '../support/test-app';

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
    const disabled = await request(app, 'PATCH', `/api/users/${victim.id}`, { token: admin.token, body: { active: false } });
    expect(disabled.status).toBe(200);
    const response = await request(app, 'GET', '/api/auth/me', { token: victim.token });
    expect(response.status).toBe(401);
  });

  it('when an API key is created, then it authenticates with its role, and after revocation it does not', async () => {
    const created = await request(app, 'POST', '/api/api-keys', { token: admin.token, body: { name: 'ERP', role: 'agent' } });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect((await request(app, 'GET', '/api/customers?q=zhang', { apiKey: key })).status).toBe(200);
    expect((await request(app, 'GET', '/api/users', { apiKey: key })).status).toBe(403);
    const listed = await request(app, 'GET', '/api/api-keys', { token: admin.token });
    expect(JSON.stringify(listed.body)).not.toContain(key.split('_')[2]);
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

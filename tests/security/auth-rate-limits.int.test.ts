import { randomBytes } from 'node:crypto';
import { createUserAndLogin, request, startTestApp, type TestApp, type TestResponse } from '../support/test-app';

/** The test client is on loopback, which these apps trust as a proxy (TRUST_PROXY): X-Forwarded-For sets the caller's address. */
const behindProxy = { TRUST_PROXY: 'loopback' };
const login = (app: TestApp, email: string, password: string, ip = '198.51.100.1') =>
  request(app, 'POST', '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': ip } });

const unknownEmail = () => `nobody-${randomBytes(4).toString('hex')}@example.com`;

/** A refusal before any password check: 429 (a limit) or 503 (the hash cap), with Retry-After and the JSON error. */
function expectRefusedWithRetryAfter(response: TestResponse): void {
  expect([429, 503]).toContain(response.status);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(response.body.error.code).toBe(response.status === 429 ? 'rate_limited' : 'unavailable');
}

describe('login limits, with the default limits', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(behindProxy, { routing: false });
  });
  afterAll(() => app.destroy());

  it('when 30 wrong passwords for one account arrive at once, then at most 10 are checked and the rest refused with Retry-After', async () => {
    const target = await createUserAndLogin(app, 'agent');
    const responses = await Promise.all(Array.from({ length: 30 }, (_, attempt) => login(app, target.email, `guess-${attempt}`)));
    const checked = responses.filter((response) => response.status === 401);
    expect(checked.length).toBeGreaterThan(0);
    expect(checked.length).toBeLessThanOrEqual(10);
    for (const response of responses.filter((item) => item.status !== 401)) expectRefusedWithRetryAfter(response);
  });
});

describe('login limits per account and address', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ...behindProxy, AUTH_LOGIN_LIMIT_PER_ACCOUNT: '15/15m', AUTH_LOGIN_LIMIT_PER_IP: '12/15m' }, { routing: false });
  });
  afterAll(() => app.destroy());

  it('when an attacker fails 10 times on an agent’s account from one address, then that address is refused but the agent signs in from another; past the per-account limit the account is refused from everywhere', async () => {
    const agent = await createUserAndLogin(app, 'agent');
    for (let attempt = 0; attempt < 10; attempt += 1) expect((await login(app, agent.email, `guess-${attempt}`, '203.0.113.7')).status).toBe(401);
    expectRefusedWithRetryAfter(await login(app, agent.email, 'guess-10', '203.0.113.7'));
    expect((await login(app, agent.email, agent.password, '198.51.100.20')).status).toBe(200);
    // A second attacking address brings the account's failures to 15, its own limit.
    for (let attempt = 0; attempt < 5; attempt += 1) expect((await login(app, agent.email, `other-${attempt}`, '203.0.113.8')).status).toBe(401);
    const locked = await login(app, agent.email, agent.password, '198.51.100.21');
    expect(locked.status).toBe(429);
    expectRefusedWithRetryAfter(locked);
  });

  it('when one address fails on many different accounts (password spraying), then that address is refused for every account, and others are not', async () => {
    const agent = await createUserAndLogin(app, 'agent');
    for (let attempt = 0; attempt < 12; attempt += 1) expect((await login(app, unknownEmail(), 'Spring2026!', '192.0.2.50')).status).toBe(401);
    const refused = await login(app, agent.email, agent.password, '192.0.2.50');
    expect(refused.status).toBe(429);
    expectRefusedWithRetryAfter(refused);
    expect((await login(app, agent.email, agent.password, '192.0.2.51')).status).toBe(200);
  });

  it('when an agent signs in successfully many times from one office address, then those sign-ins do not count toward the address limit', async () => {
    const agent = await createUserAndLogin(app, 'agent');
    for (let attempt = 0; attempt < 14; attempt += 1) expect((await login(app, agent.email, agent.password, '192.0.2.60')).status).toBe(200);
  });
});

describe('login limits with no proxy trusted (the default)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ AUTH_LOGIN_LIMIT_PER_IP: '12/15m' }, { routing: false });
  });
  afterAll(() => app.destroy());

  it('when a client sends a different X-Forwarded-For with every guess, then its real address is counted and it is refused past the per-address limit', async () => {
    for (let attempt = 0; attempt < 12; attempt += 1) expect((await login(app, unknownEmail(), 'Spring2026!', `203.0.113.${attempt + 1}`)).status).toBe(401);
    expectRefusedWithRetryAfter(await login(app, unknownEmail(), 'Spring2026!', '203.0.113.99'));
  });
});

describe('the cap on concurrent password hashes', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ...behindProxy, AUTH_MAX_CONCURRENT_HASHES: 2 }, { routing: false });
  });
  afterAll(() => app.destroy());

  it('when more logins arrive at once than hashes may run and wait, then the excess is answered 503 with Retry-After at once, not queued', async () => {
    // 2 run and 128 wait their turn (64 per hash); requests finishing meanwhile free places, so of
    // 200 sent at once some, not exactly 70, are refused.
    const started = Date.now();
    const timed = await Promise.all(
      Array.from({ length: 200 }, async (_, index) => {
        const response = await login(app, unknownEmail(), 'wrong-password', `198.51.100.${index}`);
        return { response, ms: Date.now() - started };
      }),
    );
    const refused = timed.filter((item) => item.response.status === 503);
    const checked = timed.filter((item) => item.response.status === 401);
    expect(refused.length).toBeGreaterThan(0);
    expect(checked.length).toBeGreaterThanOrEqual(2);
    expect(refused.length + checked.length).toBe(200);
    for (const item of refused) expectRefusedWithRetryAfter(item.response);
    // Refusals do not wait for the hashes in flight.
    expect(Math.max(...refused.map((item) => item.ms))).toBeLessThan(Math.max(...checked.map((item) => item.ms)));
  });
});

describe('the waiting line for password hashes', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ...behindProxy, AUTH_MAX_CONCURRENT_HASHES: 1 }, { routing: false });
  });
  afterAll(() => app.destroy());

  it('when a few sign-ins arrive at once, more than may hash together, then each waits its turn and none is refused', async () => {
    const agents = await Promise.all(Array.from({ length: 6 }, () => createUserAndLogin(app, 'agent')));
    const answers = await Promise.all(agents.map((agent, index) => login(app, agent.email, agent.password, `198.51.100.${200 + index}`)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
  });
});

describe('the public API limit per user and key', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ API_RATE_LIMIT: '5/4s' }, { routing: false });
  });
  afterAll(() => app.destroy());

  it('when a user sends more requests than the limit in the window, then 429 with Retry-After and the JSON error; other callers are not affected; after the window it works again', async () => {
    const [agent, admin] = [await createUserAndLogin(app, 'agent'), await createUserAndLogin(app, 'admin')];
    const key = (await request(app, 'POST', '/api/api-keys', { token: admin.token, body: { name: 'erp', role: 'agent' } })).body.key as string;
    for (let call = 0; call < 5; call += 1) expect((await request(app, 'GET', '/api/auth/me', { token: agent.token })).status).toBe(200);
    const limited = await request(app, 'GET', '/api/auth/me', { token: agent.token });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(4);
    // Another user, and an API key, count on their own.
    expect((await request(app, 'GET', '/api/auth/me', { token: admin.token })).status).toBe(200);
    for (let call = 0; call < 5; call += 1) expect((await request(app, 'GET', '/api/auth/me', { apiKey: key })).status).toBe(200);
    expect((await request(app, 'GET', '/api/auth/me', { apiKey: key })).status).toBe(429);
    // Public routes are not counted per user.
    expect((await request(app, 'GET', '/healthz')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1_000 + 100));
    expect((await request(app, 'GET', '/api/auth/me', { token: agent.token })).status).toBe(200);
  });
});

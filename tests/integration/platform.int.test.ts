import { request, startTestApp, type TestApp, createUserAndLogin } from '../support/test-app';

describe('platform', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.destroy());

  it('when the process is up, then /healthz answers without auth', async () => {
    const response = await request(app, 'GET', '/healthz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('when Mongo and Redis answer, then /readyz is ready and names both checks', async () => {
    const response = await request(app, 'GET', '/readyz');
    expect(response.status).toBe(200);
    expect(response.body.checks).toEqual({ mongo: 'ok', redis: 'ok' });
  });

  it('when a request carries an X-Request-Id, then the response echoes it; otherwise one is made', async () => {
    const echoed = await request(app, 'GET', '/healthz', { headers: { 'x-request-id': 'req-12345678' } });
    expect(echoed.headers.get('x-request-id')).toBe('req-12345678');
    const made = await request(app, 'GET', '/healthz');
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('when a route does not exist, then 404 has the standard error body', async () => {
    const response = await request(app, 'GET', '/api/nope');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { code: 'not_found', message: 'No route for GET /api/nope' } });
  });

  it('when the body is not JSON, then 400 names the body', async () => {
    const response = await request(app, 'POST', '/api/auth/login', { rawBody: '{"email":', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([{ field: 'body', message: 'is not valid JSON' }]);
  });

  it('when the OpenAPI document is fetched, then it describes the validated routes and their schemas', async () => {
    const response = await request(app, 'GET', '/api/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    const login = response.body.paths['/api/auth/login'].post;
    expect(login.requestBody.content['application/json'].schema.required).toEqual(['email', 'password']);
    const timeline = response.body.paths['/api/customers/{id}/timeline'].get;
    expect(timeline.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(['id', 'cursor', 'limit', 'channel', 'include']);
    expect(timeline.responses['401']).toBeDefined();
    const docs = await request(app, 'GET', '/api/docs/');
    expect(docs.status).toBe(200);
    expect(String(docs.body)).toContain('swagger');
  });

  // Degraded, not dead (issue 13): without Redis the node still stores contacts, so it stays in the balancer.
  it('when Redis goes down, then /readyz answers 200 degraded naming redis while /healthz stays up', async () => {
    const agent = await createUserAndLogin(app, 'agent');
    expect(agent.token).toBeTruthy();
    app.redis.disconnect();
    const response = await request(app, 'GET', '/readyz');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'degraded', down: ['redis'] });
    expect(response.body.checks).toEqual({ mongo: 'ok', redis: 'down' });
    expect((await request(app, 'GET', '/healthz')).status).toBe(200);
    await app.redis.connect();
    expect((await request(app, 'GET', '/readyz')).status).toBe(200);
  });
});

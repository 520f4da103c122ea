import { startSwitchboard, type Switchboard } from '../../src/app';
import type { Config } from '../../src/platform/config';
import { createLogger } from '../../src/platform/logger';
import { createUserAndLogin, dropTestStores, request, testConfig, type TestApp, type TestUser } from '../support/test-app';
import { eventually } from '../integration/routing-support';

describe('API keys', () => {
  let config: Config;
  let nodes: TestApp[] = [];
  let admin: TestUser;

  beforeAll(async () => {
    config = testConfig({ AUTH_USER_CACHE_TTL: '30s' });
    const start = async (): Promise<TestApp> => {
      const node: Switchboard = await startSwitchboard({ ...config }, { log: createLogger(config.LOG_LEVEL), routing: false });
      return { ...node, url: node.url!, destroy: () => node.close() };
    };
    nodes = [await start(), await start()];
    admin = await createUserAndLogin(nodes[0], 'admin');
  }, 30_000);
  afterAll(async () => {
    for (const node of nodes) await node.destroy();
    await dropTestStores(config);
  });

  const createKey = (body: Record<string, unknown>) => request(nodes[0], 'POST', '/api/api-keys', { token: admin.token, body });

  it('when an admin creates a key without a role, then 400 names the role and no key is made', async () => {
    const response = await createKey({ name: 'erp' });
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([expect.objectContaining({ field: 'body.role' })]);
    const listed = await request(nodes[0], 'GET', '/api/api-keys', { token: admin.token });
    expect(listed.body.items.filter((key: { name: string }) => key.name === 'erp')).toEqual([]);
  });

  it('when a key is limited to departments, then the departments must exist, and the key carries them', async () => {
    const unknown = await createKey({ name: 'dealer', role: 'integration', departmentIds: ['a'.repeat(24)] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details[0].field).toBe('departmentIds');
    const department = await request(nodes[0], 'POST', '/api/departments', { token: admin.token, body: { code: 'keys-dealer', name: 'Dealer network' } });
    // Only the task API honours the limit, so only integration keys take one.
    const agentKey = await createKey({ name: 'dealer', role: 'agent', departmentIds: [department.body.id] });
    expect(agentKey.status).toBe(400);
    expect(agentKey.body.error.details[0].field).toBe('body.departmentIds');
    const created = await createKey({ name: 'dealer', role: 'integration', departmentIds: [department.body.id] });
    expect(created.status).toBe(201);
    expect(created.body.apiKey.departmentIds).toEqual([department.body.id]);
    const me = await request(nodes[1], 'GET', '/api/auth/me', { apiKey: created.body.key });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: 'api_key', role: 'integration', departmentIds: [department.body.id] });
    const unlimited = await createKey({ name: 'all-departments', role: 'integration' });
    expect((await request(nodes[1], 'GET', '/api/auth/me', { apiKey: unlimited.body.key })).body.departmentIds).toBeUndefined();
  });

  it('when a key is used many times in a minute, then its last-used time is recorded once, not on every request', async () => {
    const created = await createKey({ name: 'busy', role: 'agent' });
    const lastUsed = async () =>
      ((await request(nodes[0], 'GET', '/api/api-keys', { token: admin.token })).body.items as { id: string; lastUsedAt?: string }[]).find((key) => key.id === created.body.apiKey.id)?.lastUsedAt;
    expect(await lastUsed()).toBeUndefined();
    expect((await request(nodes[0], 'GET', '/api/auth/me', { apiKey: created.body.key })).status).toBe(200);
    const first = await eventually('a last-used time', lastUsed);
    expect(Date.now() - Date.parse(first)).toBeLessThan(5_000);
    for (let use = 0; use < 5; use += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await request(nodes[use % 2], 'GET', '/api/auth/me', { apiKey: created.body.key })).status).toBe(200);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await lastUsed()).toBe(first);
  });

  it('when a key is revoked on one node, then the other node refuses it at once', async () => {
    const created = await createKey({ name: 'revoked', role: 'agent' });
    expect((await request(nodes[1], 'GET', '/api/auth/me', { apiKey: created.body.key })).status).toBe(200);
    expect((await request(nodes[0], 'DELETE', `/api/api-keys/${created.body.apiKey.id}`, { token: admin.token })).status).toBe(200);
    const refused = await request(nodes[1], 'GET', '/api/auth/me', { apiKey: created.body.key });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('unauthenticated');
  });
});

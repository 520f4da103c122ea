import { seedDemoTenant } from '../../scripts/seed';
import { demoUsers } from '../../scripts/seed-data';
import { startSwitchboard, type Switchboard } from '../../src/app';
import type { Config } from '../../src/platform/config';
import { createLogger } from '../../src/platform/logger';
import { dropTestStores, request, testConfig } from '../support/test-app';

const demoAdmin = demoUsers.find((user) => user.role === 'admin')!;

/** One database: a real (non-demo) node runs while the demo is started on it and seeds its accounts. */
describe('demo accounts outside demo mode', () => {
  let config: Config;
  const started: Switchboard[] = [];
  const start = async (overrides: Partial<Config> = {}) => {
    const app = await startSwitchboard({ ...config, ...overrides }, { log: createLogger(config.LOG_LEVEL), routing: false });
    started.push(app);
    return app as Switchboard & { url: string };
  };
  const signInAsDemoAdmin = (app: { url: string }) => request(app, 'POST', '/api/auth/login', { body: { email: demoAdmin.email, password: demoAdmin.password } });

  beforeAll(() => {
    config = testConfig();
  });
  afterAll(async () => {
    for (const app of started) await app.close();
    await dropTestStores(config);
  });

  it('when the demo seeded its accounts into a database, then a node not in demo mode refuses their published passwords, and refuses to start until they are removed', async () => {
    const real = await start();
    const demo = await start({ DEMO: true });
    await seedDemoTenant(demo.services, { customers: 2, log: demo.log.child({}, { level: 'warn' }) });
    expect((await signInAsDemoAdmin(demo)).status).toBe(200);

    const refused = await signInAsDemoAdmin(real);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('unauthenticated');

    await expect(start()).rejects.toThrow(/demo accounts.*npm run demo:remove-accounts/s);
    // Demo mode itself still starts on it.
    await (await start({ DEMO: true })).close();

    const removed = await real.services.auth.removeDemoAccounts();
    expect(removed).toBe(demoUsers.length);
    expect((await real.services.auth.listUsers({})).filter((user) => user.email.endsWith('@demo.switchboard.local'))).toEqual([]);
    const afterwards = await start();
    expect((await signInAsDemoAdmin(afterwards)).status).toBe(401);
  }, 60_000);
});

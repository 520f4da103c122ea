/**
 * `npm run demo`: runs Switchboard in demo mode (fixed demo passwords, no AUTH_TOKEN_SECRET
 * needed), seeds the demo tenant once, and prints who can sign in.
 */
import { startSwitchboard } from '../src/app';
import { configOrExit, runUntilSignalled } from '../src/main';
import { demoUsers, seedDemoTenant } from './seed';

const config = configOrExit({ DEMO: '1' });
const customers = config.DEMO_CUSTOMERS;

void runUntilSignalled(async () => {
  const app = await startSwitchboard(config);
  const started = Date.now();
  let lastReported = 0;
  const result = await seedDemoTenant(app.services, {
    customers,
    log: app.log.child({ module: 'seed' }),
    onProgress: (done, total) => {
      if (done - lastReported >= 200 || done === total) {
        lastReported = done;
        process.stdout.write(`  seeding demo tenant: ${done}/${total} customers\n`);
      }
    },
  });
  const seeded = result.seeded
    ? `seeded ${result.customers} customers and ${result.interactions} interactions in ${((Date.now() - started) / 1000).toFixed(1)} s`
    : 'demo tenant already seeded';
  const width = Math.max(...demoUsers.map((user) => user.email.length));
  process.stdout.write(
    [
      '',
      `Switchboard demo is running at ${app.url} (${seeded}).`,
      `  API docs:  ${app.url}/api/docs`,
      '  Demo users (demo mode only; these passwords do not exist outside it):',
      ...demoUsers.map((user) => `    ${user.role.padEnd(10)} ${user.email.padEnd(width)}  ${user.password}${user.department ? `  (${user.department})` : ''}`),
      '  Stop with Ctrl+C.',
      '',
    ].join('\n'),
  );
  return app;
});

/**
 * `npm run demo`: Switchboard in demo mode with everything it talks to running locally.
 *
 * - Twilio and mail servers cannot be reached here, so unless real TWILIO_* / SMTP_OUT_URL are set,
 *   the demo starts the local stand-ins (a Twilio-like REST API and an SMTP sink) and points the
 *   real SDKs at them.
 * - It seeds the demo tenant once (customers, their history, 14 days of follow-up tasks, and the
 *   report rollups of those days), prints who can sign in, and then plays live traffic (calls,
 *   texts, emails from seeded customers, and now and then a customer answering about a task)
 *   through signed webhooks and SMTP, as Twilio and mail servers would, so the log keeps moving.
 *   Agents and departments are left to the people in the browser.
 */
import { startSwitchboard, type Services, type Switchboard } from '../src/app';
import { configOrExit, runUntilSignalled } from '../src/main';
import { loadConfig } from '../src/platform/config';
import type { Principal } from '../src/platform/http/principal';
import { demoCustomer, demoUsers } from './seed-data';
import { demoTaskCount, seedDemoTenant } from './seed';
import { rebuildSeededReports, seedDemoTasks } from './seed-tasks';
import { runSimulation, type CustomerFollowUp, type SimulationEvent } from './simulate';
import { startSmtpSink, type SmtpSink } from './standins/smtp-sink';
import { standinCredentials, startTwilioStandin, type TwilioStandin } from './standins/twilio-standin';

const demoNumber = '+862150000000';

// Reads only (the task lists): the traffic plays customers, never staff.
const trafficReader: Principal = { kind: 'user', id: 'demo-traffic', role: 'supervisor', name: 'Demo traffic' };
const reopenTexts = ['About {reference}: the problem is back, can you check again?', '关于{reference}，问题又出现了。', 'Re {reference}: still not fixed, sorry.'];

/**
 * Something a customer would now say about a task: YES to a verification question we texted them
 * (a task resolved and notified by SMS), else, now and then, a text quoting a resolved task.
 */
async function nextFollowUp(services: Services): Promise<CustomerFollowUp | null> {
  const resolved = await services.tasks.listTasks({ statuses: ['resolved'], sort: '-updatedAt', limit: 50 }, trafficReader);
  const phoneOf = async (customerId: string) => (await services.customers.getCustomer(customerId)).phones.find((phone) => phone.kind === 'e164')?.value;
  for (const listed of resolved.slice(0, 10)) {
    const task = await services.tasks.findTask(listed.id);
    const askedBySms = task?.history?.some((entry) => entry.action === 'customer_notified' && entry.data?.kind === 'resolved' && entry.data.channel === 'sms');
    const phone = askedBySms ? await phoneOf(listed.customerId) : undefined;
    if (phone) return { kind: 'verify', phone, text: 'YES' };
  }
  if (!resolved.length || Math.random() > 0.3) return null;
  const task = resolved[Math.floor(Math.random() * resolved.length)];
  const phone = await phoneOf(task.customerId);
  const text = reopenTexts[Math.floor(Math.random() * reopenTexts.length)].replace('{reference}', task.reference);
  return phone ? { kind: 'reopen', phone, text } : null;
}

async function startDemo(): Promise<Switchboard> {
  // Read once without overrides to learn what the operator configured for real.
  const configured = configOrExit({ DEMO: '1' });
  let twilio: TwilioStandin | undefined;
  let sink: SmtpSink | undefined;
  const overrides: Record<string, string> = { DEMO: '1' };
  if (!configured.TWILIO_AUTH_TOKEN) {
    twilio = await startTwilioStandin(standinCredentials());
    Object.assign(overrides, {
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_NUMBERS: configured.TWILIO_NUMBERS || demoNumber,
      PUBLIC_BASE_URL: `http://127.0.0.1:${configured.PORT}`,
    });
  }
  if (!configured.SMTP_OUT_URL) {
    sink = await startSmtpSink();
    overrides.SMTP_OUT_URL = sink.url;
  }
  const config = loadConfig(process.env, overrides);
  const app = await startSwitchboard(config);

  const started = Date.now();
  let lastReported = 0;
  const result = await seedDemoTenant(app.services, {
    customers: config.DEMO_CUSTOMERS,
    log: app.log.child({ module: 'seed' }),
    onProgress: (done, total) => {
      if (done - lastReported >= 100 || done === total) {
        lastReported = done;
        process.stdout.write(`  seeding the demo tenant: ${done}/${total} customers\n`);
      }
    },
  });
  // The seed's interactions went through the running app's report listeners; let them finish before the rebuild.
  await app.reports.settle();
  const tasks = await seedDemoTasks(
    { config, mongo: app.mongo, redis: app.redis, log: app.log.child({ module: 'seed-tasks' }, { level: 'warn' }) },
    {
      customers: config.DEMO_CUSTOMERS,
      tasks: demoTaskCount,
      onProgress: (done, total) => {
        if (done % 50 === 0 || done === total) process.stdout.write(`  seeding follow-up tasks: ${done}/${total}\n`);
      },
    },
  );
  if (tasks.created || tasks.steps) {
    process.stdout.write(`  rebuilding report rollups ${tasks.fromDay} … ${tasks.toDay}\n`);
    await rebuildSeededReports(app.reports, tasks, (line) => process.stdout.write(`  ${line}\n`));
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const seeded = result.seeded
    ? `seeded ${result.customers} customers, ${result.interactions} interactions and ${tasks.created} follow-up tasks in ${seconds} s`
    : tasks.created
      ? `demo tenant already seeded; added ${tasks.created} follow-up tasks in ${seconds} s`
      : 'demo tenant already seeded';

  let stopTraffic: () => void = () => undefined;
  const trafficStopped = new Promise<void>((resolve) => {
    stopTraffic = resolve;
  });
  const counts = { call: 0, sms: 0, email: 0, reply: 0, failed: 0 };
  if (config.DEMO_TRAFFIC_PER_MINUTE > 0 && config.TWILIO_AUTH_TOKEN && config.TWILIO_ACCOUNT_SID && config.DEMO_CUSTOMERS > 0) {
    const now = Date.now();
    const customers = Array.from({ length: Math.min(config.DEMO_CUSTOMERS, 200) }, (_, index) => demoCustomer(index, now));
    void runSimulation({
      baseUrl: app.url!,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      authToken: config.TWILIO_AUTH_TOKEN,
      accountSid: config.TWILIO_ACCOUNT_SID,
      smtpHost: '127.0.0.1',
      smtpPort: config.SMTP_PORT,
      supportEmail: config.SUPPORT_EMAIL,
      ourNumber: config.TWILIO_NUMBERS.split(',')[0]?.trim() || demoNumber,
      customers: customers.map((customer) => ({ phone: customer.phone, email: customer.email, name: customer.name })),
      rate: config.DEMO_TRAFFIC_PER_MINUTE / 60,
      durationSeconds: 365 * 24 * 3600,
      stop: trafficStopped,
      // Gentle: a customer answers about a task a few times a minute at most.
      followUps: { perMinute: Math.min(3, Math.max(1, config.DEMO_TRAFFIC_PER_MINUTE / 4)), next: () => nextFollowUp(app.services) },
      onEvent: (event: SimulationEvent) => {
        counts[event.kind] += 1;
        if (!event.ok) {
          counts.failed += 1;
          app.log.warn({ kind: event.kind, status: event.status }, 'demo traffic event failed');
        }
      },
    });
  }
  // The stand-ins keep what they received for inspection; a long demo should not grow without bound.
  const trim = setInterval(() => {
    twilio?.messages.splice(0, Math.max(0, twilio.messages.length - 500));
    sink?.messages.splice(0, Math.max(0, sink.messages.length - 500));
    process.stdout.write(`  demo traffic so far: ${counts.call} calls, ${counts.sms} texts, ${counts.email} emails, ${counts.reply} task replies (${counts.failed} failed)\n`);
  }, 60_000);
  trim.unref();

  const width = Math.max(...demoUsers.map((user) => user.email.length));
  process.stdout.write(
    [
      '',
      `Switchboard demo is running at ${app.url} (${seeded}).`,
      `  API docs:        ${app.url}/api/docs`,
      `  Twilio:          ${twilio ? `local stand-in at ${twilio.url} (our number ${overrides.TWILIO_NUMBERS})` : 'your configured account'}`,
      `  Outbound mail:   ${sink ? `local SMTP sink at ${sink.url}` : 'your configured SMTP_OUT_URL'}; inbound SMTP on port ${config.SMTP_PORT}`,
      `  Live traffic:    ${config.DEMO_TRAFFIC_PER_MINUTE > 0 ? `${config.DEMO_TRAFFIC_PER_MINUTE} contacts per minute (DEMO_TRAFFIC_PER_MINUTE=0 turns it off)` : 'off'}`,
      '  Demo users (demo mode only; these passwords do not exist outside it):',
      ...demoUsers.map((user) => `    ${user.role.padEnd(10)} ${user.email.padEnd(width)}  ${user.password}`),
      '  Stop with Ctrl+C.',
      '',
    ].join('\n'),
  );

  const close = app.close;
  return {
    ...app,
    close: async () => {
      stopTraffic();
      clearInterval(trim);
      await close();
      await twilio?.close();
      await sink?.close();
    },
  };
}

void runUntilSignalled(startDemo);

/**
 * Traffic simulator: plays calls, texts and emails from many customers against a running
 * Switchboard through the real protocols — Twilio-signed webhooks and SMTP. Used by the demo and
 * the benchmarks; run it by hand against any instance:
 *
 *   npm run simulate -- --base-url http://127.0.0.1:3000 --rate 2 --duration 60
 *
 * Webhooks are signed with TWILIO_AUTH_TOKEN for PUBLIC_BASE_URL, exactly as Twilio would sign them.
 * Given `followUps`, customers also answer what the service sent them (a reply quoting a finished
 * task's reference, a YES to "is it solved?"); the simulator never acts as an agent or a department.
 */
import { randomBytes } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { signTwilioWebhook } from '../src/channels/twilio/twilio-webhook';

export interface SimulatedCustomer {
  phone: string;
  email?: string;
  name?: string;
}

export interface SimulationOptions {
  /** Where requests are sent (the local address of Switchboard). */
  baseUrl: string;
  /** The URL Twilio signs for (PUBLIC_BASE_URL); usually the same as baseUrl. */
  publicBaseUrl: string;
  authToken: string;
  accountSid: string;
  smtpHost: string;
  smtpPort: number;
  supportEmail: string;
  /** Our Twilio number that customers call and text. */
  ourNumber: string;
  customers: readonly SimulatedCustomer[];
  /** Contacts started per second. */
  rate: number;
  durationSeconds: number;
  onEvent?: (event: SimulationEvent) => void;
  /** Stops the run early when it resolves. */
  stop?: Promise<void>;
  /** Customer answers to follow-up tasks, `perMinute` times a minute at most; `next` finds one (or none now). */
  followUps?: { perMinute: number; next(): Promise<CustomerFollowUp | null> };
}

/** A customer's text about a follow-up task: quoting its reference (which reopens it), or YES to the verification question. */
export interface CustomerFollowUp {
  kind: 'reopen' | 'verify';
  phone: string;
  text: string;
}

export interface SimulationEvent {
  kind: 'call' | 'sms' | 'email' | 'reply';
  ok: boolean;
  status?: number;
  latencyMs: number;
  error?: string;
}

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;
const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const smsTexts = [
  'Hi, my Tiggo 7 shows an engine warning light, can someone call me?',
  'When will the windshield for my Arrizo 8 arrive?',
  '你好，我的车保养预约可以改到周六吗？',
  'Is the infotainment update available for Omoda 5?',
  'Thanks, the car is fixed.',
  'I need roadside assistance near Wuhu, battery is flat',
];

const emailSubjects = [
  'Warranty claim: gearbox noise',
  'Parts availability for front bumper',
  'Service appointment booking',
  'Invoice question for last service',
  '关于保修索赔的问题',
];

/** Posts one Twilio-signed form webhook. */
export async function postSignedWebhook(options: Pick<SimulationOptions, 'baseUrl' | 'publicBaseUrl' | 'authToken'>, path: string, params: Record<string, string>): Promise<Response> {
  const signature = signTwilioWebhook(options.authToken, `${options.publicBaseUrl.replace(/\/$/, '')}${path}`, params);
  return fetch(`${options.baseUrl.replace(/\/$/, '')}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
  });
}

async function timed(kind: SimulationEvent['kind'], work: () => Promise<number | undefined>): Promise<SimulationEvent> {
  const started = performance.now();
  try {
    const status = await work();
    return { kind, ok: status === undefined || status < 400, status, latencyMs: performance.now() - started };
  } catch (error) {
    return { kind, ok: false, latencyMs: performance.now() - started, error: (error as Error).message };
  }
}

/** An inbound text, as Twilio delivers it. */
export function simulateSms(options: SimulationOptions, customer: SimulatedCustomer, body = pick(smsTexts), kind: 'sms' | 'reply' = 'sms'): Promise<SimulationEvent> {
  return timed(kind, async () => {
    const response = await postSignedWebhook(options, '/webhooks/twilio/sms', {
      MessageSid: sid('SM'), SmsSid: sid('SM'), AccountSid: options.accountSid, From: customer.phone, To: options.ourNumber, Body: body, NumMedia: '0', NumSegments: '1', ApiVersion: '2010-04-01',
    });
    await response.arrayBuffer();
    return response.status;
  });
}

/** An inbound call: the incoming-call webhook, then progress callbacks; some callers hang up while waiting. */
export function simulateCall(options: SimulationOptions, customer: SimulatedCustomer): Promise<SimulationEvent> {
  return timed('call', async () => {
    const callSid = sid('CA');
    const base = { CallSid: callSid, AccountSid: options.accountSid, From: customer.phone, To: options.ourNumber, Direction: 'inbound', ApiVersion: '2010-04-01' };
    const incoming = await postSignedWebhook(options, '/webhooks/twilio/voice', { ...base, CallStatus: 'ringing' });
    await incoming.arrayBuffer();
    if (incoming.status >= 400) return incoming.status;
    void (async () => {
      await sleep(500 + Math.random() * 3000);
      const abandoned = Math.random() < 0.2;
      const final = abandoned ? { CallStatus: 'completed', CallDuration: '20', SequenceNumber: '2' } : { CallStatus: 'completed', CallDuration: String(60 + Math.floor(Math.random() * 400)), SequenceNumber: '2' };
      await postSignedWebhook(options, '/webhooks/twilio/voice/status', { ...base, ...final, Timestamp: new Date().toUTCString() }).then((response) => response.arrayBuffer()).catch(() => undefined);
    })();
    return incoming.status;
  });
}

let transport: Transporter | undefined;

/** An inbound email through our SMTP listener. */
export function simulateEmail(options: SimulationOptions, customer: SimulatedCustomer): Promise<SimulationEvent> {
  return timed('email', async () => {
    transport ??= nodemailer.createTransport({ host: options.smtpHost, port: options.smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 4 });
    const subject = pick(emailSubjects);
    await transport.sendMail({
      from: customer.name ? `"${customer.name}" <${customer.email}>` : customer.email,
      to: options.supportEmail,
      subject,
      text: `Hello,\n\n${pick(smsTexts)}\n\nBest regards\n${customer.name ?? ''}`,
    });
    return undefined;
  });
}

/** Runs a mixed stream of contacts at `rate` per second for `durationSeconds`. */
export async function runSimulation(options: SimulationOptions): Promise<SimulationEvent[]> {
  const events: SimulationEvent[] = [];
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  void options.stop?.then(() => {
    stopped = true;
  });
  const deadline = Date.now() + options.durationSeconds * 1000;
  const interval = 1000 / options.rate;
  const track = (run: Promise<SimulationEvent>) => {
    const tracked = run.then((event) => {
      events.push(event);
      options.onEvent?.(event);
    });
    inFlight.add(tracked);
    void tracked.finally(() => inFlight.delete(tracked));
  };
  const followUps = options.followUps;
  if (followUps && followUps.perMinute > 0) {
    // A pause that ends early on stop, so stopping never waits out a long gap between replies.
    const pause = () => Promise.race([new Promise((resolve) => setTimeout(resolve, 60_000 / followUps.perMinute).unref()), options.stop]);
    const replies = (async () => {
      await pause();
      while (!stopped && Date.now() < deadline) {
        const followUp = await followUps.next().catch(() => null);
        if (followUp && !stopped) track(simulateSms(options, { phone: followUp.phone }, followUp.text, 'reply'));
        await pause();
      }
    })();
    inFlight.add(replies);
    void replies.finally(() => inFlight.delete(replies));
  }
  while (!stopped && Date.now() < deadline) {
    const customer = pick(options.customers);
    const roll = Math.random();
    track(roll < 0.4 || !customer.email ? (roll < 0.2 ? simulateCall(options, customer) : simulateSms(options, customer)) : roll < 0.7 ? simulateSms(options, customer) : simulateEmail(options, customer));
    await sleep(interval);
  }
  await Promise.all(inFlight);
  transport?.close();
  transport = undefined;
  return events;
}

/** A pool of plausible customers when none are given (Chinese mobiles, some with email). */
export function syntheticCustomers(count: number): SimulatedCustomer[] {
  return Array.from({ length: count }, (_, index) => ({
    phone: `+86139${String(10_000_000 + index).slice(-8)}`,
    ...(index % 2 === 0 ? { email: `sim.customer${index}@example.cn`, name: `Sim Customer ${index}` } : {}),
  }));
}

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

async function main(): Promise<void> {
  const { loadConfig } = await import('../src/platform/config');
  const config = loadConfig(process.env, { NODE_ENV: 'test' });
  if (!config.TWILIO_AUTH_TOKEN || !config.TWILIO_ACCOUNT_SID) {
    throw new Error('Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to the values the target Switchboard uses, so webhooks can be signed');
  }
  const baseUrl = argument('base-url', `http://127.0.0.1:${config.PORT}`);
  const counts = { call: 0, sms: 0, email: 0, reply: 0, failed: 0 };
  const started = Date.now();
  const events = await runSimulation({
    baseUrl,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    authToken: config.TWILIO_AUTH_TOKEN,
    accountSid: config.TWILIO_ACCOUNT_SID,
    smtpHost: argument('smtp-host', '127.0.0.1'),
    smtpPort: Number(argument('smtp-port', String(config.SMTP_PORT))),
    supportEmail: config.SUPPORT_EMAIL,
    ourNumber: config.TWILIO_NUMBERS.split(',')[0]?.trim() || '+862150000000',
    customers: syntheticCustomers(Number(argument('customers', '200'))),
    rate: Number(argument('rate', '2')),
    durationSeconds: Number(argument('duration', '30')),
    onEvent: (event) => {
      counts[event.kind] += 1;
      if (!event.ok) counts.failed += 1;
      const total = counts.call + counts.sms + counts.email;
      if (total % 20 === 0) process.stdout.write(`  ${total} contacts (${counts.call} calls, ${counts.sms} texts, ${counts.email} emails, ${counts.failed} failed) in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    },
  });
  const failed = events.filter((event) => !event.ok);
  process.stdout.write(`Done: ${events.length} contacts, ${failed.length} failed.\n`);
  if (failed.length) process.stdout.write(`First failure: ${failed[0].kind} status=${failed[0].status ?? '-'} ${failed[0].error ?? ''}\n`);
  process.exit(failed.length ? 1 : 0);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`simulate: ${(error as Error).message}\n`);
    process.exit(1);
  });
}

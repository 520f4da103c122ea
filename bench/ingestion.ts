import { randomBytes } from 'node:crypto';
import { freePort } from '../scripts/standins/free-port';
import { resetStores } from './stores';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { startSwitchboard, type Switchboard } from '../src/app';
import type { EmailChannel } from '../src/channels/email';
import type { Config } from '../src/platform/config';
import type { Logger } from '../src/platform/logger';
import { postSignedWebhook } from '../scripts/simulate';
import { startSmtpSink, type SmtpSink } from '../scripts/standins/smtp-sink';
import { standinCredentials, startTwilioStandin, type TwilioStandin } from '../scripts/standins/twilio-standin';
import { describeMachine, type Machine } from './report';
import { summarize, type LatencySummary } from './stats';

/**
 * The ingestion group of `npm run bench`: inbound SMS as Twilio-signed webhooks and inbound email
 * through the SMTP listener, sent with a fixed number of requests in flight against the whole app
 * (started in-process, Twilio stand-in and SMTP sink instead of the network), in a database of its
 * own that is dropped first. Every row is checked against the store afterwards: each message is
 * recorded exactly once.
 */

export interface IngestionOptions {
  database: string;
  /** Distinct inbound texts per SMS row. */
  sms: number;
  /** One SMS row per value: requests in flight. */
  smsConcurrency: number[];
  /** Phone numbers the texts come from (created up front, so every row takes the known-customer path). */
  smsCustomers: number;
  /** The idempotency row: `replaySids` MessageSids, each sent `replays` times. */
  replaySids: number;
  replays: number;
  replayConcurrency: number;
  emails: number;
  emailSenders: number;
  /** Pooled SMTP connections, and sendMail calls in flight. */
  emailConnections: number;
  emailConcurrency: number;
  /** Per row: no new request starts after this many seconds (the row is then marked cut short). */
  maxSeconds: number;
  progress(line: string): void;
}

export const defaultIngestion: Omit<IngestionOptions, 'database' | 'progress'> = {
  sms: 2000,
  smsConcurrency: [8, 32],
  smsCustomers: 500,
  replaySids: 100,
  replays: 20,
  replayConcurrency: 32,
  emails: 500,
  emailSenders: 100,
  emailConnections: 4,
  emailConcurrency: 4,
  maxSeconds: 25,
};

/** One ingestion row: latency per request, and throughput over the row's wall time. */
export interface IngestionRow extends Omit<LatencySummary, 'opsPerSec'> {
  id: string;
  title: string;
  does: string;
  transport: 'webhook' | 'smtp';
  concurrency: number;
  /** Requests sent (fewer than planned when the time budget ran out). */
  sent: number;
  planned: number;
  /** Requests answered 200 (webhooks) or 250 (SMTP). */
  accepted: number;
  wallSeconds: number;
  /** accepted / wallSeconds. */
  throughputPerSec: number;
  truncated: boolean;
  /** What the store holds afterwards, compared with what was sent. */
  verification: { ok: boolean; detail: string };
}

export interface IngestionResult {
  database: string;
  startedAt: string;
  finishedAt: string;
  /** 1-minute load average when the group began and ended. */
  loadAverage: { start: number; end: number };
  setup: { smsCustomers: number; emailSenders: number; warmup: number; maxSecondsPerRow: number; mongoPoolSize: number; emailAcknowledge: boolean };
  rows: IngestionRow[];
  notes: string[];
}


const redisPrefix = 'sbbench-ingest:';
const ourNumber = '+862150000000';
const smsPhone = (index: number) => `+86137${String(10_000_000 + index).slice(-8)}`;
const senderEmail = (index: number) => `bench.sender${index}@example.cn`;
/** MessageSid: SM + 32 hex, with the run, the row and the index readable in it. */
const messageSid = (run: string, row: number, index: number) => `SM${run}${row.toString(16).padStart(2, '0')}${index.toString(16).padStart(22, '0')}`;



interface Driven {
  durationsMs: Float64Array;
  sent: number;
  accepted: number;
  wallSeconds: number;
  truncated: boolean;
  failures: string[];
}

/**
 * Sends requests `0..count-1` with `concurrency` in flight: each worker takes the next index as soon
 * as its previous request is answered. Latency is per request; wall time runs from the first send to
 * the last answer. `send` resolves true when the request was accepted.
 */
async function drive(count: number, concurrency: number, maxSeconds: number, send: (index: number) => Promise<true | string>): Promise<Driven> {
  const durations = new Float64Array(count);
  const failures: string[] = [];
  let next = 0;
  let accepted = 0;
  const began = process.hrtime.bigint();
  const deadline = began + BigInt(Math.round(maxSeconds * 1e9));
  const worker = async () => {
    while (next < count && process.hrtime.bigint() < deadline) {
      const index = next++;
      const started = process.hrtime.bigint();
      let outcome: true | string;
      try {
        outcome = await send(index);
      } catch (error) {
        outcome = (error as Error).message;
      }
      durations[index] = Number(process.hrtime.bigint() - started) / 1e6;
      if (outcome === true) accepted += 1;
      else failures.push(outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const wallSeconds = Number(process.hrtime.bigint() - began) / 1e9;
  return { durationsMs: durations.subarray(0, next), sent: next, accepted, wallSeconds, truncated: next < count, failures };
}

/** How many stored entries carry each external id (a scan of the channel's interactions: the database holds only this run). */
async function entriesByExternalId(app: Switchboard, channel: 'sms' | 'email'): Promise<Map<string, number>> {
  const interactions = await app.mongo
    .collection<{ entries?: { externalId?: string }[] }>('interactions')
    .find({ channel }, { projection: { entries: 1 } })
    .toArray();
  const counts = new Map<string, number>();
  for (const interaction of interactions) {
    for (const entry of interaction.entries ?? []) {
      if (entry.externalId) counts.set(entry.externalId, (counts.get(entry.externalId) ?? 0) + 1);
    }
  }
  return counts;
}

/** Every expected id recorded exactly once, and nothing else with the row's marker. */
function verifyOnce(counts: Map<string, number>, expected: string[], marker: string, label: string): { ok: boolean; detail: string } {
  const wanted = new Set(expected);
  const missing = expected.filter((id) => !counts.has(id)).length;
  const doubled = expected.filter((id) => (counts.get(id) ?? 0) > 1).length;
  let stray = 0;
  for (const [id, count] of counts) if (id.includes(marker) && !wanted.has(id)) stray += count;
  const entries = expected.reduce((sum, id) => sum + (counts.get(id) ?? 0), 0);
  const ok = missing === 0 && doubled === 0 && stray === 0;
  return {
    ok,
    detail: ok
      ? `${entries.toLocaleString('en-US')} entries for ${expected.length.toLocaleString('en-US')} ${label}, each exactly once`
      : `${entries} entries for ${expected.length} ${label}: ${missing} missing, ${doubled} recorded more than once, ${stray} unexpected`,
  };
}

function row(
  base: Pick<IngestionRow, 'id' | 'title' | 'does' | 'transport' | 'concurrency' | 'planned'>,
  driven: Driven,
  verification: IngestionRow['verification'],
): IngestionRow {
  const { opsPerSec: _sequential, ...latency } = summarize(driven.durationsMs);
  return {
    ...base,
    ...latency,
    sent: driven.sent,
    accepted: driven.accepted,
    wallSeconds: Math.round(driven.wallSeconds * 1000) / 1000,
    throughputPerSec: Math.round((driven.accepted / driven.wallSeconds) * 10) / 10,
    truncated: driven.truncated,
    verification,
  };
}

/**
 * Runs the ingestion group. `configFor` builds the app's config for a database with overrides
 * (the same quiet test config as the other groups).
 */
export async function runIngestion(
  options: IngestionOptions,
  configFor: (database: string, overrides: Record<string, string | number>) => Config,
  log: Logger,
): Promise<{ result: IngestionResult; machine: Machine }> {
  const { progress } = options;
  const startedAt = new Date().toISOString();
  // Before anything of ours runs: what the rest of the machine was doing.
  const loadStart = os.loadavg()[0];
  const credentials = standinCredentials();
  let twilio: TwilioStandin | undefined;
  let sink: SmtpSink | undefined;
  let app: Switchboard | undefined;
  const attachments = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-bench-ingest-'));
  try {
    twilio = await startTwilioStandin({ ...credentials, callbackDelayMs: 5 });
    sink = await startSmtpSink();
    const port = await freePort();
    const publicBaseUrl = `http://127.0.0.1:${port}`;
    const config = configFor(options.database, {
      PORT: port,
      PUBLIC_BASE_URL: publicBaseUrl,
      SMTP_PORT: 0,
      TWILIO_ACCOUNT_SID: credentials.accountSid,
      TWILIO_AUTH_TOKEN: credentials.authToken,
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_NUMBERS: ourNumber,
      SMTP_OUT_URL: sink.url,
      ATTACHMENTS_DIR: attachments,
      REDIS_KEY_PREFIX: redisPrefix,
      // The bench plays our MX relay (one address sending all mail), which an operator exempts this way.
      SMTP_MAX_MESSAGES_PER_IP: 1_000_000,
    });

    progress(`ingestion: dropping ${options.database} and ${redisPrefix}* keys`);
    await resetStores(config.MONGODB_URI, config.REDIS_URL, redisPrefix);
    app = await startSwitchboard(config, { log });
    const smtpPort = (app.channels.find((channel) => channel.name === 'email') as EmailChannel | undefined)?.smtpPort();
    if (!app.url || !smtpPort) throw new Error('ingestion: the app did not start its HTTP server and SMTP listener (ROLES?)');
    const machine = await describeMachine(app.mongo, app.redis, config.MONGODB_URI);

    // The customers exist before timing, so every row measures the same path (a known sender).
    progress(`ingestion: creating ${options.smsCustomers} SMS customers and ${options.emailSenders} email senders`);
    for (let index = 0; index < options.smsCustomers; index += 1) await app.services.customers.resolveCustomer({ phone: smsPhone(index), name: `Bench Texter ${index}` });
    for (let index = 0; index < options.emailSenders; index += 1) await app.services.customers.resolveCustomer({ email: senderEmail(index), name: `Bench Sender ${index}` });

    const run = randomBytes(4).toString('hex');
    const target = { baseUrl: app.url, publicBaseUrl, authToken: credentials.authToken };
    const sendSms = async (sid: string, from: string, body: string): Promise<true | string> => {
      const response = await postSignedWebhook(target, '/webhooks/twilio/sms', {
        MessageSid: sid, SmsSid: sid, AccountSid: credentials.accountSid, From: from, To: ourNumber, Body: body, NumMedia: '0', NumSegments: '1', ApiVersion: '2010-04-01',
      });
      const text = await response.text();
      return response.status === 200 ? true : `HTTP ${response.status} ${text.slice(0, 120)}`;
    };
    const texter = (index: number) => smsPhone((index * 7919) % options.smsCustomers); // spread over the pool, not in order

    const rows: IngestionRow[] = [];
    const report = (done: IngestionRow) => {
      rows.push(done);
      progress(
        `${done.id.padEnd(24)} ${String(done.accepted).padStart(5)}/${done.planned} in ${done.wallSeconds.toFixed(1)} s = ${done.throughputPerSec.toFixed(1).padStart(6)}/s  ` +
          `p50 ${done.p50Ms.toFixed(1)} ms  p99 ${done.p99Ms.toFixed(1)} ms${done.truncated ? ' (time budget hit)' : ''}  ${done.verification.ok ? 'verified' : `VERIFY FAILED: ${done.verification.detail}`}`,
      );
    };

    // Warm-up (untimed, not in any row): JIT, connection pools, the first lock scripts.
    const warmup = 50;
    const warmed = await drive(warmup, 8, options.maxSeconds, (index) => sendSms(messageSid(run, 0xff, index), texter(index), 'warm-up'));
    if (warmed.accepted < warmed.sent) throw new Error(`ingestion warm-up: ${warmed.failures[0]}`);

    // 1. Distinct texts at each concurrency.
    for (const [rowIndex, concurrency] of options.smsConcurrency.entries()) {
      const sids = Array.from({ length: options.sms }, (_, index) => messageSid(run, rowIndex, index));
      const driven = await drive(options.sms, concurrency, options.maxSeconds, (index) =>
        sendSms(sids[index], texter(index), `Bench text ${index}: my car shows a warning light, please call me`),
      );
      const counts = await entriesByExternalId(app, 'sms');
      const sentSids = sids.slice(0, driven.sent).map((sid) => `twilio-sms:${sid}`);
      report(
        row(
          {
            id: `ingest.sms.c${concurrency}`,
            title: `Inbound SMS webhook, ${concurrency} in flight`,
            does:
              `${options.sms.toLocaleString('en-US')} distinct Twilio-signed POST /webhooks/twilio/sms from ${options.smsCustomers} known numbers, ${concurrency} requests in flight; ` +
              'latency = request to 200 TwiML (the handler records the entry before answering); afterwards every MessageSid must be stored exactly once',
            transport: 'webhook',
            concurrency,
            planned: options.sms,
          },
          driven,
          withFailures(verifyOnce(counts, sentSids, `${run}${rowIndex.toString(16).padStart(2, '0')}`, 'MessageSids'), driven),
        ),
      );
    }

    // 2. Idempotency under load: the copies of one MessageSid are sent back to back, so most of them are in flight together.
    {
      const rowIndex = 0xfe;
      const total = options.replaySids * options.replays;
      const sids = Array.from({ length: options.replaySids }, (_, index) => messageSid(run, rowIndex, index));
      const driven = await drive(total, options.replayConcurrency, options.maxSeconds, (index) => {
        const sidIndex = Math.floor(index / options.replays);
        return sendSms(sids[sidIndex], texter(sidIndex), `Bench replayed text ${sidIndex}`);
      });
      const counts = await entriesByExternalId(app, 'sms');
      const sentSids = sids.slice(0, Math.ceil(driven.sent / options.replays)).map((sid) => `twilio-sms:${sid}`);
      report(
        row(
          {
            id: 'ingest.sms.replay',
            title: `Inbound SMS webhook, ${options.replays} replays × ${options.replaySids} MessageSids, ${options.replayConcurrency} in flight`,
            does:
              `${total.toLocaleString('en-US')} signed webhooks: each of ${options.replaySids} MessageSids sent ${options.replays} times back to back (copies of one sid race each other), ` +
              `${options.replayConcurrency} in flight; every copy must get 200, and exactly ${options.replaySids} entries may exist`,
            transport: 'webhook',
            concurrency: options.replayConcurrency,
            planned: total,
          },
          driven,
          withFailures(verifyOnce(counts, sentSids, `${run}${rowIndex.toString(16)}`, 'MessageSids'), driven),
        ),
      );
    }

    // 3. Email through the SMTP listener, with a pooled nodemailer transport.
    {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: options.emailConnections, maxMessages: Infinity,
      });
      const messageId = (index: number) => `<bench-${run}-${index}@bench.switchboard.local>`;
      try {
        const driven = await drive(options.emails, options.emailConcurrency, options.maxSeconds, async (index) => {
          const sender = senderEmail(index % options.emailSenders);
          const info = await transport.sendMail({
            from: `"Bench Sender" <${sender}>`,
            to: 'support@switchboard.local',
            subject: `Warranty claim ${index}: gearbox noise`,
            messageId: messageId(index),
            text: `Hello,\n\nThe gearbox of my car makes a noise above 80 km/h (bench email ${index}).\n\nBest regards\nBench Sender`,
          });
          return /^250\b/.test(info.response) ? true : `SMTP ${info.response}`;
        });
        const counts = await entriesByExternalId(app, 'email');
        const sent = Array.from({ length: driven.sent }, (_, index) => `email:${messageId(index)}`);
        report(
          row(
            {
              id: `ingest.email.c${options.emailConcurrency}`,
              title: `Inbound email over SMTP, ${options.emailConcurrency} in flight`,
              does:
                `${options.emails.toLocaleString('en-US')} plain-text emails from ${options.emailSenders} known senders through nodemailer (pool of ${options.emailConnections} connections, ` +
                `${options.emailConcurrency} sendMail calls in flight) to the app's SMTP listener; latency = sendMail to 250 (the listener records the email, raw .eml included, before answering 250); ` +
                'afterwards every Message-ID must be stored exactly once',
              transport: 'smtp',
              concurrency: options.emailConcurrency,
              planned: options.emails,
            },
            driven,
            withFailures(verifyOnce(counts, sent, `bench-${run}-`, 'Message-IDs'), driven),
          ),
        );
      } finally {
        transport.close();
      }
    }

    const result: IngestionResult = {
      database: options.database,
      startedAt,
      finishedAt: new Date().toISOString(),
      loadAverage: { start: loadStart, end: os.loadavg()[0] },
      setup: {
        smsCustomers: options.smsCustomers,
        emailSenders: options.emailSenders,
        warmup,
        maxSecondsPerRow: options.maxSeconds,
        mongoPoolSize: 20,
        emailAcknowledge: config.EMAIL_ACKNOWLEDGE,
      },
      rows,
      notes: [
        `Client, app, FerretDB and Redis share this machine's ${os.cpus().length} cores, so the load average at the end includes this group's own work; ` +
          'the one at the start is what else was running (1-minute average).',
      ],
    };
    return { result, machine };
  } finally {
    await app?.close().catch(() => undefined);
    await twilio?.close().catch(() => undefined);
    await sink?.close().catch(() => undefined);
    fs.rmSync(attachments, { recursive: true, force: true });
  }
}

/** A row whose requests were refused fails verification too, with the first refusal quoted. */
function withFailures(verification: IngestionRow['verification'], driven: Driven): IngestionRow['verification'] {
  if (driven.failures.length === 0) return verification;
  return { ok: false, detail: `${driven.failures.length} requests not accepted (first: ${driven.failures[0]}); ${verification.detail}` };
}

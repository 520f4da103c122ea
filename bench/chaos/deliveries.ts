import { randomBytes, randomInt } from 'node:crypto';
import nodemailer from 'nodemailer';
import { signTwilioWebhook } from '../../src/channels/twilio/twilio-webhook';
import { sleep } from './app-node';

/**
 * Inbound contacts as Twilio and mail servers deliver them: each has one external id
 * (CallSid, MessageSid, Message-ID) that every retry repeats. A delivery is retried until the edge
 * acknowledges it (HTTP 200 / SMTP 250), as a sender that got no answer, a 5xx or an SMTP 4xx
 * would; a 4xx webhook answer or an SMTP 5xx is a permanent refusal (the sender gives up: Twilio
 * drops the webhook, an MTA bounces the mail), recorded and never retried.
 */
export type ContactKind = 'voice' | 'sms' | 'email';

export interface Delivery {
  kind: ContactKind;
  /** As the app stores it: `twilio-call:<CallSid>`, `twilio-sms:<MessageSid>`, `email:<Message-ID>`. */
  externalId: string;
  phase: string;
  /** The customer's address (phone or email); one new customer per contact. */
  from: string;
  firstSentAt: number;
  attempts: number;
  /** Answers other than the acknowledgement, by kind (`503`, `timeout`, `ECONNREFUSED`, `451`…). */
  refusals: Record<string, number>;
  ackedAt?: number;
  ackedBy?: string;
  /** A permanent refusal (4xx webhook answer, SMTP 5xx): the sender gave up. */
  refusedPermanently?: string;
  probe?: boolean;
}

export interface EdgeTarget {
  name: string;
  url: string;
  smtpPort: number;
}

export interface DeliveryOptions {
  publicBaseUrl: string;
  authToken: string;
  accountSid: string;
  ourNumber: string;
  supportEmail: string;
  /** Twilio waits 15 s for a webhook answer; MTAs about as long for the end of DATA. */
  timeoutMs: number;
  /** Retries stop starting after this instant (ms since epoch); later deliveries stay unacknowledged. */
  retryUntil: () => number;
  targets: () => EdgeTarget[];
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
let sequence = 0;
// Numbers of this run start at a random point, so two runs on one database do not share customers.
const phoneBase = randomInt(0, 80_000_000);

/** A new contact of `kind` from a new customer, not sent yet. */
export function newDelivery(kind: ContactKind, phase: string, run: string): Delivery {
  sequence += 1;
  const n = sequence;
  const id = kind === 'voice' ? `twilio-call:CA${hex(16)}` : kind === 'sms' ? `twilio-sms:SM${hex(16)}` : `email:<chaos-${run}-${n}@chaos.switchboard.test>`;
  // A number of its own per contact (so each text starts its own conversation), and a mail domain
  // of its own (the acknowledgement limits count per mailbox and per domain).
  const from = kind === 'email' ? `customer${n}@m${n}.chaos-${run}.test` : `+86139${String(10_000_000 + phoneBase + n).slice(-8)}`;
  return { kind, externalId: id, phase, from, firstSentAt: 0, attempts: 0, refusals: {} };
}

/** Sends until acknowledged, permanently refused, or out of time; alternates nodes between attempts. */
export async function deliver(delivery: Delivery, options: DeliveryOptions, startAt: number): Promise<void> {
  delivery.firstSentAt = Date.now();
  let backoffMs = 500;
  for (let attempt = 0; ; attempt += 1) {
    const targets = options.targets();
    const target = targets[(startAt + attempt) % targets.length];
    delivery.attempts += 1;
    const outcome = await sendOnce(delivery, target, options).catch((error: Error & { code?: string; cause?: { code?: string } }) => ({
      ack: false,
      permanent: false,
      reason: error.name === 'TimeoutError' || /timeout/i.test(error.message) ? 'timeout' : (error.cause?.code ?? error.code ?? error.name),
    }));
    if (outcome.ack) {
      delivery.ackedAt = Date.now();
      delivery.ackedBy = target.name;
      return;
    }
    delivery.refusals[outcome.reason] = (delivery.refusals[outcome.reason] ?? 0) + 1;
    if (outcome.permanent) {
      delivery.refusedPermanently = outcome.reason;
      return;
    }
    if (Date.now() + backoffMs > options.retryUntil()) return;
    await sleep(backoffMs);
    backoffMs = Math.min(backoffMs * 2, 4_000);
  }
}

async function sendOnce(delivery: Delivery, target: EdgeTarget, options: DeliveryOptions): Promise<{ ack: boolean; permanent: boolean; reason: string }> {
  const sid = delivery.externalId.slice(delivery.externalId.indexOf(':') + 1);
  if (delivery.kind === 'email') return sendEmail(delivery, sid, target, options);
  const path = delivery.kind === 'voice' ? '/webhooks/twilio/voice' : '/webhooks/twilio/sms';
  const params: Record<string, string> =
    delivery.kind === 'voice'
      ? { CallSid: sid, AccountSid: options.accountSid, From: delivery.from, To: options.ourNumber, CallStatus: 'ringing', Direction: 'inbound', ApiVersion: '2010-04-01' }
      : { MessageSid: sid, SmsSid: sid, AccountSid: options.accountSid, From: delivery.from, To: options.ourNumber, Body: `Chaos text ${sid.slice(-6)}: my car will not start`, NumMedia: '0', NumSegments: '1', ApiVersion: '2010-04-01' };
  // Signed for the public URL, posted to the node (as a load balancer forwards it), exactly as Twilio signs.
  const response = await fetch(`${target.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioWebhook(options.authToken, `${options.publicBaseUrl}${path}`, params) },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  await response.arrayBuffer().catch(() => undefined);
  if (response.status === 200) return { ack: true, permanent: false, reason: '200' };
  // 4xx (but 408/429) is Twilio's "this request is wrong": no retry would change it.
  const permanent = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
  return { ack: false, permanent, reason: String(response.status) };
}

async function sendEmail(delivery: Delivery, messageId: string, target: EdgeTarget, options: DeliveryOptions): Promise<{ ack: boolean; permanent: boolean; reason: string }> {
  // A connection per attempt: a pooled one to a node that died would only fail later.
  const transport = nodemailer.createTransport({
    host: '127.0.0.1', port: target.smtpPort, secure: false, ignoreTLS: true,
    connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: options.timeoutMs,
  });
  try {
    const info = await transport.sendMail({
      from: `"Chaos Customer" <${delivery.from}>`,
      to: options.supportEmail,
      subject: `Chaos email ${messageId.slice(1, 24)}: brake noise`,
      messageId,
      date: new Date(delivery.firstSentAt),
      text: `Hello,\n\nThe brakes of my car squeal when cold (${messageId}).\n\nBest regards\nChaos Customer`,
    });
    return /^250\b/.test(info.response) ? { ack: true, permanent: false, reason: '250' } : { ack: false, permanent: false, reason: info.response.slice(0, 3) };
  } catch (error) {
    const code = (error as { responseCode?: number }).responseCode;
    if (code !== undefined) return { ack: false, permanent: code >= 500, reason: `smtp ${code}` };
    throw error;
  } finally {
    transport.close();
  }
}

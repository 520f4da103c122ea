import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'bullmq';
import { durationMs } from '../../platform/duration';
import type { ChannelDeps, ChannelModule } from '../channel';
import { AttachmentStore } from './attachment-store';
import { createEmailSender } from './email.adapter';
import { outboundEmailRepair } from './email-repair';
import { EmailSendRepository } from './email-send.repository';
import { EmailThreadRepository } from './email-thread.repository';
import { InboundEmailService } from './inbound-email.service';
import { outboundEmailQueue, startOutboundEmailWorker, type OutboundEmailJob } from './outbound-email.jobs';
import { OutboundEmailService, type SendEmailInput } from './outbound-email.service';
import { trustPolicy } from './email-trust';
import { ParsePool } from './parse-pool';
import { SmtpClientLimits } from './smtp-limits';
import { startSmtpListener, type SmtpListener, type SmtpListenerOptions } from './smtp-listener';

export { unknownSenderEmail, type InboundEnvelope, type ReceivedEmail } from './inbound-email.service';
export type { SendEmailInput } from './outbound-email.service';

// Not settings (config.ts is shared): one attachment above 10 MB is kept only inside the raw .eml,
// and the total stored per email never passes the accepted message size.
const maxAttachmentBytes = 10_000_000;

export interface EmailChannel extends ChannelModule {
  /** Queues an email to a customer (notifications, follow-ups); idempotent on `idempotencyKey`. */
  sendEmail(input: SendEmailInput): Promise<{ interactionId: string; entryId: string; status: string }>;
  /** The port the SMTP listener is bound to, once started (useful when SMTP_PORT is 0). */
  smtpPort(): number | undefined;
}

/** Email in over SMTP (smtp-server + mailparser), out through nodemailer from a BullMQ worker. */
export function createEmailChannel(deps: ChannelDeps): EmailChannel {
  const { config } = deps;
  const log = deps.log.child({ module: 'email' });
  const runs = (role: 'smtp' | 'worker') => config.ROLES.includes('all') || config.ROLES.includes(role);
  const threads = new EmailThreadRepository(deps.mongo);
  const store = new AttachmentStore(path.resolve(config.ATTACHMENTS_DIR));
  const sender = createEmailSender(config.SMTP_OUT_URL);
  const sends = new EmailSendRepository(deps.mongo);
  const queue = outboundEmailQueue(deps.queues);
  const outbound = new OutboundEmailService(
    deps.interactions,
    deps.customers,
    threads,
    queue,
    sender,
    deps.redis,
    { supportEmail: config.SUPPORT_EMAIL, fromName: displayName(config.SMTP_FROM), redisKeyPrefix: config.REDIS_KEY_PREFIX },
    log,
    sends,
  );
  const parsePool = new ParsePool({ workers: config.EMAIL_PARSE_WORKERS, timeoutMs: durationMs(config.EMAIL_PARSE_TIMEOUT), inlineBytes: config.EMAIL_PARSE_INLINE_BYTES, log });
  const inbound = new InboundEmailService(
    deps.interactions,
    deps.customers,
    threads,
    store,
    outbound,
    deps.redis,
    {
      supportEmail: config.SUPPORT_EMAIL,
      acknowledge: config.EMAIL_ACKNOWLEDGE,
      redisKeyPrefix: config.REDIS_KEY_PREFIX,
      attachmentCaps: { perAttachmentBytes: Math.min(maxAttachmentBytes, config.EMAIL_MAX_BYTES), totalBytes: config.EMAIL_MAX_BYTES },
      trust: trustPolicy(config.NODE_ENV, config.EMAIL_TRUSTED_AUTHSERV_ID, config.EMAIL_TRUSTED_RELAYS),
    },
    log,
    parsePool,
  );
  let listener: SmtpListener | undefined;
  let worker: Worker<OutboundEmailJob> | undefined;

  return {
    name: 'email',
    routers: [],
    repairs: [outboundEmailRepair({ sends, queue, log })],
    reply: (input) => outbound.reply(input),
    sendEmail: (input) => outbound.sendEmail(input),
    smtpPort: () => listener?.port,
    async start() {
      worker = startOutboundEmailWorker(deps.queues, (job, attempt) => outbound.deliver(job, attempt));
      if (!runs('smtp')) return;
      if (!config.SMTP_OUT_URL) log.warn('SMTP_OUT_URL is not set: replies and acknowledgements are recorded but fail to send');
      if (config.NODE_ENV === 'production' && !config.EMAIL_TRUSTED_AUTHSERV_ID) {
        log.warn('EMAIL_TRUSTED_AUTHSERV_ID is not set: no inbound sender is authenticated, so email joins threads only by our Message-IDs and never reopens a task');
      }
      listener = await startSmtpListener({
        port: config.SMTP_PORT,
        host: config.HOST,
        maxBytes: config.EMAIL_MAX_BYTES,
        receive: (raw, envelope) => inbound.receive(raw, envelope),
        log,
        ...smtpSecurity(config, log),
        maxClients: config.SMTP_MAX_CLIENTS,
        idleTimeoutMs: durationMs(config.SMTP_IDLE_TIMEOUT),
        sessionTimeoutMs: durationMs(config.SMTP_SESSION_TIMEOUT),
        ...(deps.onSmtpRejected ? { onRejected: deps.onSmtpRejected } : {}),
        clientLimits: new SmtpClientLimits(deps.redis, {
          keyPrefix: config.REDIS_KEY_PREFIX,
          maxConnectionsPerIp: config.SMTP_MAX_CONNECTIONS_PER_IP,
          maxMessagesPerIp: config.SMTP_MAX_MESSAGES_PER_IP,
          messageWindowMs: durationMs(config.SMTP_MESSAGE_RATE_WINDOW),
          sessionMs: durationMs(config.SMTP_SESSION_TIMEOUT),
        }, log),
      });
    },
    async close() {
      // The listener first, so no new mail arrives while the worker finishes; queues close in app.ts.
      await listener?.close();
      await parsePool.close();
      await worker?.close();
      sender.close();
    },
  };
}

/**
 * STARTTLS, AUTH and require-TLS from the SMTP_* settings. The key and certificate were checked
 * readable when the configuration was loaded; they are read here, once, at start.
 */
function smtpSecurity(config: ChannelDeps['config'], log: ChannelDeps['log']): Pick<SmtpListenerOptions, 'tls' | 'onAuth' | 'requireTls'> {
  const tls =
    config.SMTP_TLS_KEY_FILE && config.SMTP_TLS_CERT_FILE
      ? { key: fs.readFileSync(config.SMTP_TLS_KEY_FILE), cert: fs.readFileSync(config.SMTP_TLS_CERT_FILE) }
      : undefined;
  const username = config.SMTP_AUTH_USERNAME;
  const password = config.SMTP_AUTH_PASSWORD;
  if (username && password && !tls) log.warn('SMTP AUTH is on without STARTTLS: passwords cross the network in clear text');
  return {
    ...(tls ? { tls } : {}),
    ...(username && password ? { onAuth: async (givenUser: string, givenPassword: string) => [sameSecret(givenUser, username), sameSecret(givenPassword, password)].every(Boolean) } : {}),
    requireTls: config.SMTP_REQUIRE_TLS,
  };
}

/** Constant-time comparison: both sides are hashed first, so neither content nor length leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The display name in SMTP_FROM (`Acme Support` or `Acme Support <x@y>`); the address is always our plus address. */
function displayName(smtpFrom: string | undefined): string | undefined {
  if (!smtpFrom) return undefined;
  const name = smtpFrom.replace(/<[^>]*>/, '').replace(/["\r\n]/g, '').trim();
  return name && !name.includes('@') ? name : undefined;
}

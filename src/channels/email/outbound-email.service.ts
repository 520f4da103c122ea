import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { CustomerService } from '../../customers';
import type { Entry, Interaction, InteractionService } from '../../interactions';
import { normalizeEmail } from '../../customers/identity';
import { AcceptedSends } from '../accepted-sends';
import { AppError } from '../../platform/errors';
import { withLock } from '../../platform/locks';
import type { Logger } from '../../platform/logger';
import { EmailSendError, type EmailSender } from './email.adapter';
import type { EmailSendRepository } from './email-send.repository';
import type { EmailThreadRepository } from './email-thread.repository';
import { enqueueOutboundEmail, type OutboundEmailJob } from './outbound-email.jobs';
import { buildReferences, isOurAddress, plusAddress, replySubject, splitAddress, tagSubject } from './threading';

export interface SendEmailInput {
  /** The thread to write in; without it a new outbound interaction is opened. */
  interactionId?: string;
  customerId: string;
  /** Defaults to the address the customer last wrote from in this thread, then their first email. */
  to?: string;
  subject: string;
  text: string;
  html?: string;
  authorId?: string;
  /** Machine-sent (acknowledgements, notifications): marked `Auto-Submitted: auto-replied`. */
  automatic?: boolean;
  /** Calling twice with one key queues one email. */
  idempotencyKey: string;
}

/** The headers fixed on the first attempt and reused by every retry (same Message-ID). */
interface PreparedMessage {
  messageId: string;
  subject: string;
  fromAddress: string;
  inReplyTo?: string;
  references: string[];
}

export interface OutboundEmailSettings {
  supportEmail: string;
  /** Display name on our From header (from SMTP_FROM). */
  fromName?: string;
  redisKeyPrefix: string;
}

const maxSubjectLength = 250;

/** The outcome of an SMTP exchange the server answered, as recorded on the entry. */
interface SmtpOutcome {
  status: 'sent' | 'rejected';
  send: { accepted: string[]; rejected: string[]; response: string; at: string; attempt: number };
}

export class OutboundEmailService {
  constructor(
    private readonly interactions: InteractionService,
    private readonly customers: CustomerService,
    private readonly threads: EmailThreadRepository,
    private readonly queue: Queue<OutboundEmailJob>,
    private readonly sender: EmailSender,
    private readonly redis: Redis,
    private readonly settings: OutboundEmailSettings,
    private readonly log: Logger,
    /** Send records: what the reconciler re-queues when Redis lost the jobs (issue 13). */
    private readonly sends: EmailSendRepository,
  ) {
    this.accepted = new AcceptedSends<SmtpOutcome>(redis, settings.redisKeyPrefix, 'email', log);
  }

  /** What the SMTP server answered, kept in Redis until MongoDB has it (issue 13: no email sent twice). */
  private readonly accepted: AcceptedSends<SmtpOutcome>;

  /** Records the email as a queued outbound entry and queues its delivery. */
  async sendEmail(input: SendEmailInput): Promise<{ interactionId: string; entryId: string; status: string }> {
    const interaction = input.interactionId ? await this.interactions.getInteraction(input.interactionId) : undefined;
    const to = await this.recipient(input, interaction);
    const subject = input.subject.replace(/[\r\n\u0000]+/g, ' ').trim().slice(0, maxSubjectLength) || 'Your message';
    const recorded = await this.interactions.recordInboundEvent({
      externalId: `email-out:${input.idempotencyKey}`,
      customerId: interaction?.customerId ?? input.customerId,
      channel: 'email',
      direction: 'outbound',
      subject,
      appendTo: interaction?.id,
      entry: {
        kind: 'message',
        direction: 'outbound',
        text: input.text,
        ...(input.authorId ? { authorId: input.authorId } : {}),
        data: { status: 'queued', to, subject, automatic: input.automatic ?? false, ...(input.html ? { html: input.html } : {}) },
      },
    });
    const job = { interactionId: recorded.interaction.id, entryId: recorded.entryId };
    // Before the job: should the enqueue fail or Redis lose it, the record says the email is owed.
    await this.sends.create({ _id: job.entryId, interactionId: job.interactionId });
    await enqueueOutboundEmail(this.queue, job);
    if (!recorded.duplicate) this.log.info({ ...job, automatic: input.automatic ?? false }, 'email queued');
    return { ...job, status: 'queued' };
  }

  /** An agent's answer in the interaction's thread, to the address the customer wrote from. */
  async reply(input: { interactionId: string; text: string; authorId: string }): Promise<{ entryId: string; status: string }> {
    const interaction = await this.interactions.getInteraction(input.interactionId);
    const result = await this.sendEmail({
      interactionId: interaction.id,
      customerId: interaction.customerId,
      subject: replySubject(interaction.subject),
      text: input.text,
      authorId: input.authorId,
      // A reply has no natural key: each call is a new message.
      idempotencyKey: `reply:${randomBytes(12).toString('hex')}`,
    });
    return { entryId: result.entryId, status: result.status };
  }

  /**
   * Sends one queued entry. Serialized per entry; an entry already sent is not sent again, and a
   * retry reuses the Message-ID fixed on the first attempt. Throws on a temporary failure so the
   * queue retries; returns `permanentFailure` when no retry can help.
   */
  async deliver(job: OutboundEmailJob, attempt: { number: number; last: boolean }): Promise<{ permanentFailure?: string }> {
    const lockKey = `${this.settings.redisKeyPrefix}lock:email-send:${job.entryId}`;
    return withLock(this.redis, lockKey, { ttlMs: 120_000, waitMs: 5_000 }, async () => {
      const interaction = await this.interactions.getInteraction(job.interactionId);
      const entry = interaction.entries?.find((candidate) => candidate.id === job.entryId);
      if (!entry) throw AppError.notFound('Entry', job.entryId);
      const data = entry.data ?? {};
      if (data.status === 'sent' || data.status === 'rejected' || data.status === 'failed') {
        this.log.info({ ...job, status: data.status }, 'email already handled; not sent again');
        await this.sends.markDone(job.entryId);
        return {};
      }
      // The server took it on an earlier attempt whose outcome write failed (MongoDB down): record, never resend.
      const earlier = await this.accepted.recall(job.entryId);
      if (earlier) {
        await this.recordOutcome(job, earlier);
        this.log.info({ ...job, status: earlier.status, attempt: attempt.number, sentOnAttempt: earlier.send.attempt }, 'email outcome recorded from an earlier attempt; not sent again');
        return {};
      }
      const prepared = (data.message as PreparedMessage | undefined) ?? (await this.prepare(interaction, entry));
      // From here until the outcome is remembered, a crash leaves the outcome unknown (see email-repair.ts).
      await this.sends.markSending(job.entryId, new Date());
      try {
        const result = await this.sender.send({
          envelopeFrom: this.settings.supportEmail,
          from: { ...(this.settings.fromName ? { name: this.settings.fromName } : {}), address: prepared.fromAddress },
          replyTo: prepared.fromAddress,
          to: String(data.to),
          subject: prepared.subject,
          text: entry.text ?? '',
          ...(typeof data.html === 'string' ? { html: data.html } : {}),
          messageId: prepared.messageId,
          inReplyTo: prepared.inReplyTo,
          references: prepared.references,
          automatic: data.automatic === true,
        });
        const outcome: SmtpOutcome = {
          status: result.accepted.length > 0 ? 'sent' : 'rejected',
          send: { accepted: result.accepted, rejected: result.rejected, response: result.response, at: new Date().toISOString(), attempt: attempt.number },
        };
        // Before the database write, which may fail; a retry then finds this and only records it.
        await this.accepted.remember(job.entryId, outcome);
        await this.recordOutcome(job, outcome);
        this.log.info({ ...job, status: outcome.status, attempt: attempt.number }, 'email sent');
        return {};
      } catch (error) {
        if (!(error instanceof EmailSendError)) throw error;
        const final = error.permanent || attempt.last;
        await this.interactions.updateEntry(job.interactionId, job.entryId, {
          data: {
            status: final ? 'failed' : 'retrying',
            error: { message: error.message, responseCode: error.responseCode ?? null, response: error.response ?? null, at: new Date().toISOString(), attempt: attempt.number },
          },
          ...(final ? { flags: ['send_failed'] } : {}),
        });
        await (final ? this.sends.markDone(job.entryId) : this.sends.markRetrying(job.entryId));
        // Not logged here: the queue logs every failed job once, with its id (= the entry id) and attempt.
        if (error.permanent) return { permanentFailure: error.message };
        throw new AppError('unavailable', error.message, { entryId: job.entryId, responseCode: error.responseCode }, true, { cause: error });
      }
    });
  }

  /** Writes the server's answer on the entry and closes the send record; a failure throws, and the job's retry writes it again. */
  private async recordOutcome(job: OutboundEmailJob, outcome: SmtpOutcome): Promise<void> {
    await this.interactions.updateEntry(job.interactionId, job.entryId, {
      data: { status: outcome.status, send: outcome.send },
      ...(outcome.status === 'rejected' ? { flags: ['send_rejected'] } : {}),
    });
    await this.sends.markDone(job.entryId);
  }

  /** Fixes Message-ID, subject tag, reply address and thread headers, and links our Message-ID to the entry. */
  private async prepare(interaction: Interaction, entry: Entry): Promise<PreparedMessage> {
    const keys = await this.threads.ensureKeys(interaction.id);
    const domain = splitAddress(this.settings.supportEmail)?.domain ?? 'switchboard.local';
    const messageId = `<${entry.id}.${randomBytes(6).toString('hex')}@${domain}>`;
    const threadIds = (interaction.entries ?? []).flatMap((candidate) => {
      if (candidate.id === entry.id) return [];
      const id = candidate.direction === 'inbound' ? candidate.data?.messageId : (candidate.data?.message as PreparedMessage | undefined)?.messageId;
      return typeof id === 'string' ? [id] : [];
    });
    const lastInbound = [...(interaction.entries ?? [])].reverse().find((candidate) => candidate.direction === 'inbound' && typeof candidate.data?.messageId === 'string');
    const prepared: PreparedMessage = {
      messageId,
      subject: tagSubject(String(entry.data?.subject ?? interaction.subject ?? 'Your message'), keys.ref),
      fromAddress: plusAddress(this.settings.supportEmail, keys.token),
      ...(lastInbound ? { inReplyTo: lastInbound.data!.messageId as string } : threadIds.length ? { inReplyTo: threadIds[threadIds.length - 1] } : {}),
      references: buildReferences(threadIds),
    };
    // Link first: a crash between the two leaves at worst an unused id that still points here.
    await this.interactions.linkExternalId(`email:${messageId}`, { interactionId: interaction.id, entryId: entry.id });
    await this.interactions.updateEntry(interaction.id, entry.id, { data: { message: prepared } });
    return prepared;
  }

  private async recipient(input: SendEmailInput, interaction: Interaction | undefined): Promise<string> {
    if (input.to !== undefined) {
      const to = normalizeEmail(input.to);
      if (!to) throw AppError.validation([{ field: 'to', message: 'is not an email address' }]);
      return to;
    }
    const lastFrom = [...(interaction?.entries ?? [])]
      .reverse()
      .map((entry) => (entry.direction === 'inbound' ? (entry.data?.from as { address?: unknown } | undefined)?.address : undefined))
      .find((address): address is string => typeof address === 'string' && normalizeEmail(address) !== null && !isOurAddress(address, this.settings.supportEmail));
    if (lastFrom) return lastFrom;
    const customer = await this.customers.getCustomer(interaction?.customerId ?? input.customerId);
    const email = customer.emails.find((address) => !address.endsWith('.invalid'));
    if (!email) throw new AppError('conflict', 'The customer has no email address to write to', { customerId: customer.id, field: 'to' });
    return email;
  }
}

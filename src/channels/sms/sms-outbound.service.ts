import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CountryCode } from 'libphonenumber-js';
import { normalizePhone, type CustomerService } from '../../customers';
import type { InteractionService } from '../../interactions';
import { AcceptedSends } from '../accepted-sends';
import { AppError } from '../../platform/errors';
import { withLock } from '../../platform/locks';
import type { Logger } from '../../platform/logger';
import { mapTwilioStatus, SmsSendError, type SentSms, type SmsProvider } from './sms.adapter';
import { enqueueOutboundSms, type SmsOutboundJob } from './sms.jobs';
import type { SmsRepository } from './sms.repository';
import type { SmsSendDocument } from './sms.model';
import type { SmsStatusReport } from './sms.schemas';
import { smsSegments } from './sms-segments';
import { isDeliveryFailure } from './sms-status';
import type { QueueFactory } from '../../platform/queues';

export interface OutboundSmsSettings {
  defaultRegion: CountryCode;
  conversationWindowMs: number;
  /** First of TWILIO_NUMBERS; undefined when none is configured. */
  fromNumber?: string;
  statusCallbackUrl: string;
  redisKeyPrefix: string;
}

export interface SendSmsInput {
  /** The conversation to log it on; without one, the customer's open SMS conversation or a new one. */
  interactionId?: string;
  customerId: string;
  /** Any form of the number; defaults to the customer's first mobile number. */
  to?: string;
  text: string;
  authorId?: string;
  /** Same key, same message: a retried call never queues a second text. */
  idempotencyKey: string;
}

// A message Twilio created more than this before our attempt began is not ours; covers clock skew.
const clockSkewMs = 5 * 60_000;

/** Outbound texts: consent, the log entry, the queued send, and delivery status. */
export class OutboundSmsService {
  constructor(
    private readonly customers: CustomerService,
    private readonly interactions: InteractionService,
    private readonly sms: SmsRepository,
    private readonly queues: QueueFactory,
    private readonly provider: SmsProvider | undefined,
    private readonly redis: Redis,
    private readonly settings: OutboundSmsSettings,
    private readonly log: Logger,
  ) {
    this.accepted = new AcceptedSends<SentSms>(redis, settings.redisKeyPrefix, 'sms', log);
  }

  /** What Twilio accepted, kept in Redis until MongoDB has the sid (issue 13); asked before Twilio's list. */
  private readonly accepted: AcceptedSends<SentSms>;

  /** An agent's reply in an SMS conversation, to the number the customer last texted from. */
  async reply(input: { interactionId: string; text: string; authorId: string }): Promise<{ entryId: string; status: string }> {
    const interaction = await this.interactions.getInteraction(input.interactionId);
    const lastInbound = [...(interaction.entries ?? [])].reverse().find((entry) => entry.direction === 'inbound' && typeof entry.data?.from === 'string');
    const sent = await this.sendSms({
      interactionId: interaction.id,
      customerId: interaction.customerId,
      to: lastInbound?.data?.from as string | undefined,
      text: input.text,
      authorId: input.authorId,
      idempotencyKey: `reply:${randomUUID()}`,
    });
    return { entryId: sent.entryId, status: sent.status };
  }

  /**
   * Logs an outbound text as `queued` and queues its send. Refused with 409 when the number opted
   * out (the refusal is logged on the interaction), with 503 when Twilio is not configured.
   */
  async sendSms(input: SendSmsInput): Promise<{ interactionId: string; entryId: string; status: string }> {
    if (!this.provider || !this.settings.fromNumber) {
      throw new AppError('unavailable', 'SMS cannot be sent: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_NUMBERS');
    }
    const to = await this.destination(input);
    if ((await this.sms.findConsent(to))?.optedOut) {
      if (input.interactionId) {
        await this.interactions.appendEntry(input.interactionId, {
          kind: 'system',
          direction: 'internal',
          text: 'SMS not sent: the customer opted out by texting STOP.',
          ...(input.authorId ? { authorId: input.authorId } : {}),
          data: { event: 'sms_refused', reason: 'opted_out' },
          flags: ['sms_refused_opted_out'],
        });
        await this.interactions.updateInteraction(input.interactionId, {}, ['sms_send_refused']);
      }
      this.log.info({ interactionId: input.interactionId, customerId: input.customerId }, 'sms refused: recipient opted out');
      throw new AppError('conflict', 'The customer opted out of SMS (texted STOP), so nothing was sent. They can text START to opt back in; until then call or email them.', {
        reason: 'sms_opted_out',
        field: 'to',
      });
    }

    const { encoding, segments } = smsSegments(input.text);
    const appendTo = input.interactionId ?? (await this.interactions.findOpenConversation(input.customerId, 'sms', new Date(Date.now() - this.settings.conversationWindowMs)))?.id;
    // The log's external-id idempotency gives a retried call the same interaction and entry ids.
    const recorded = await this.interactions.recordInboundEvent({
      externalId: `sms-send:${input.idempotencyKey}`,
      customerId: input.customerId,
      channel: 'sms',
      direction: 'outbound',
      ...(appendTo ? { appendTo } : {}),
      entry: {
        kind: 'message',
        direction: 'outbound',
        text: input.text,
        ...(input.authorId ? { authorId: input.authorId } : {}),
        data: { deliveryStatus: 'queued', segments, encoding },
      },
    });
    const ids = { interactionId: recorded.interaction.id, entryId: recorded.entryId };
    await this.sms.createSend({ _id: ids.entryId, interactionId: ids.interactionId, customerId: input.customerId, to });
    await enqueueOutboundSms(this.queues, ids);
    const state = recorded.duplicate ? (await this.sms.findSend(ids.entryId))?.state : undefined;
    if (!recorded.duplicate) this.log.info({ ...ids, segments, encoding }, 'sms queued');
    return { ...ids, status: state ?? 'queued' };
  }

  /**
   * The worker's step for one queued text. Never sends twice: the send record moves queued →
   * sending → sent(sid) | failed. Finding `sending` means an earlier attempt's outcome is unknown
   * (a timeout or reset after Twilio may have accepted it, or MongoDB failed the sid write). First
   * the sid remembered in Redis right after Twilio accepted (`<prefix>sent:sms:<entryId>`) is taken
   * when there is one; otherwise, before sending again we list recent
   * messages to that number from our number and adopt one with the same body created since that
   * attempt began and not already linked to another entry. Identical texts to the same number in
   * that short span are the one case this could confuse; the cost is a missed resend, never a
   * duplicate.
   */
  async deliver(job: SmsOutboundJob, attempt: { final: boolean }): Promise<void> {
    const send = await this.sms.findSend(job.entryId);
    if (!send) {
      this.log.warn({ ...job }, 'sms job without a send record: dropped');
      return;
    }
    if (send.state === 'sent' || send.state === 'failed') return;
    if (!this.provider || !this.settings.fromNumber) throw new AppError('unavailable', 'Twilio is not configured in this worker');
    if ((await this.sms.findConsent(send.to))?.optedOut) return this.fail(send, 'opted_out');
    const interaction = await this.interactions.getInteraction(send.interactionId);
    const body = interaction.entries?.find((entry) => entry.id === send._id)?.text;
    if (!body) return this.fail(send, 'entry_missing');

    try {
      if (send.state === 'sending') {
        // Twilio took it on an earlier attempt whose sid write failed (MongoDB down): record, never resend.
        const remembered = await this.accepted.recall(send._id);
        if (remembered) {
          this.log.info({ ...job, messageSid: remembered.sid }, 'sms sid recorded from an earlier attempt; not sent again');
          return this.markSent(send, remembered);
        }
      }
      if (send.state === 'sending' && send.sendingSince) {
        const earlier = await this.findEarlierAttempt(send, body);
        if (earlier) {
          this.log.info({ ...job, messageSid: earlier.sid }, 'sms found sent by an earlier attempt');
          return this.markSent(send, earlier);
        }
      }
      await this.sms.markSending(send._id, new Date());
      const sent = await this.provider.send({ to: send.to, from: this.settings.fromNumber, body, statusCallback: this.settings.statusCallbackUrl });
      // Before the database write, which may fail; a retry then finds this and only records it.
      await this.accepted.remember(send._id, sent);
      await this.markSent(send, sent);
      this.log.info({ ...job, messageSid: sent.sid }, 'sms sent');
    } catch (error) {
      if (!(error instanceof SmsSendError)) throw error;
      if (!error.retryable) return this.fail(send, error.code);
      if (attempt.final) await this.fail(send, error.code);
      throw new AppError('unavailable', 'Twilio did not take the SMS; it will be retried', { entryId: send._id, code: error.code }, true, { cause: error });
    }
  }

  /** A status callback: folded into the sid's furthest status, then mirrored on the entry. Idempotent and order-tolerant. */
  async recordStatus(report: SmsStatusReport): Promise<void> {
    const status = mapTwilioStatus(report.status);
    if (!status) {
      this.log.info({ messageSid: report.messageSid }, 'sms status without delivery meaning ignored');
      return;
    }
    const applied = await this.applyStatus(report.messageSid, status, report.errorCode);
    if (!applied) this.log.info({ messageSid: report.messageSid }, 'sms status for an unknown message stored');
  }

  private async findEarlierAttempt(send: SmsSendDocument, body: string): Promise<SentSms | undefined> {
    const candidates = await this.provider!.findRecent({ to: send.to, from: this.settings.fromNumber!, body, createdSince: new Date(new Date(send.sendingSince!).getTime() - clockSkewMs) });
    for (const candidate of candidates) {
      const owner = await this.interactions.findByExternalId(`twilio-sms:${candidate.sid}`);
      if (!owner || owner.entryId === send._id) return candidate;
    }
    return undefined;
  }

  private async markSent(send: SmsSendDocument, sent: SentSms): Promise<void> {
    await this.sms.markSent(send._id, sent.sid);
    await this.interactions.linkExternalId(`twilio-sms:${sent.sid}`, { interactionId: send.interactionId, entryId: send._id });
    await this.applyStatus(sent.sid, sent.status, undefined);
  }

  private async fail(send: SmsSendDocument, errorCode: string): Promise<void> {
    await this.sms.markFailed(send._id, errorCode);
    await this.interactions.updateEntry(send.interactionId, send._id, { data: { deliveryStatus: 'failed', errorCode }, flags: ['undelivered'] });
    await this.interactions.updateInteraction(send.interactionId, {}, ['sms_undelivered']);
    this.log.warn({ interactionId: send.interactionId, entryId: send._id, errorCode }, 'sms failed');
  }

  /**
   * Under the sid's lock, so a callback and the worker's link cannot miss each other: whichever runs
   * second sees both the stored status and the link. Returns false when the sid is not ours (yet).
   * With Redis down it runs unlocked: Twilio does not retry status callbacks, so a refusal would lose
   * the status for good. The cost is a rare race: two callbacks of one sid landing in the same
   * moment may leave the earlier status (read, then advanced) until the next callback; the worker
   * that links a send cannot take jobs without Redis anyway.
   */
  private async applyStatus(sid: string, reported: ReturnType<typeof mapTwilioStatus>, errorCode: string | undefined): Promise<boolean> {
    const lockKey = `${this.settings.redisKeyPrefix}lock:sms:status:${sid}`;
    return withLock(this.redis, lockKey, { ttlMs: 15_000, waitMs: 10_000, whenRedisDown: 'proceed' }, async () => {
      const stored = await this.sms.advanceStatus(sid, reported, errorCode, new Date());
      const link = await this.interactions.findByExternalId(`twilio-sms:${sid}`);
      if (!link || !stored || !(await this.sms.findSend(link.entryId))) return false;
      const failed = isDeliveryFailure(stored.status);
      await this.interactions.updateEntry(link.interactionId, link.entryId, {
        data: { sid, deliveryStatus: stored.status, ...(stored.errorCode ? { errorCode: stored.errorCode } : {}) },
        ...(failed ? { flags: ['undelivered'] } : {}),
      });
      if (failed) await this.interactions.updateInteraction(link.interactionId, {}, ['sms_undelivered']);
      return true;
    });
  }

  /** The E.164 number to text; short codes and sender ids cannot receive texts from us. */
  private async destination(input: SendSmsInput): Promise<string> {
    const raw = input.to ?? (await this.customers.getCustomer(input.customerId)).phones.find((phone) => phone.kind === 'e164')?.value;
    if (!raw) throw new AppError('conflict', 'This customer has no mobile number to text; add one or call/email them', [{ field: 'to', message: 'no mobile number on file' }]);
    const phone = normalizePhone(raw, this.settings.defaultRegion);
    if (phone?.kind !== 'e164') {
      throw new AppError('conflict', 'This number cannot receive texts (a short code, sender id or not a phone number); call or email the customer instead', [
        { field: 'to', message: 'is not a mobile number' },
      ]);
    }
    return phone.value;
  }
}

import type { Redis } from 'ioredis';
import type { CountryCode } from 'libphonenumber-js';
import { normalizePhone, type CustomerService } from '../../customers';
import type { InteractionService } from '../../interactions';
import { withLock } from '../../platform/locks';
import type { Logger } from '../../platform/logger';
import { messagingTwiml } from './sms.adapter';
import type { SmsRepository } from './sms.repository';
import type { InboundSms } from './sms.schemas';
import { countInWindow } from '../../platform/rate-window';
import { failOpen, isRedisUnreachable } from '../../platform/store-outage';
import { classifyKeyword, type SmsKeyword } from './sms-keywords';
import { isTwilioMediaUrl } from './sms-media';

export const smsReplies: Record<SmsKeyword, string> = {
  opt_out: 'You are unsubscribed and will get no more texts from us. Reply START to subscribe again.',
  opt_in: 'You are subscribed again. Reply STOP to unsubscribe, HELP for help.',
  help: 'Switchboard support: text us here to reach an agent. Reply STOP to unsubscribe.',
};

// Keyword answers (HELP, STOP, START) per number per hour: a number texting HELP in a loop must not
// make us send (and pay for) a text each time. A change of consent is always confirmed.
const keywordRepliesPerHour = 3;
const keywordReplyWindowMs = 3_600_000;

export interface InboundSmsSettings {
  defaultRegion: CountryCode;
  conversationWindowMs: number;
  apiBaseUrl?: string;
  redisKeyPrefix: string;
}

export interface InboundSmsResult {
  interactionId: string;
  entryId: string;
  duplicate: boolean;
  /** The TwiML to answer Twilio with. */
  twiml: string;
}

/**
 * A text that answers something we asked the customer (a CSAT survey, "is it solved? reply YES/NO").
 * The claimer names the interaction that carried the question; the reply is logged there and is not
 * queued for an agent.
 */
export interface SmsReplyClaim {
  interactionId: string;
  /** Runs once after the reply is recorded; not again when Twilio retries the webhook. */
  onRecorded(entryId: string): Promise<void>;
  /** What to text back (sent as TwiML), e.g. "Thank you for your rating". */
  answer?: string;
}

/** Looks at an inbound text (keywords excluded) and claims it when it answers a pending question. Must not write. */
export type SmsReplyClaimer = (reply: { customerId: string; from: string; text: string; receivedAt: Date }) => Promise<SmsReplyClaim | null>;

// Redis down: both locks are skipped. The text is still recorded exactly once (the durable claim of
// recordInboundEvent); what the lock prevents, two texts of one customer arriving together each
// opening a conversation (or an unknown sender getting two placeholder customers), is an untidy
// record a person can merge, while refusing would make Twilio retry into the same outage.
const lockOptions = { ttlMs: 30_000, waitMs: 10_000, whenRedisDown: 'proceed' as const };
const unrecognizedSenderName = 'Unrecognized SMS sender';

/** Inbound texts: who sent it, which conversation it joins, and what consent it changes. */
export class InboundSmsService {
  private readonly claimers: SmsReplyClaimer[] = [];

  constructor(
    private readonly customers: CustomerService,
    private readonly interactions: InteractionService,
    private readonly sms: SmsRepository,
    private readonly redis: Redis,
    private readonly settings: InboundSmsSettings,
    private readonly log: Logger,
    /** Queues the download of trusted media; called on every delivery, duplicates included (it is idempotent). */
    private readonly downloadMedia?: (target: { interactionId: string; entryId: string; messageSid: string; indexes: number[] }) => Promise<void>,
  ) {}

  /** Claimers are asked in registration order; the first claim wins. */
  addReplyClaimer(claimer: SmsReplyClaimer): void {
    this.claimers.push(claimer);
  }

  private async claimReply(customerId: string, from: string, text: string): Promise<SmsReplyClaim | null> {
    for (const claimer of this.claimers) {
      try {
        const claim = await claimer({ customerId, from, text, receivedAt: new Date() });
        if (claim) return claim;
      } catch (error) {
        // A broken survey must not lose the text: it is then recorded as an ordinary message.
        this.log.warn({ err: error, customerId }, 'sms reply claimer failed');
      }
    }
    return null;
  }

  /**
   * Records one inbound text exactly once (`twilio-sms:<MessageSid>`), in the customer's open SMS
   * conversation when they texted within the window, and applies STOP/START keywords to consent.
   */
  async recordInboundSms(sms: InboundSms): Promise<InboundSmsResult> {
    const externalId = `twilio-sms:${sms.messageSid}`;
    const sender = await this.identifySender(sms.from);
    const keyword = classifyKeyword(sms.body);
    // YES is also a carrier opt-in word; a claimer may still take it as the answer to a question we asked.
    const claim = (keyword && keyword !== 'opt_in') || sender.kind !== 'e164' ? null : await this.claimReply(sender.customerId, sender.address, sms.body);
    const media = sms.media.map((item) => ({ ...item, trusted: isTwilioMediaUrl(item.url, this.settings.apiBaseUrl) }));
    const flags = [
      ...(sender.kind === 'e164' ? [] : [`${sender.kind}_sender`]),
      ...(keyword === 'opt_out' || keyword === 'opt_in' ? [keyword] : []),
      ...(media.some((item) => !item.trusted) ? ['untrusted_media_url'] : []),
    ];

    // Find-then-record under the customer's lock: two texts arriving together must not each find
    // "no open conversation" and open one apiece.
    const lockKey = `${this.settings.redisKeyPrefix}lock:sms:customer:${sender.customerId}`;
    let consentChanged = false;
    const recorded = await withLock(this.redis, lockKey, lockOptions, async () => {
      const known = await this.interactions.findByExternalId(externalId);
      const open = known || claim ? null : await this.interactions.findOpenConversation(sender.customerId, 'sms', new Date(Date.now() - this.settings.conversationWindowMs));
      const result = await this.interactions.recordInboundEvent({
        externalId,
        customerId: sender.customerId,
        channel: 'sms',
        direction: 'inbound',
        ...(claim ? { appendTo: claim.interactionId } : open ? { appendTo: open.id } : {}),
        entry: {
          kind: 'message',
          direction: 'inbound',
          text: sms.body,
          data: { from: sender.address, to: sms.to, senderKind: sender.kind, ...(keyword ? { keyword } : {}) },
          ...(media.length ? { attachments: media.map((item) => ({ contentType: item.contentType, url: item.url })) } : {}),
          ...(flags.length ? { flags } : {}),
        },
      });
      if (keyword === 'opt_out' || keyword === 'opt_in') {
        const consent = await this.sms.recordConsent(sender.address, { action: keyword, at: new Date(), messageSid: sms.messageSid });
        consentChanged = consent.changed;
        if (consent.changed) this.log.info({ interactionId: result.interaction.id, customerId: sender.customerId, messageSid: sms.messageSid, action: keyword }, 'sms consent changed');
      }
      return result;
    });

    const interactionFlags = [
      ...(sender.kind === 'e164' ? [] : ['sms_sender_not_a_phone']),
      ...(keyword === 'opt_out' ? ['sms_opted_out'] : []),
      ...(media.some((item) => !item.trusted) ? ['untrusted_media_url'] : []),
    ];
    const trustedIndexes = media.flatMap((item, index) => (item.trusted ? [index] : []));
    // Also on a duplicate: a delivery that died between recording and queueing is finished by Twilio's retry.
    if (trustedIndexes.length && this.downloadMedia) {
      try {
        await this.downloadMedia({ interactionId: recorded.interaction.id, entryId: recorded.entryId, messageSid: sms.messageSid, indexes: trustedIndexes });
      } catch (error) {
        // The text is stored: with Redis down it is answered as received (a refusal is not reliably
        // retried by Twilio), and the flag in MongoDB marks the media still to fetch.
        if (!isRedisUnreachable(error)) throw error;
        this.log.warn({ interactionId: recorded.interaction.id, messageSid: sms.messageSid }, 'sms media download not queued: redis unreachable');
        interactionFlags.push('sms_media_not_queued');
      }
    }
    if (!recorded.duplicate && claim) {
      await claim.onRecorded(recorded.entryId).catch((error: unknown) => {
        // The reply is stored (and a retry would not run this again): an outage must not turn it into a refusal.
        if (!isRedisUnreachable(error)) throw error;
        this.log.warn({ interactionId: recorded.interaction.id, entryId: recorded.entryId }, 'sms reply claim not completed: redis unreachable');
      });
    }
    if ((!recorded.duplicate || interactionFlags.includes('sms_media_not_queued')) && interactionFlags.length) await this.interactions.updateInteraction(recorded.interaction.id, {}, interactionFlags);
    if (!recorded.duplicate) {
      this.log.info(
        { interactionId: recorded.interaction.id, entryId: recorded.entryId, messageSid: sms.messageSid, joined: !recorded.created, media: media.length, senderKind: sender.kind },
        'inbound sms recorded',
      );
    }
    return {
      interactionId: recorded.interaction.id,
      entryId: recorded.entryId,
      duplicate: recorded.duplicate,
      twiml: messagingTwiml(claim?.answer ?? (keyword && (await this.mayAnswerKeyword(sender.address, consentChanged)) ? smsReplies[keyword] : undefined)),
    };
  }

  private async mayAnswerKeyword(address: string, consentChanged: boolean): Promise<boolean> {
    if (consentChanged) return true;
    const key = `${this.settings.redisKeyPrefix}sms:keyword-replies:{${address}}`;
    // Fails open: a HELP answer during an outage is worth more than the few extra texts a loop could cost.
    return failOpen(this.redis, this.log, 'sms keyword reply limit', true, async () => (await countInWindow(this.redis, key, keywordReplyWindowMs)) <= keywordRepliesPerHour);
  }

  /**
   * The customer behind `From`. Phone numbers, short codes and alphanumeric sender ids resolve
   * through the customer identities. Anything else (a `whatsapp:` address, a garbled header) is
   * still recorded: it gets one placeholder customer per distinct From, remembered in
   * `sms_unrecognized_senders`, and the entry and interaction are flagged so a person can merge it.
   */
  private async identifySender(from: string): Promise<{ customerId: string; address: string; kind: 'e164' | 'short_code' | 'alphanumeric' | 'unrecognized' }> {
    const phone = normalizePhone(from, this.settings.defaultRegion);
    if (phone) {
      const { customer } = await this.customers.resolveCustomer({ phone: from });
      return { customerId: customer.id, address: phone.value, kind: phone.kind };
    }
    const address = from.trim();
    const lockKey = `${this.settings.redisKeyPrefix}lock:sms:sender:${address}`;
    return withLock(this.redis, lockKey, lockOptions, async () => {
      const known = await this.sms.findSenderCustomer(address);
      if (known) return { customerId: known.customerId, address, kind: 'unrecognized' as const };
      const customer = await this.customers.createCustomer({ name: unrecognizedSenderName, phones: [], emails: [] });
      await this.sms.saveSenderCustomer(address, customer.id);
      this.log.warn({ customerId: customer.id }, 'sms from an unrecognized sender: placeholder customer created');
      return { customerId: customer.id, address, kind: 'unrecognized' as const };
    });
  }
}

import type { Redis } from 'ioredis';
import type { CustomerService } from '../../customers';
import { normalizeEmail } from '../../customers/identity';
import type { InteractionService } from '../../interactions';
import type { Logger } from '../../platform/logger';
import { acknowledgementEmail } from './acknowledgement';
import type { AttachmentCaps } from './attachment-plan';
import { sha256, type AttachmentStore } from './attachment-store';
import { cleanText, extractContent, oneLine, type EmailContent } from './email-content';
import type { DigestedEmail, DigestOutcome } from './email-digest';
import { senderVerdict, type TrustPolicy } from './email-trust';
import { readTopHeaderLines } from './raw-limits';
import { countInWindow } from '../../platform/rate-window';
import { failOpen } from '../../platform/store-outage';
import type { EmailThreadRepository } from './email-thread.repository';
import { headerRecord, shouldAcknowledge, type AcknowledgeVerdict } from './loop-guard';
import type { OutboundEmailService } from './outbound-email.service';
import { errorFacts } from './error-facts';
import { extractMessageIdCandidates, extractReplyTokens, extractSubjectRefs, isOurAddress, normalizeMessageId } from './threading';

export interface InboundEnvelope {
  /** SMTP MAIL FROM; empty for bounces. */
  mailFrom?: string;
  rcptTo: string[];
  /** The SMTP client's address, and whether it signed in with SMTP AUTH (see email-trust.ts). */
  clientAddress?: string;
  clientAuthenticated?: boolean;
}

export interface ReceivedEmail {
  interactionId: string;
  entryId: string;
  duplicate: boolean;
  created: boolean;
  threadedBy?: ThreadMatch['matchedBy'];
  acknowledged: boolean;
}

interface ThreadMatch {
  interactionId: string;
  matchedBy: 'references' | 'reply_token' | 'subject_ref';
}

/** Turns raw bytes into a digested email, or says why not (the parse pool; inline in unit wiring). */
export interface EmailDigester {
  digest(raw: Buffer): Promise<DigestOutcome>;
}

export interface InboundEmailSettings {
  supportEmail: string;
  acknowledge: boolean;
  redisKeyPrefix: string;
  attachmentCaps: AttachmentCaps;
  trust: TrustPolicy;
}

/**
 * Where mail whose sender cannot be read is filed: one shared customer under a reserved `.invalid`
 * address (RFC 2606), so nothing is ever sent to it and agents find these mails in one place.
 */
export const unknownSenderEmail = 'unknown-sender@unknown.invalid';

// At most this many acknowledgements per mailbox (`li+x@` and `li@` are one) and per sender domain
// per window, whatever the loop guard let through: a mail loop or a flood cannot make us send more.
const acknowledgementsPerWindow = 3;
const acknowledgementsPerDomainWindow = 100;
const acknowledgementWindowMs = 3_600_000;

const closedStatuses = new Set(['closed', 'abandoned', 'failed']);

export class InboundEmailService {
  constructor(
    private readonly interactions: InteractionService,
    private readonly customers: CustomerService,
    private readonly threads: EmailThreadRepository,
    private readonly store: AttachmentStore,
    private readonly outbound: OutboundEmailService,
    private readonly redis: Redis,
    private readonly settings: InboundEmailSettings,
    private readonly log: Logger,
    private readonly digester: EmailDigester,
  ) {}

  /**
   * Records one received email exactly once (by Message-ID, or by the hash of its bytes when it has
   * none). The raw message is stored first, so whatever fails later, the original is kept.
   */
  async receive(raw: Buffer, envelope: InboundEnvelope): Promise<ReceivedEmail> {
    const rawFile = await this.store.put('eml', raw);
    const digested = await this.digester.digest(raw);
    const mail = digested.mail;
    const flags = new Set<string>(digested.mail ? [] : digested.flags);
    // A message kept raw (over a cap, past the parse budget) still has its Message-ID read, cheaply,
    // so a retransmission of it is recognised as the same email.
    const headerLines = mail?.headerLines ?? readTopHeaderLines(raw);
    const rawMessageId = mail ? mail.messageId : headerRecord(headerLines)['message-id'];
    const messageId = normalizeMessageId(rawMessageId);
    if (!messageId) flags.add(rawMessageId ? 'invalid_message_id' : 'missing_message_id');
    const externalId = messageId ? `email:${messageId}` : `email:sha256:${rawFile.sha256}`;

    const known = await this.interactions.findByExternalId(externalId);
    if (known) return { ...known, duplicate: true, created: false, acknowledged: await this.acknowledgeRetried(mail, envelope, externalId, known.interactionId) };

    const sender = await this.identifySender(mail, envelope, flags);
    // Mail kept raw has no From we read, so it is never authenticated (it joins no thread anyway).
    const verdict = senderVerdict(this.settings.trust, headerLines, mail && sender.from ? sender.from.address : null, { address: envelope.clientAddress, authenticated: envelope.clientAuthenticated });
    const verified = verdict !== 'unauthenticated';
    if (!verified) flags.add('unverified_sender');
    const thread = mail ? await this.findThread(mail, envelope, sender.customerId, flags, verified) : null;
    const content: EmailContent = mail ? await extractContent(mail, this.store, this.settings.attachmentCaps) : { text: '', data: {}, attachments: [], flags: [] };
    for (const flag of content.flags) flags.add(flag);
    const subject = oneLine(mail?.subject ?? '').slice(0, 500);
    const date = mail ? sentDate(mail, flags) : undefined;

    const recorded = await this.interactions.recordInboundEvent({
      externalId,
      customerId: sender.customerId,
      channel: 'email',
      direction: 'inbound',
      ...(subject ? { subject } : {}),
      appendTo: thread?.interactionId,
      entry: {
        kind: 'message',
        direction: 'inbound',
        text: content.text,
        data: {
          ...content.data,
          subject,
          ...(messageId ? { messageId } : {}),
          ...(mail?.inReplyTo ? { inReplyTo: oneLine(mail.inReplyTo).slice(0, 1000) } : {}),
          references: extractMessageIdCandidates(undefined, mail?.references),
          ...(sender.from ? { from: sender.from } : {}),
          to: mail ? mail.to.slice(0, 50) : [],
          cc: mail ? mail.cc.slice(0, 50) : [],
          ...(date ? { date } : {}),
          envelope: { mailFrom: envelope.mailFrom ?? '', rcptTo: envelope.rcptTo.slice(0, 50) },
          raw: { path: rawFile.path, size: rawFile.size, sha256: rawFile.sha256 },
          ...(thread ? { threadedBy: thread.matchedBy } : {}),
        },
        attachments: content.attachments,
        flags: [...flags],
      },
    });
    const result: ReceivedEmail = { interactionId: recorded.interaction.id, entryId: recorded.entryId, duplicate: recorded.duplicate, created: recorded.created, ...(thread ? { threadedBy: thread.matchedBy } : {}), acknowledged: false };
    if (recorded.duplicate) return result;

    const interactionFlags = [...flags]
      .filter((flag) => flag === 'unparseable' || flag === 'unknown_sender' || flag === 'parse_timeout' || (flag === 'unverified_sender' && recorded.created))
      .map((flag) => `email_${flag}`);
    if (thread && closedStatuses.has(recorded.interaction.status)) {
      // Back in its queue (routing queues it again: the channel's queue when it never had one).
      await this.interactions.updateInteraction(recorded.interaction.id, { status: 'queued', queuedAt: new Date() }, ['reopened_by_email', ...interactionFlags]);
    } else if (interactionFlags.length) {
      await this.interactions.updateInteraction(recorded.interaction.id, {}, interactionFlags);
    }
    this.log.info({ interactionId: result.interactionId, entryId: result.entryId, created: result.created, threadedBy: thread?.matchedBy, flags: [...flags] }, 'email received');
    if (recorded.created && mail && !sender.unknown) {
      result.acknowledged = await this.acknowledge(mail, sender.address, { interactionId: result.interactionId, customerId: sender.customerId, externalId });
    }
    return result;
  }

  /** The customer behind the From address; else the envelope sender; else the shared unknown sender. */
  private async identifySender(mail: DigestedEmail | null, envelope: InboundEnvelope, flags: Set<string>): Promise<{ customerId: string; address: string; unknown: boolean; from?: { address: string; name: string } }> {
    const fromEntries = mail?.from?.filter((entry) => entry.address) ?? [];
    if (fromEntries.length > 1) flags.add('multiple_from');
    const fromAddress = fromEntries[0]?.address ? normalizeEmail(cleanText(fromEntries[0].address)) : null;
    const name = oneLine(fromEntries[0]?.name ?? '').slice(0, 120);
    if (fromAddress) {
      if (isOurAddress(fromAddress, this.settings.supportEmail)) flags.add('from_our_address');
      const { customer } = await this.customers.resolveCustomer({ email: fromAddress, ...(name ? { name } : {}) });
      return { customerId: customer.id, address: fromAddress, unknown: false, from: { address: fromAddress, name } };
    }
    flags.add(mail?.from ? 'invalid_from' : 'missing_from');
    const envelopeAddress = envelope.mailFrom ? normalizeEmail(envelope.mailFrom) : null;
    if (envelopeAddress && !isOurAddress(envelopeAddress, this.settings.supportEmail)) {
      flags.add('sender_from_envelope');
      const { customer } = await this.customers.resolveCustomer({ email: envelopeAddress });
      return { customerId: customer.id, address: envelopeAddress, unknown: false };
    }
    flags.add('unknown_sender');
    const { customer } = await this.customers.resolveCustomer({ email: unknownSenderEmail, name: 'Unknown email sender' });
    return { customerId: customer.id, address: unknownSenderEmail, unknown: true };
  }

  /**
   * The interaction this email continues: by a Message-ID it refers to, by the reply token in the
   * address it was sent to, or by a `[#ref]` subject tag. Refs are short and visible, so a tag only
   * joins a thread of the same customer; ids and tokens are unguessable and join any sender (a
   * colleague in Cc), flagged when the sender differs. An unauthenticated sender (see email-trust.ts)
   * joins only by a Message-ID we sent to that same customer (`repliesToOurMail`).
   */
  private async findThread(mail: DigestedEmail, envelope: InboundEnvelope, customerId: string, flags: Set<string>, verified: boolean): Promise<ThreadMatch | null> {
    const joinable = async (interactionId: string | null | undefined, matchedBy: ThreadMatch['matchedBy'], entryId?: string): Promise<ThreadMatch | null> => {
      if (!interactionId) return null;
      // The state only: a long thread is several parts, and none of its entries is needed here.
      const interaction = await this.interactions.getInteractionState(interactionId).catch(() => null);
      if (!interaction || interaction.channel !== 'email') return null;
      // Only the entry it answers is read (one part), not the whole thread.
      const answered = !verified && entryId ? await this.interactions.findEntry(interactionId, entryId).catch(() => null) : null;
      if (!verified && !repliesToOurMail(interaction, answered, customerId)) {
        flags.add('thread_join_refused');
        return null;
      }
      if (interaction.customerId !== customerId) {
        if (matchedBy === 'subject_ref') return null;
        flags.add('thread_sender_differs');
      }
      return { interactionId, matchedBy };
    };
    for (const id of extractMessageIdCandidates(mail.inReplyTo, mail.references)) {
      const known = await this.interactions.findByExternalId(`email:${id}`);
      const match = await joinable(known?.interactionId, 'references', known?.entryId);
      if (match) return match;
    }
    const recipients = [...mail.to, ...mail.cc, ...envelope.rcptTo, ...(mail.deliveredTo ? [mail.deliveredTo] : [])];
    for (const token of extractReplyTokens(recipients, this.settings.supportEmail)) {
      const match = await joinable(await this.threads.interactionForToken(token), 'reply_token');
      if (match) return match;
    }
    for (const ref of extractSubjectRefs(mail.subject)) {
      const match = await joinable(await this.threads.interactionForRef(ref), 'subject_ref');
      if (match) return match;
    }
    return null;
  }

  /**
   * Counts one acknowledgement against the sender's mailbox and domain (atomic in Redis); false past
   * either limit. Fails open while Redis is down (one warning per outage): the loop guard still
   * stands, and the acknowledgement itself is sent only once Redis takes its send job.
   */
  private underAcknowledgementLimits(senderAddress: string): Promise<boolean> {
    return failOpen(this.redis, this.log, 'email acknowledgement limit', true, () => this.countAcknowledgement(senderAddress));
  }

  private async countAcknowledgement(senderAddress: string): Promise<boolean> {
    const mailbox = mailboxOf(senderAddress);
    const prefix = `${this.settings.redisKeyPrefix}email:ack-rate:`;
    const perMailbox = await countInWindow(this.redis, `${prefix}${sha256(Buffer.from(mailbox))}`, acknowledgementWindowMs);
    if (perMailbox > acknowledgementsPerWindow) return false;
    const domain = mailbox.slice(mailbox.lastIndexOf('@') + 1);
    return (await countInWindow(this.redis, `${prefix}domain:${sha256(Buffer.from(domain))}`, acknowledgementWindowMs)) <= acknowledgementsPerDomainWindow;
  }

  /**
   * A retried delivery of an email already stored: the node that stored it may have died before it
   * answered 250 and before it queued the acknowledgement. The acknowledgement is queued again when
   * this email began its conversation (as on a first delivery); it is keyed by the message, so one
   * queued already is not sent twice.
   */
  private async acknowledgeRetried(mail: DigestedEmail | null, envelope: InboundEnvelope, externalId: string, interactionId: string): Promise<boolean> {
    if (!this.settings.acknowledge || !mail) return false;
    const interaction = await this.interactions.getInteractionState(interactionId);
    if (interaction.externalIds[0] !== externalId) return false;
    const sender = await this.identifySender(mail, envelope, new Set());
    if (sender.unknown) return false;
    return this.acknowledge(mail, sender.address, { interactionId, customerId: interaction.customerId, externalId });
  }

  /** Sends the acknowledgement when configured, the loop guard agrees and the sender is under the rate limit. */
  private async acknowledge(mail: DigestedEmail, senderAddress: string, target: { interactionId: string; customerId: string; externalId: string }): Promise<boolean> {
    if (!this.settings.acknowledge) return false;
    const verdict: AcknowledgeVerdict = shouldAcknowledge(headerRecord(mail.headerLines), senderAddress, this.settings.supportEmail);
    if (!verdict.acknowledge) {
      this.log.info({ interactionId: target.interactionId, reason: verdict.reason }, 'acknowledgement skipped');
      return false;
    }
    if (!(await this.underAcknowledgementLimits(senderAddress))) {
      this.log.info({ interactionId: target.interactionId, reason: 'rate_limited' }, 'acknowledgement skipped');
      return false;
    }
    try {
      const keys = await this.threads.ensureKeys(target.interactionId);
      const template = acknowledgementEmail({ ref: keys.ref });
      await this.outbound.sendEmail({
        interactionId: target.interactionId,
        customerId: target.customerId,
        to: senderAddress,
        ...template,
        automatic: true,
        idempotencyKey: `ack:${target.externalId}`,
      });
      return true;
    } catch (error) {
      // The email itself is recorded; a lost acknowledgement is not worth failing the SMTP delivery.
      this.log.warn({ interactionId: target.interactionId, ...errorFacts(error) }, 'acknowledgement not queued');
      return false;
    }
  }
}

/**
 * The one thread an unauthenticated sender may join: by In-Reply-To/References naming a Message-ID
 * that we generated (random, only ever delivered to this customer's mailbox), in a conversation of
 * the customer its From resolved to. A subject tag is short and visible and a reply token travels in
 * every forward, so neither is evidence alone; a real client always sets In-Reply-To, so a genuine
 * customer whose domain has no DKIM/DMARC still threads.
 */
function repliesToOurMail(interaction: { customerId: string }, answered: { direction?: string } | null, customerId: string): boolean {
  return interaction.customerId === customerId && answered?.direction === 'outbound';
}

/** `li+anything@x.cn` → `li@x.cn`: one mailbox, whatever tag a flood puts on it. */
function mailboxOf(address: string): string {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const plus = local.indexOf('+');
  return `${plus > 0 ? local.slice(0, plus) : local}${address.slice(at)}`.toLowerCase();
}

/** The Date header as ISO time, or undefined (and flagged) when it is garbage; the parser would put "now" there. */
function sentDate(mail: DigestedEmail, flags: Set<string>): string | undefined {
  const line = mail.headerLines.find((header) => header.key === 'date')?.line;
  if (!line) return undefined;
  const parsed = new Date(line.slice(line.indexOf(':') + 1).trim());
  if (Number.isNaN(parsed.getTime())) {
    flags.add('invalid_date');
    return undefined;
  }
  return parsed.toISOString();
}

import type { Redis } from 'ioredis';
import type { SendEmailInput } from '../channels/email';
import type { SendSmsInput, SmsReplyClaim } from '../channels/sms';
import type { Interaction, InteractionService } from '../interactions';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { shiftOutOfQuietHours, type QuietHours } from './quiet-hours';
import type { SurveyJob, SurveyJobs } from './survey.jobs';
import type { SurveyChannel } from './survey.model';
import type { SurveyRepository } from './survey.repository';
import { signSurveyToken, verifySurveyToken } from './survey-token';

/** What the reports module is told for each recorded answer (its `recordCsatAnswer` input). */
export interface CsatAnswer {
  interactionId: string;
  queue?: string;
  agentId?: string;
  /** The surveyed contact's channel (voice, sms, email). */
  channel: string;
  score: number;
  at: Date;
}

export interface SurveySettings {
  delayMs: number;
  windowMs: number;
  quietHours: QuietHours | null;
  /** Base of the public answer links, e.g. https://support.example.com */
  publicBaseUrl: string;
  linkKey: Buffer;
  redisKeyPrefix: string;
}

export interface SurveyDeps {
  repository: SurveyRepository;
  jobs: SurveyJobs;
  interactions: InteractionService;
  redis: Redis;
  /** Absent when the process has no SMS/email channel; such surveys are skipped. */
  sendSms?: (input: SendSmsInput) => Promise<unknown>;
  sendEmail?: (input: SendEmailInput) => Promise<unknown>;
  onAnswer: (answer: CsatAnswer) => Promise<void>;
  settings: SurveySettings;
  log: Logger;
}

export const smsSurveyText = 'How did we do? Reply 1 (poor) to 5 (excellent).';
export const smsThanksText = 'Thank you for your rating!';
const scoreLabels: Record<number, string> = { 1: '1 (poor)', 2: '2', 3: '3', 4: '4', 5: '5 (excellent)' };

/** The survey channel for a contact an agent handled to completion, or null when it gets none. */
export function surveyChannelFor(interaction: Interaction): SurveyChannel | null {
  // wrap_up is what completing the work sets; closed covers a completion whose wrap-up already ended.
  if (interaction.status !== 'wrap_up' && interaction.status !== 'closed') return null;
  // Outbound notifications and contacts no agent answered (abandoned, bot-only) are not surveyed.
  if (interaction.direction !== 'inbound' || !interaction.agentId || !interaction.answeredAt) return null;
  if (interaction.channel === 'sms' || interaction.channel === 'voice') return 'sms';
  if (interaction.channel === 'email') return 'email';
  return null;
}

/** A score when the whole text is one digit 1–5, give or take spaces and punctuation ("5", " 4. ", "(3)"). */
export function parseScoreReply(text: string): number | null {
  const match = /^[\s\p{P}]*([1-5])[\s\p{P}]*$/u.exec(text);
  return match ? Number(match[1]) : null;
}

export type LinkAnswerOutcome = 'recorded' | 'already_answered' | 'expired' | 'invalid';

/** The Redis key naming the customer's SMS survey awaiting a 1–5 reply (the reply claimer reads it). */
export function surveyPendingKey(redisKeyPrefix: string, customerId: string): string {
  return `${redisKeyPrefix}csat:pending:${customerId}`;
}

/** A bounded set of ids; the oldest is forgotten first. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly limit: number) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value!);
  }
}

/** CSAT surveys: scheduled on completion, sent by the contact's channel, answered by SMS reply or link. */
export class SurveyService {
  /** Interactions whose survey this process created (or found) and queued: their later changes need nothing. */
  private readonly scheduledHere = new RecentIds(10_000);

  constructor(private readonly deps: SurveyDeps) {}

  private pendingKey(customerId: string): string {
    return surveyPendingKey(this.deps.settings.redisKeyPrefix, customerId);
  }

  /**
   * Interaction listener: schedules the survey once per interaction, however often the change is
   * told. Only a change that can start a survey (completed, by an agent) touches the store, with one
   * create-once write; a later change this process already scheduled the survey for, not at all.
   */
  async onInteractionChange({ interaction }: { interaction: Interaction }): Promise<void> {
    const channel = surveyChannelFor(interaction);
    if (!channel || this.scheduledHere.has(interaction.id)) return;
    const { repository, jobs, settings, log } = this.deps;
    const dueAt = shiftOutOfQuietHours(new Date(Date.now() + settings.delayMs), settings.quietHours);
    const queue = queueOf(interaction);
    const outcome = await repository.createOnce({
      _id: interaction.id, customerId: interaction.customerId, channel, contactChannel: interaction.channel, dueAt,
      ...(queue ? { queue } : {}), ...(interaction.agentId ? { agentId: interaction.agentId } : {}),
    });
    const existing = outcome.created ? null : outcome.existing;
    if (existing && existing.status !== 'scheduled') {
      this.scheduledHere.add(interaction.id);
      return;
    }
    // Also when it existed but was still scheduled: a crash may have come between create and add;
    // the job id makes the add a no-op otherwise.
    const due = existing ? new Date(existing.dueAt) : dueAt;
    await jobs.scheduleSend(interaction.id, due.getTime() - Date.now());
    this.scheduledHere.add(interaction.id);
    if (outcome.created) log.info({ interactionId: interaction.id, channel, dueAt }, 'csat survey scheduled');
  }

  async handleJob(job: SurveyJob): Promise<void> {
    if (job.kind === 'send') await this.send(job.interactionId);
    else if (await this.deps.repository.markExpired(job.interactionId)) this.deps.log.info({ interactionId: job.interactionId }, 'csat survey expired');
  }

  /** Sends the survey; a retry after a crash resends nothing (the channels are idempotent on our key). */
  async send(interactionId: string): Promise<void> {
    const { repository, settings, log } = this.deps;
    let survey = await repository.find(interactionId);
    if (!survey) return;
    if (survey.status === 'scheduled') {
      const interaction = await this.deps.interactions.getInteraction(interactionId);
      const skipReason = survey.channel === 'sms' ? await this.sendSmsSurvey(interaction) : await this.sendEmailSurvey(interaction);
      if (skipReason) {
        if (await repository.markSkipped(interactionId, skipReason)) log.info({ interactionId, reason: skipReason }, 'csat survey skipped');
        return;
      }
      const sentAt = new Date();
      if (await repository.markSent(interactionId, sentAt, new Date(sentAt.getTime() + settings.windowMs))) log.info({ interactionId, channel: survey.channel }, 'csat survey sent');
      survey = await repository.find(interactionId);
    }
    if (survey?.status !== 'pending' || !survey.expiresAt) return;
    // Done on every run, not only the first, so a retry restores what a crash left out.
    const remainingMs = new Date(survey.expiresAt).getTime() - Date.now();
    if (remainingMs <= 0) return;
    if (survey.channel === 'sms') await this.deps.redis.set(this.pendingKey(survey.customerId), interactionId, 'PX', remainingMs);
    await this.deps.jobs.scheduleExpiry(interactionId, remainingMs);
  }

  /** Null when sent (queued), else why the survey is skipped. */
  private async sendSmsSurvey(interaction: Interaction): Promise<string | null> {
    if (!this.deps.sendSms) return 'sms_unavailable';
    // An SMS conversation is answered on the number the customer texted from; a call, on their mobile.
    const lastFrom = [...(interaction.entries ?? [])].reverse().find((entry) => entry.direction === 'inbound' && typeof entry.data?.from === 'string')?.data?.from as string | undefined;
    try {
      await this.deps.sendSms({
        interactionId: interaction.id, customerId: interaction.customerId, text: smsSurveyText, idempotencyKey: `csat-${interaction.id}`,
        ...(interaction.channel === 'sms' && lastFrom ? { to: lastFrom } : {}),
      });
      return null;
    } catch (error) {
      return skipReasonFor(error, 'sms');
    }
  }

  private async sendEmailSurvey(interaction: Interaction): Promise<string | null> {
    if (!this.deps.sendEmail) return 'email_unavailable';
    const links = [1, 2, 3, 4, 5].map((score) => ({ score, url: this.answerUrl(interaction.id, score) }));
    const text = [
      'How did we do?',
      '',
      'Please rate the help you got by opening one of these links:',
      ...links.map((link) => `${scoreLabels[link.score]}: ${link.url}`),
      '',
      'Thank you!',
    ].join('\n');
    const html =
      '<p>How did we do?</p><p>Please rate the help you got:</p><p>' +
      links.map((link) => `<a href="${link.url}">${scoreLabels[link.score]}</a>`).join(' &middot; ') +
      '</p><p>Thank you!</p>';
    try {
      await this.deps.sendEmail({ interactionId: interaction.id, customerId: interaction.customerId, subject: 'How did we do?', text, html, automatic: true, idempotencyKey: `csat-${interaction.id}` });
      return null;
    } catch (error) {
      return skipReasonFor(error, 'email');
    }
  }

  /** The public link that answers the survey with `score`. */
  answerUrl(interactionId: string, score: number): string {
    return `${this.deps.settings.publicBaseUrl}/csat/${signSurveyToken(interactionId, this.deps.settings.linkKey)}?score=${score}`;
  }

  /**
   * SMS reply claimer: takes "1".."5" from a customer whose survey is pending and in its window.
   * Reads only; the answer is recorded once the text is logged (onRecorded).
   */
  async claimSmsReply(reply: { customerId: string; text: string; receivedAt: Date }): Promise<SmsReplyClaim | null> {
    const score = parseScoreReply(reply.text);
    if (score === null) return null;
    const interactionId = await this.deps.redis.get(this.pendingKey(reply.customerId));
    if (!interactionId) return null;
    const survey = await this.deps.repository.find(interactionId);
    if (survey?.status !== 'pending' || survey.channel !== 'sms' || !survey.expiresAt || reply.receivedAt >= new Date(survey.expiresAt)) return null;
    return {
      interactionId,
      answer: smsThanksText,
      onRecorded: async (entryId) => {
        await this.recordAnswer(interactionId, { score, at: reply.receivedAt, via: 'sms', replyEntryId: entryId });
      },
    };
  }

  /**
   * What an opened email link shows, without recording anything: mail scanners fetch every link, so
   * only the customer's confirmation (a POST, `answerByLink`) records. `open`: ready for an answer.
   */
  async checkLink(token: string): Promise<LinkAnswerOutcome | 'open'> {
    const checked = await this.openSurvey(token);
    return typeof checked === 'string' ? checked : 'open';
  }

  /** The customer's confirmed answer from an email link (a POST). */
  async answerByLink(token: string, score: number): Promise<LinkAnswerOutcome> {
    const checked = await this.openSurvey(token);
    if (typeof checked === 'string') return checked;
    return (await this.recordAnswer(checked.interactionId, { score, at: checked.now, via: 'link' })) ? 'recorded' : 'already_answered';
  }

  private async openSurvey(token: string): Promise<LinkAnswerOutcome | { interactionId: string; now: Date }> {
    const interactionId = verifySurveyToken(token, this.deps.settings.linkKey);
    if (!interactionId) return 'invalid';
    const survey = await this.deps.repository.find(interactionId);
    if (!survey || survey.status === 'scheduled' || survey.status === 'skipped') return 'invalid';
    if (survey.status === 'answered') return 'already_answered';
    const now = new Date();
    if (survey.status === 'expired' || !survey.expiresAt || now >= new Date(survey.expiresAt)) return 'expired';
    return { interactionId, now };
  }

  /** First answer wins; records it on the interaction and tells reports. False when it came too late. */
  private async recordAnswer(interactionId: string, answer: { score: number; at: Date; via: 'sms' | 'link'; replyEntryId?: string }): Promise<boolean> {
    const { repository, interactions, log } = this.deps;
    const survey = await repository.markAnswered(interactionId, answer);
    if (!survey) {
      log.info({ interactionId, via: answer.via }, 'csat answer ignored: survey not pending');
      return false;
    }
    await interactions.appendEntry(interactionId, {
      kind: 'system',
      direction: 'internal',
      at: answer.at,
      text: `Customer satisfaction: ${answer.score}/5`,
      data: { event: 'csat_answered', score: answer.score, via: answer.via, ...(answer.replyEntryId ? { replyEntryId: answer.replyEntryId } : {}) },
    });
    log.info({ interactionId, score: answer.score, via: answer.via }, 'csat answer recorded');
    try {
      await this.deps.onAnswer({ interactionId, ...(survey.queue ? { queue: survey.queue } : {}), ...(survey.agentId ? { agentId: survey.agentId } : {}), channel: survey.contactChannel, score: answer.score, at: answer.at });
    } catch (error) {
      // The answer is on the survey and the interaction; a rebuild of the reports picks it up.
      log.error({ err: error, interactionId }, 'csat answer listener failed');
    }
    return true;
  }
}

/** Refusals that no retry can fix become a skip reason; anything else is thrown for the job to retry. */
function skipReasonFor(error: unknown, channel: 'sms' | 'email'): string {
  if (!(error instanceof AppError)) throw error;
  const details = (Array.isArray(error.details) ? {} : error.details) ?? {};
  if (error.code === 'conflict' && details.reason === 'sms_opted_out') return 'opted_out';
  if (error.code === 'conflict' || error.code === 'validation_failed') return channel === 'sms' ? 'no_mobile' : 'no_email';
  if (error.code === 'unavailable' && channel === 'sms') return 'sms_unavailable';
  throw error;
}

/**
 * The queue the contact was answered from. Calls carry it on the interaction; texts and emails are
 * queued by channel and only routing's `accepted` entry names the queue (the last one, after a transfer).
 */
function queueOf(interaction: Interaction): string | undefined {
  const accepted = [...(interaction.entries ?? [])].reverse().find((entry) => entry.data?.event === 'accepted' && typeof entry.data.queue === 'string');
  return (accepted?.data?.queue as string | undefined) ?? interaction.queue;
}

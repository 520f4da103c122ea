import type { Redis } from 'ioredis';
import type { Logger } from '../platform/logger';
import type { Repair } from '../platform/repair';
import type { SurveyJobs } from './survey.jobs';
import type { Survey, SurveyRepository } from './survey.repository';
import { surveyPendingKey } from './survey.service';

/** One Redis item a survey should have, from its record: a timer (with its delay) or the SMS reply key. */
export type SurveyTimer = { kind: 'send' | 'expire'; delayMs: number } | { kind: 'reply_key'; customerId: string; ttlMs: number };

/**
 * What a survey record says Redis should hold. Scheduled: the send at its due time (at once when
 * past). Pending: the expiry at `expiresAt` (at once when past), and for an SMS survey still open,
 * the key that lets the customer's "1".."5" reply find it.
 */
export function dueSurveyTimers(survey: Pick<Survey, 'status' | 'channel' | 'customerId' | 'dueAt' | 'expiresAt'>, now: Date): SurveyTimer[] {
  if (survey.status === 'scheduled') return [{ kind: 'send', delayMs: Math.max(0, new Date(survey.dueAt).getTime() - now.getTime()) }];
  if (survey.status !== 'pending' || !survey.expiresAt) return [];
  const remainingMs = new Date(survey.expiresAt).getTime() - now.getTime();
  const expire: SurveyTimer = { kind: 'expire', delayMs: Math.max(0, remainingMs) };
  return survey.channel === 'sms' && remainingMs > 0 ? [expire, { kind: 'reply_key', customerId: survey.customerId, ttlMs: remainingMs }] : [expire];
}

/**
 * The reconciler's repair for CSAT surveys: sends due and expiries re-created under their usual job
 * ids, and the SMS reply keys put back. A customer with two open SMS surveys gets the key of the one
 * sent last (as sending does); a key still present is never overwritten.
 */
export function surveyRepair(deps: { repository: Pick<SurveyRepository, 'unfinished'>; jobs: SurveyJobs; redis: Redis; redisKeyPrefix: string; log: Logger; now?: () => Date }): Repair {
  return {
    name: 'csat-surveys',
    async run() {
      const now = deps.now?.() ?? new Date();
      let restored = 0;
      const replyKeys = new Map<string, { interactionId: string; sentAt: number; ttlMs: number }>();
      for await (const survey of deps.repository.unfinished()) {
        for (const timer of dueSurveyTimers(survey, now)) {
          if (timer.kind === 'reply_key') {
            const sentAt = survey.sentAt ? new Date(survey.sentAt).getTime() : 0;
            const current = replyKeys.get(timer.customerId);
            if (!current || current.sentAt <= sentAt) replyKeys.set(timer.customerId, { interactionId: survey._id, sentAt, ttlMs: timer.ttlMs });
            continue;
          }
          const added = timer.kind === 'send' ? await deps.jobs.restoreSend(survey._id, timer.delayMs) : await deps.jobs.restoreExpiry(survey._id, timer.delayMs);
          if (added) deps.log.info({ interactionId: survey._id, step: timer.kind, overdue: timer.delayMs === 0 }, 'csat survey timer restored');
          restored += added;
        }
      }
      for (const [customerId, key] of replyKeys) {
        // NX: a key still there names the survey the customer was last asked; it stays.
        const set = await deps.redis.set(surveyPendingKey(deps.redisKeyPrefix, customerId), key.interactionId, 'PX', Math.max(1, Math.round(key.ttlMs)), 'NX');
        if (set === 'OK') {
          deps.log.info({ interactionId: key.interactionId }, 'csat sms reply key restored');
          restored += 1;
        }
      }
      return restored;
    },
  };
}

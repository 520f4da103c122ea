import type { Queue } from 'bullmq';
import type { Logger } from '../../platform/logger';
import type { Repair } from '../../platform/repair';
import { restoreJobReplacingFailed } from '../../platform/repair-jobs';
import type { EmailSendDocument, EmailSendRepository } from './email-send.repository';
import type { OutboundEmailJob } from './outbound-email.jobs';

/**
 * How long an email may stay `sending` before the reconciler treats its attempt as dead: longer
 * than the per-entry send lock (120 s), which Redis may have lost with the job, so a live worker
 * still talking SMTP is never raced by a second job for the same email.
 */
export const emailSendingGraceMs = 3 * 60_000;

export type EmailRepairAction = 'requeue' | 'wait' | 'none';

/**
 * What the reconciler does with one email send record. `queued` and `retrying`: the job is re-added.
 * `sending`: the attempt ended between `markSending` and the outcome write. When the server had
 * accepted it, the worker finds its answer in Redis (`<prefix>sent:email:<entryId>`, written before
 * the MongoDB write) and only records it. Without that key (the process died during the SMTP
 * exchange, or Redis was down or reset at that instant) whether the server took it is unknown.
 * SMTP offers no way to ask, so once the attempt is surely over the email is sent again,
 * with the Message-ID fixed before the first attempt (kept on the entry): a duplicate, if the first
 * got through, is the same message to the receiving side (mail stores and our chaos check count
 * Message-IDs), where dropping it would lose the email for certain.
 */
export function emailRepairAction(send: Pick<EmailSendDocument, 'state' | 'sendingSince'>, now: Date, graceMs = emailSendingGraceMs): EmailRepairAction {
  if (send.state === 'queued' || send.state === 'retrying') return 'requeue';
  if (send.state !== 'sending') return 'none';
  if (!send.sendingSince) return 'requeue';
  return now.getTime() - new Date(send.sendingSince).getTime() >= graceMs ? 'requeue' : 'wait';
}

/**
 * The reconciler's repair for outbound email: every unfinished send gets its job back under its entry
 * id, also when its job failed for good (all tries inside a database outage left the record open).
 */
export function outboundEmailRepair(deps: { sends: Pick<EmailSendRepository, 'unfinished'>; queue: Queue<OutboundEmailJob>; log: Logger; graceMs?: number; now?: () => Date }): Repair {
  return {
    name: 'email-outbound',
    async run() {
      const now = deps.now?.() ?? new Date();
      let restored = 0;
      for await (const send of deps.sends.unfinished()) {
        if (emailRepairAction(send, now, deps.graceMs) !== 'requeue') continue;
        const added = await restoreJobReplacingFailed(deps.queue as Queue<OutboundEmailJob, unknown, string>, 'send', { interactionId: send.interactionId, entryId: send._id }, { jobId: send._id });
        if (added) deps.log.info({ interactionId: send.interactionId, entryId: send._id, state: send.state }, send.state === 'sending' ? 'email send of unknown outcome restored: resent with its Message-ID' : 'email send restored');
        restored += added;
      }
      return restored;
    },
  };
}

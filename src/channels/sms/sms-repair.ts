import type { Logger } from '../../platform/logger';
import type { QueueFactory } from '../../platform/queues';
import type { Repair } from '../../platform/repair';
import { restoreOutboundSms } from './sms.jobs';
import type { SmsSendDocument } from './sms.model';
import type { SmsRepository } from './sms.repository';

/**
 * How long a send may stay `sending` before the reconciler treats its attempt as dead. Longer than
 * the Twilio client's request timeout (10 s) and the job's whole retry span, so a live worker still
 * inside `messages.create` is never raced by a second job for the same text.
 */
export const smsSendingGraceMs = 2 * 60_000;

export type SmsRepairAction = 'requeue' | 'wait' | 'none';

/**
 * What the reconciler does with one send record. `queued`: the job is re-added. `sending`: the
 * process (or Redis) died during the Twilio call, so whether Twilio took the text is unknown; once
 * the attempt is surely over its job is re-added too, and the worker then asks Twilio (messages to
 * that number from our number with the same body, created since the attempt began) and adopts the
 * message it finds instead of sending again (OutboundSmsService.deliver). Never a blind resend.
 */
export function smsRepairAction(send: Pick<SmsSendDocument, 'state' | 'sendingSince'>, now: Date, graceMs = smsSendingGraceMs): SmsRepairAction {
  if (send.state === 'queued') return 'requeue';
  if (send.state !== 'sending') return 'none';
  // A `sending` record without its start time predates the field: its attempt is long over.
  if (!send.sendingSince) return 'requeue';
  return now.getTime() - new Date(send.sendingSince).getTime() >= graceMs ? 'requeue' : 'wait';
}

/** The reconciler's repair for outbound texts: every unfinished send gets its job back under its entry id. */
export function outboundSmsRepair(deps: { sms: Pick<SmsRepository, 'unfinishedSends'>; queues: QueueFactory; log: Logger; graceMs?: number; now?: () => Date }): Repair {
  return {
    name: 'sms-outbound',
    async run() {
      const now = deps.now?.() ?? new Date();
      let restored = 0;
      let waiting = 0;
      for await (const send of deps.sms.unfinishedSends()) {
        const action = smsRepairAction(send, now, deps.graceMs);
        if (action === 'wait') waiting += 1;
        if (action !== 'requeue') continue;
        const added = await restoreOutboundSms(deps.queues, { interactionId: send.interactionId, entryId: send._id });
        if (added) deps.log.info({ interactionId: send.interactionId, entryId: send._id, state: send.state }, send.state === 'sending' ? 'sms send of unknown outcome restored: twilio is asked before any resend' : 'sms send restored');
        restored += added;
      }
      if (waiting) deps.log.info({ waiting }, 'sms sends still within their attempt: left to the next run');
      return restored;
    },
  };
}

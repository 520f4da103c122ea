import type { SinkMessage } from '../../scripts/standins/smtp-sink';
import type { StandinMessage } from '../../scripts/standins/twilio-standin';
import { emailsSentTwice, judgeDeliveries, missingNotices, smsSentTwice, waitingLimit, type SlaFindings, type StoreFindings } from './checks';
import type { Delivery } from './deliveries';
import type { RollupComparison } from './rollups';
import type { TaskOp } from './task-ops';

/**
 * The verdict of a chaos run: what the harness recorded (phases, deliveries, task changes) and
 * read afterwards (store, waiting lists, SLA, stand-ins, rollups) turned into per-phase rows, totals
 * and pass/fail checks.
 */

/** The faults the run injects, in order. */
export const faultNames = ['redis', 'ferretdb', 'node', 'redis-empty'] as const;
export type FaultName = (typeof faultNames)[number];

export const faultTitles: Record<FaultName, string> = {
  redis: 'Redis killed (SIGKILL), restarted from its append-only file',
  ferretdb: 'FerretDB killed (SIGKILL), restarted',
  node: 'One app node killed (SIGKILL), restarted',
  'redis-empty': 'Redis killed (SIGKILL), restarted EMPTY (failover to an empty replica)',
};

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

export interface PhaseResult {
  phase: string;
  fault: FaultName | null;
  title: string;
  startedAt: string;
  endedAt: string;
  contacts: { sent: number; acknowledged: number; stored: number; lost: number; duplicated: number; unacknowledged: number; refusedPermanently: number; retried: number };
  /**
   * At the end of the phase (just before the next fault), over every contact stored so far (3 s
   * old or more): how many should wait for an agent (open/queued in MongoDB) and how many of them
   * routing does not list as waiting. So each fault is judged before the next one hides it.
   */
  waitingAtEnd: { expected: number; missing: number; error?: string };
  /** After the run: stored contacts first sent in this phase that should wait, and those not waiting. */
  waitingFinal: { expected: number; missing: number };
  tasks: { started: number; filed: number; fileFailed: number; resolved: number; slaDue: number; slaNotFired: number };
  sentTwice: { sms: number; email: number };
  /** Messages contacts and tasks of this phase must cause (email acknowledgements, task notices), and those never sent. */
  notices: { expected: number; missing: number };
  /** Restart → every node's /readyz ready; restart → a new text stored and listed as waiting. Null for the baseline. */
  recovery: { readyMs: number | null; contactQueuedMs: number | null } | null;
}

export type Totals = PhaseResult['contacts'] & { noticesExpected: number; noticesMissing: number; waitingExpected: number; waitingMissing: number; handled: number; smsSent: number; emailsSent: number; smsSentTwice: number; emailsSentTwice: number; tasksFiled: number; slaDue: number; slaNotFired: number; slaNotYetDue: number };

export interface PhaseWindow {
  name: string;
  fault: FaultName | null;
  start: number;
  end: number;
  recovery: PhaseResult['recovery'];
  waitingAtEnd: PhaseResult['waitingAtEnd'];
}

export interface RunRecord {
  windows: PhaseWindow[];
  deliveries: Delivery[];
  taskOps: TaskOp[];
  store: StoreFindings;
  waiting: { ids: Set<string>; truncated: string[]; error?: string };
  missingWaiting: StoreFindings['shouldWait'];
  sla: SlaFindings;
  rollups: RollupComparison;
  smsMessages: StandinMessage[];
  emailMessages: SinkMessage[];
  unexpectedNodeExits: number;
  recoveryTimeoutSeconds: number;
}

export function judgeRun(record: RunRecord): { phases: PhaseResult[]; totals: Totals; checks: Check[] } {
  const { windows, deliveries, taskOps, store, waiting, missingWaiting, sla, rollups, smsMessages, emailMessages, unexpectedNodeExits, recoveryTimeoutSeconds } = record;
  const judged = judgeDeliveries(deliveries, store);
  const notices = missingNotices(deliveries, taskOps, smsMessages, emailMessages);
  const smsTwice = smsSentTwice(smsMessages);
  const emailTwice = emailsSentTwice(emailMessages);
  const emailTwiceAll = [...emailTwice.byMessageId, ...emailTwice.byContent.filter((copy) => !emailTwice.byMessageId.some((other) => other.secondAt === copy.secondAt))];
  const deliveryPhase = new Map(deliveries.map((delivery) => [delivery.externalId, delivery.phase]));
  const missingByPhase = new Map<string, number>();
  const expectedByPhase = new Map<string, number>();
  for (const interaction of store.shouldWait) {
    const externalId = [...store.interactionByExternalId].find(([, owner]) => owner._id === interaction._id)?.[0];
    const name = (externalId && deliveryPhase.get(externalId)) ?? 'unknown';
    expectedByPhase.set(name, (expectedByPhase.get(name) ?? 0) + 1);
    if (!waiting.ids.has(interaction._id)) missingByPhase.set(name, (missingByPhase.get(name) ?? 0) + 1);
  }
  const inWindow = (at: number, entry: PhaseWindow, index: number) => (index === 0 || at >= entry.start) && (index === windows.length - 1 || at < windows[index + 1].start);

  const phases: PhaseResult[] = windows.map((entry, index) => {
    const mine = deliveries.filter((delivery) => delivery.phase === entry.name);
    const stored = mine.filter((delivery) => delivery.ackedAt !== undefined && (store.entriesByExternalId.get(delivery.externalId) ?? 0) > 0).length;
    const ops = taskOps.filter((op) => op.phase === entry.name);
    // A timer belongs to the phase in which it came due (a timer set before a fault and lost in it counts there).
    const due = sla.due.filter((task) => inWindow(task.firesAt, entry, index));
    return {
      phase: entry.name,
      fault: entry.fault,
      title: entry.fault ? faultTitles[entry.fault] : 'Baseline: no fault',
      startedAt: new Date(entry.start).toISOString(),
      endedAt: new Date(entry.end).toISOString(),
      contacts: {
        sent: mine.length,
        acknowledged: mine.filter((delivery) => delivery.ackedAt !== undefined).length,
        stored,
        lost: judged.lost.filter((delivery) => delivery.phase === entry.name).length,
        duplicated: judged.duplicated.filter((delivery) => delivery.phase === entry.name).length,
        unacknowledged: mine.filter((delivery) => delivery.ackedAt === undefined && !delivery.refusedPermanently).length,
        refusedPermanently: mine.filter((delivery) => delivery.refusedPermanently).length,
        retried: mine.filter((delivery) => delivery.attempts > 1).length,
      },
      waitingAtEnd: entry.waitingAtEnd,
      waitingFinal: { expected: expectedByPhase.get(entry.name) ?? 0, missing: missingByPhase.get(entry.name) ?? 0 },
      tasks: {
        started: ops.length,
        filed: ops.filter((op) => op.id).length,
        fileFailed: ops.filter((op) => op.fileFailure).length,
        resolved: ops.filter((op) => op.resolvedAt).length,
        slaDue: due.length,
        slaNotFired: due.filter((task) => !task.breachedAt).length,
      },
      sentTwice: {
        sms: smsTwice.filter((copy) => inWindow(copy.secondAt, entry, index)).length,
        email: emailTwiceAll.filter((copy) => inWindow(copy.secondAt, entry, index)).length,
      },
      notices: { expected: notices.expected.filter((notice) => notice.phase === entry.name).length, missing: notices.missing.filter((notice) => notice.phase === entry.name).length },
      recovery: entry.recovery,
    };
  });
  const sum = (pick: (row: PhaseResult) => number) => phases.reduce((total, row) => total + pick(row), 0);
  const totals: Totals = {
    sent: sum((row) => row.contacts.sent),
    acknowledged: sum((row) => row.contacts.acknowledged),
    stored: sum((row) => row.contacts.stored),
    lost: judged.lost.length,
    duplicated: judged.duplicated.length,
    unacknowledged: sum((row) => row.contacts.unacknowledged),
    refusedPermanently: sum((row) => row.contacts.refusedPermanently),
    retried: sum((row) => row.contacts.retried),
    waitingExpected: store.shouldWait.length,
    waitingMissing: missingWaiting.length,
    handled: store.handled,
    smsSent: smsMessages.length,
    emailsSent: emailMessages.length,
    smsSentTwice: smsTwice.length,
    emailsSentTwice: emailTwiceAll.length,
    tasksFiled: taskOps.filter((op) => op.id).length,
    slaDue: sla.due.length,
    slaNotFired: sla.notFired.length,
    slaNotYetDue: sla.notYetDue,
    noticesExpected: notices.expected.length,
    noticesMissing: notices.missing.length,
  };

  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, pass: ok, detail });
  const byPhase = (pick: (row: PhaseResult) => number) => phases.filter((row) => pick(row) > 0).map((row) => `${row.phase} ${pick(row)}`).join(', ');
  check('every acknowledged contact is stored', totals.lost === 0, totals.lost === 0 ? `${totals.acknowledged} acknowledged, each found in MongoDB by its external id` : `${totals.lost} acknowledged but not stored (${byPhase((row) => row.contacts.lost)}); first: ${judged.lost[0].externalId}`);
  check('no contact is stored twice', totals.duplicated === 0, totals.duplicated === 0 ? 'no external id has two entries' : `${totals.duplicated} external ids with more than one entry (${byPhase((row) => row.contacts.duplicated)})`);
  check(
    'every contact is acknowledged once the faults are over (senders retry)',
    totals.unacknowledged === 0 && totals.refusedPermanently === 0,
    totals.unacknowledged === 0 && totals.refusedPermanently === 0
      ? `${totals.retried} contacts needed more than one attempt; all were acknowledged`
      : `${totals.unacknowledged} never acknowledged within the drain (${byPhase((row) => row.contacts.unacknowledged)}), ${totals.refusedPermanently} refused permanently (${byPhase((row) => row.contacts.refusedPermanently)}): ${describeRefusals(deliveries)}`,
  );
  check(
    'every stored contact that was waiting is waiting again (or was handled)',
    !waiting.error && totals.waitingMissing === 0 && waiting.truncated.length === 0,
    waiting.error
      ? `the waiting lists could not be read: ${waiting.error}`
      : waiting.truncated.length
        ? `queues ${waiting.truncated.join(', ')} list ${waitingLimit}+ contacts (the API's limit): lower CHAOS_RATE or the phase lengths`
        : totals.waitingMissing === 0
          ? `${totals.waitingExpected} stored contacts wait (status open/queued), all listed by GET /api/routing/queues/:queue/waiting; ${totals.handled} past waiting`
          : `${totals.waitingMissing} of ${totals.waitingExpected} stored contacts that should wait are in no queue (by the phase they arrived in: ${byPhase((row) => row.waitingFinal.missing)}; at the end of each phase: ${phases.map((row) => `${row.phase} ${row.waitingAtEnd.missing}/${row.waitingAtEnd.expected}`).join(', ')})`,
  );
  const phaseEndMisses = phases.filter((row) => row.waitingAtEnd.missing > 0 || row.waitingAtEnd.error);
  check(
    'after each fault, the contacts that were waiting wait again before the next fault',
    phaseEndMisses.length === 0,
    phaseEndMisses.length === 0
      ? `at every phase end all stored contacts that should wait were listed (${phases.map((row) => `${row.phase} ${row.waitingAtEnd.expected}`).join(', ')})`
      : phaseEndMisses.map((row) => (row.waitingAtEnd.error ? `${row.phase}: lists unreadable (${row.waitingAtEnd.error})` : `${row.phase}: ${row.waitingAtEnd.missing} of ${row.waitingAtEnd.expected} in no queue`)).join('; '),
  );
  check(
    'every task SLA timer that came due fired (breach recorded)',
    totals.slaNotFired === 0,
    `${totals.slaDue} tasks came due while open, ${totals.slaNotFired} without a recorded breach${totals.slaNotFired ? ` (${byPhase((row) => row.tasks.slaNotFired)}; first ${sla.notFired[0].reference})` : ''}; ${totals.slaNotYetDue} not due yet at the end (not judged)`,
  );
  check(
    'every message the traffic must cause was sent (email acknowledgements, task notices)',
    totals.noticesMissing === 0,
    totals.noticesMissing === 0
      ? `${totals.noticesExpected} expected, all received by the stand-ins`
      : `${totals.noticesMissing} of ${totals.noticesExpected} never sent (${byPhase((row) => row.notices.missing)}); e.g. ${notices.missing.slice(0, 3).map((notice) => notice.what).join('; ')}`,
  );
  check('no SMS was sent twice', totals.smsSentTwice === 0, `${totals.smsSent} texts sent to the Twilio stand-in, ${totals.smsSentTwice} more than once${smsTwice.length ? ` (${byPhase((row) => row.sentTwice.sms)}; e.g. ${smsTwice.slice(0, 2).map((copy) => `${copy.copies} × ${describeKey(copy.key)}`).join('; ')})` : ''}`);
  check('no email was sent twice', totals.emailsSentTwice === 0, `${totals.emailsSent} emails received by the SMTP sink, ${totals.emailsSentTwice} more than once (same Message-ID, or same recipient, subject and text)${emailTwiceAll.length ? ` (${byPhase((row) => row.sentTwice.email)}; e.g. ${emailTwiceAll.slice(0, 2).map((copy) => `${copy.copies} × ${describeKey(copy.key)}`).join('; ')})` : ''}`);
  const unrecovered = phases.filter((row) => row.recovery && (row.recovery.readyMs === null || row.recovery.contactQueuedMs === null));
  check(
    'every fault recovered in time (nodes ready, a new contact stored and queued)',
    unrecovered.length === 0,
    unrecovered.length === 0 ? `within ${recoveryTimeoutSeconds} s: ` + phases.filter((row) => row.recovery).map((row) => `${row.phase} ${ms(Math.max(row.recovery!.readyMs!, row.recovery!.contactQueuedMs!))}`).join(', ') : `not recovered within ${recoveryTimeoutSeconds} s: ${unrecovered.map((row) => `${row.phase} (ready ${ms(row.recovery!.readyMs)}, contact queued ${ms(row.recovery!.contactQueuedMs)})`).join(', ')}`,
  );
  check(
    'live report rollups equal a rebuild from the raw log (no count lost with two nodes writing)',
    !rollups.error && rollups.differences.length === 0,
    rollups.error
      ? `not compared: ${rollups.error}`
      : rollups.differences.length === 0
        ? `${rollups.buckets} buckets of ${rollups.days.fromDay}…${rollups.days.toDay}, every counter equal`
        : `${rollups.differences.length} bucket fields differ, e.g. ${rollups.differences.slice(0, 4).map((diff) => `${diff.bucket} ${diff.field} live ${diff.live} / rebuilt ${diff.rebuilt}`).join('; ')}`,
  );
  check('no app node died on its own', unexpectedNodeExits === 0, unexpectedNodeExits === 0 ? 'both nodes ran until stopped (but for the deliberate kill)' : `${unexpectedNodeExits} unexpected exits; see the node logs`);
  return { phases, totals, checks };
}

function describeRefusals(deliveries: Delivery[]): string {
  const totals = new Map<string, number>();
  for (const delivery of deliveries) for (const [reason, count] of Object.entries(delivery.refusals)) totals.set(reason, (totals.get(reason) ?? 0) + count);
  return [...totals].sort((a, b) => b[1] - a[1]).map(([reason, count]) => `${reason} ×${count}`).join(', ') || 'none';
}

/** A duplicate's key for the report: the first line, without the customer's address (a test address, but still). */
function describeKey(key: string): string {
  return `"${key.replace(/^\S+ /, '').split('\n')[0].slice(0, 80)}"`;
}

export const ms = (value: number | null) => (value === null ? 'never' : `${(value / 1000).toFixed(1)} s`);

import { Schema, type Connection, type Model } from 'mongoose';
import type { Interaction, InteractionListener } from '../interactions';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { SmsReplyClaimer } from '../channels/sms';
import type { Task } from './task.contracts';

/** "Is it solved? reply YES/NO", asked on one channel and waiting for the customer's answer. */
export interface PendingVerification {
  taskId: string;
  reference: string;
  customerId: string;
  channel: 'sms' | 'email';
  /** The interaction that carried the question; the answer is logged there. */
  interactionId: string;
  askedAt: Date;
  expiresAt: Date;
}

// `_id` is `<channel>:<customerId>`: the claimer looks it up by `_id` only, and a newer question
// on the same channel replaces the older one (the customer answers the last thing we asked).
interface PendingDocument extends PendingVerification {
  _id: string;
}

const pendingSchema = new Schema<PendingDocument>(
  {
    _id: { type: String, required: true },
    taskId: { type: String, required: true },
    reference: { type: String, required: true },
    customerId: { type: String, required: true },
    channel: { type: String, required: true },
    interactionId: { type: String, required: true },
    askedAt: { type: Date, required: true },
    // No TTL index on FerretDB: expiry is checked on read; an expired question is simply ignored.
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false },
);

const pendingKey = (channel: PendingVerification['channel'], customerId: string) => `${channel}:${customerId}`;

/** The questions waiting for an answer; a tiny repository, reads by `_id` only. */
export class PendingVerifications {
  private readonly Pending: Model<PendingDocument>;

  constructor(connection: Connection) {
    this.Pending = connection.models.TaskVerification ?? connection.model<PendingDocument>('TaskVerification', pendingSchema, 'task_verifications');
  }

  async ask(question: PendingVerification): Promise<void> {
    const _id = pendingKey(question.channel, question.customerId);
    await this.Pending.updateOne({ _id }, { $set: { ...question } }, { upsert: true }).exec();
  }

  async find(channel: PendingVerification['channel'], customerId: string, now: Date): Promise<PendingVerification | null> {
    const stored = await this.Pending.findById(pendingKey(channel, customerId)).lean<PendingDocument>().exec();
    return stored && new Date(stored.expiresAt) > now ? stored : null;
  }

  /** Removes the question if it is still the one about `taskId`; true for exactly one caller. */
  async take(channel: PendingVerification['channel'], customerId: string, taskId: string): Promise<boolean> {
    return (await this.Pending.findOneAndDelete({ _id: pendingKey(channel, customerId), taskId }).lean().exec()) !== null;
  }
}

const yes = new Set(['yes', 'y', '是', '好', '是的', '好的']);
const no = new Set(['no', 'n', '否', '没有', '不是']);

/** The customer's YES/NO (English or Chinese), or null for anything else, e.g. "4" for a survey or a sentence. */
export function parseVerdict(text: string | undefined): boolean | null {
  const word = (text ?? '').trim().toLowerCase().replace(/[\s.!。！,，]+$/u, '');
  if (yes.has(word)) return true;
  if (no.has(word)) return false;
  return null;
}

/** The first non-empty line of an email's own text (quoted history is already stripped by the channel). */
export function firstLine(text: string | undefined): string {
  return (text ?? '').split(/\r?\n/).find((line) => line.trim())?.trim() ?? '';
}

const referencePattern = /\bT-\d{6,}\b/g;

/** Task references quoted in a text, e.g. "about T-000123", once each. */
// Each reference costs a lookup; a contact stuffed with thousands must not cost thousands.
const maxQuotedReferences = 5;

export function quotedReferences(text: string | undefined): string[] {
  return [...new Set(text?.toUpperCase().match(referencePattern) ?? [])].slice(0, maxQuotedReferences);
}

export interface VerificationDeps {
  pending: PendingVerifications;
  tasks: {
    recordCustomerVerdict(id: string, solved: boolean, detail: { text?: string; interactionId?: string }): Promise<Task>;
    reopenByCustomerContact(id: string, interactionId: string): Promise<Task | null>;
    findByReference(reference: string): Promise<Task | null>;
  };
  log: Logger;
  now?: () => Date;
}

export const verificationAnswers = {
  solved: 'Thank you for confirming. We are glad it is solved.',
  notSolved: 'Sorry it is not solved yet. We have passed it back to the team.',
};

/** Records the verdict once the pending question is taken; a task that moved on meanwhile is only logged. */
async function applyVerdict(deps: VerificationDeps, question: PendingVerification, solved: boolean, text: string): Promise<void> {
  if (!(await deps.pending.take(question.channel, question.customerId, question.taskId))) return;
  try {
    await deps.tasks.recordCustomerVerdict(question.taskId, solved, { text, interactionId: question.interactionId });
    deps.log.info({ taskId: question.taskId, interactionId: question.interactionId, solved, channel: question.channel }, 'customer verdict recorded');
  } catch (error) {
    if (!(error instanceof AppError && (error.code === 'conflict' || error.code === 'not_found'))) throw error;
    deps.log.info({ taskId: question.taskId, code: error.code }, 'customer verdict arrived after the task moved on');
  }
}

/** Claims a YES/NO text from a customer with a pending SMS question; anything else goes to an agent as usual. */
export function verificationSmsClaimer(deps: VerificationDeps): SmsReplyClaimer {
  return async ({ customerId, text, receivedAt }) => {
    const solved = parseVerdict(text);
    if (solved === null) return null;
    const question = await deps.pending.find('sms', customerId, receivedAt);
    if (!question) return null;
    return {
      interactionId: question.interactionId,
      answer: solved ? verificationAnswers.solved : verificationAnswers.notSolved,
      onRecorded: () => applyVerdict(deps, question, solved, text.trim()),
    };
  };
}

/**
 * Interaction listener for the customer's side of the loop: a YES/NO email reply in the thread that
 * asked, and a new text or email quoting a finished task's reference (which reopens it).
 */
export function customerContactListener(deps: VerificationDeps): InteractionListener {
  const now = deps.now ?? (() => new Date());
  return async ({ interaction, created }) => {
    if (interaction.channel !== 'sms' && interaction.channel !== 'email') return;
    const last = interaction.entries?.at(-1);
    if (!last || last.kind !== 'message' || last.direction !== 'inbound') return;
    // An email whose sender our MTA did not authenticate (the email channel flags it) changes no task.
    if (last.flags?.includes('unverified_sender')) return;
    if (interaction.channel === 'email' && !created) {
      const solved = parseVerdict(firstLine(last.text));
      const question = solved === null ? null : await deps.pending.find('email', interaction.customerId, now());
      if (question && solved !== null && question.interactionId === interaction.id) {
        await applyVerdict(deps, question, solved, firstLine(last.text));
        return;
      }
    }
    // A new email's subject counts; a reply's subject only repeats ours, which carries the reference.
    const subject = created && interaction.channel === 'email' ? interaction.subject : '';
    for (const reference of quotedReferences(`${subject ?? ''} ${last.text ?? ''}`)) await reopenIfFinished(deps, reference, interaction, new Date(last.at));
  };
}

const finished = new Set(['resolved', 'verified', 'closed']);

async function reopenIfFinished(deps: VerificationDeps, reference: string, interaction: Interaction, at: Date): Promise<void> {
  const task = await deps.tasks.findByReference(reference);
  // Only the customer's own task, and only a contact that came after it was resolved: the listener
  // sees this interaction again on every later change, which must not reopen a task resolved since.
  if (!task || task.customerId !== interaction.customerId || !finished.has(task.status)) return;
  if (!task.resolvedAt || at <= new Date(task.resolvedAt)) return;
  const reopened = await deps.tasks.reopenByCustomerContact(task.id, interaction.id);
  if (reopened) deps.log.info({ taskId: task.id, interactionId: interaction.id }, 'task reopened by customer contact');
}

import type { Connection } from 'mongoose';
import type { SinkMessage } from '../../scripts/standins/smtp-sink';
import type { StandinMessage } from '../../scripts/standins/twilio-standin';
import type { ApiClient } from './api-client';
import type { Delivery } from './deliveries';

/**
 * What the chaos run checks afterwards, from MongoDB (the system of record), the stand-ins (what
 * left the building) and the API (what routing says is waiting). Each function returns plain
 * findings; the harness turns them into pass/fail per check and per phase.
 */

interface StoredInteraction {
  _id: string;
  channel: string;
  direction: string;
  status: string;
  queue?: string;
  customerId: string;
  createdAt: Date;
  entries?: { externalId?: string }[];
}

export interface StoreFindings {
  /** Entries per external id, over every stored interaction (all parts). */
  entriesByExternalId: Map<string, number>;
  /** The interaction holding each external id's entry (the first one seen). */
  interactionByExternalId: Map<string, StoredInteraction>;
  /** Inbound contacts that should wait for an agent now (status open or queued). */
  shouldWait: StoredInteraction[];
  /** Inbound contacts past waiting (offered, active, wrap-up, closed, abandoned, failed). */
  handled: number;
}

const waitingStatuses = new Set(['open', 'queued']);

export async function readStore(mongo: Connection): Promise<StoreFindings> {
  const interactions = await mongo
    .collection<StoredInteraction>('interactions')
    .find({}, { projection: { channel: 1, direction: 1, status: 1, queue: 1, customerId: 1, createdAt: 1, continuedIn: 1, 'entries.externalId': 1 } })
    .toArray();
  const entriesByExternalId = new Map<string, number>();
  const interactionByExternalId = new Map<string, StoredInteraction>();
  for (const interaction of interactions) {
    for (const entry of interaction.entries ?? []) {
      if (!entry.externalId) continue;
      entriesByExternalId.set(entry.externalId, (entriesByExternalId.get(entry.externalId) ?? 0) + 1);
      if (!interactionByExternalId.has(entry.externalId)) interactionByExternalId.set(entry.externalId, interaction);
    }
  }
  // Only the newest part of a long conversation carries its state; chaos conversations are short.
  const inbound = interactions.filter((interaction) => interaction.direction === 'inbound' && ['voice', 'sms', 'email'].includes(interaction.channel) && !(interaction as { continuedIn?: string }).continuedIn);
  return {
    entriesByExternalId,
    interactionByExternalId,
    shouldWait: inbound.filter((interaction) => waitingStatuses.has(interaction.status)),
    handled: inbound.filter((interaction) => !waitingStatuses.has(interaction.status)).length,
  };
}

/** Every acknowledged delivery stored exactly once; counts per delivery. */
export function judgeDeliveries(deliveries: Delivery[], store: StoreFindings) {
  const lost: Delivery[] = [];
  const duplicated: Delivery[] = [];
  for (const delivery of deliveries) {
    const stored = store.entriesByExternalId.get(delivery.externalId) ?? 0;
    if (delivery.ackedAt !== undefined && stored === 0) lost.push(delivery);
    if (stored > 1) duplicated.push(delivery);
  }
  return { lost, duplicated };
}

export const waitingLimit = 500;

/** Interaction ids routing lists as waiting, over every queue; `truncated` names queues at the list's limit. */
export async function readWaiting(api: ApiClient): Promise<{ ids: Set<string>; truncated: string[]; error?: string }> {
  const names = await api.call<{ items: string[] }>('GET', '/api/routing/queue-names');
  if (names.status !== 200) return { ids: new Set(), truncated: [], error: `queue-names ${names.status}` };
  const ids = new Set<string>();
  const truncated: string[] = [];
  for (const queue of names.body.items) {
    const waiting = await api.call<{ items: { interactionId: string }[] }>('GET', `/api/routing/queues/${queue}/waiting?limit=${waitingLimit}`);
    if (waiting.status !== 200) return { ids, truncated, error: `waiting ${queue} ${waiting.status}` };
    for (const item of waiting.body.items) ids.add(item.interactionId);
    if (waiting.body.items.length >= waitingLimit) truncated.push(queue);
  }
  return { ids, truncated };
}

interface StoredTask {
  _id: string;
  reference: string;
  status: string;
  createdAt: Date;
  dueAt: Date;
  breachedAt?: Date;
  resolvedAt?: Date;
  rejectedAt?: Date;
}

export interface SlaFindings {
  /** Tasks whose breach timer came due (on the run's SLA clock, at `firesAt`) while they were still open. */
  due: (StoredTask & { firesAt: number })[];
  /** Of those, the ones with no breach recorded. */
  notFired: (StoredTask & { firesAt: number })[];
  notYetDue: number;
  /** When the last breach timer not yet due comes due (plus grace), ms since epoch; 0 when none. */
  lastDueAt: number;
}

/**
 * A task's breach timer is due at createdAt + scale × (dueAt − createdAt) (SLA_TIME_SCALE scales
 * job delays only; with business hours around the clock dueAt is createdAt + SLA). A task still
 * open at that instant plus `graceMs` must have `breachedAt`.
 */
export async function readSla(mongo: Connection, scale: number, graceMs: number, now: number): Promise<SlaFindings> {
  const tasks = await mongo.collection<StoredTask>('tasks').find({}, { projection: { reference: 1, status: 1, createdAt: 1, dueAt: 1, breachedAt: 1, resolvedAt: 1, rejectedAt: 1 } }).toArray();
  const due: SlaFindings['due'] = [];
  let notYetDue = 0;
  let lastDueAt = 0;
  for (const task of tasks) {
    const created = new Date(task.createdAt).getTime();
    const firesAt = created + scale * (new Date(task.dueAt).getTime() - created);
    const finishedAt = task.resolvedAt ?? task.rejectedAt;
    if (finishedAt && new Date(finishedAt).getTime() <= firesAt + graceMs) continue;
    if (firesAt + graceMs > now) {
      notYetDue += 1;
      lastDueAt = Math.max(lastDueAt, firesAt + graceMs);
      continue;
    }
    due.push({ ...task, firesAt });
  }
  return { due, notFired: due.filter((task) => !task.breachedAt), notYetDue, lastDueAt };
}

export interface SentTwice {
  key: string;
  copies: number;
  /** When the second copy arrived. */
  secondAt: number;
}

/** Texts the Twilio stand-in was asked to send more than once (same recipient and body: each notice names its task). */
export function smsSentTwice(messages: StandinMessage[]): SentTwice[] {
  return repeated(messages.map((message) => ({ key: `${message.to} ${message.body ?? ''} ${message.mediaUrls.join(',')}`, at: message.receivedAt.getTime() })));
}

/** Emails the sink received more than once: by Message-ID, and by recipient + subject + text (a resend under a new Message-ID). */
export function emailsSentTwice(messages: SinkMessage[]): { byMessageId: SentTwice[]; byContent: SentTwice[] } {
  return {
    byMessageId: repeated(messages.map((message) => ({ key: message.header('message-id') ?? `(none) ${message.receivedAt.getTime()}`, at: message.receivedAt.getTime() }))),
    byContent: repeated(messages.map((message) => ({ key: `${message.envelope.rcptTo.join(',')} ${message.parsed.subject ?? ''} ${(message.parsed.text ?? '').trim()}`, at: message.receivedAt.getTime() }))),
  };
}

function repeated(items: { key: string; at: number }[]): SentTwice[] {
  const seen = new Map<string, number[]>();
  for (const item of items) seen.set(item.key, [...(seen.get(item.key) ?? []), item.at]);
  return [...seen].filter(([, times]) => times.length > 1).map(([key, times]) => ({ key, copies: times.length, secondAt: [...times].sort((a, b) => a - b)[1] }));
}

export interface MissingNotice {
  phase: string;
  what: string;
}

/**
 * Messages the run must cause, checked against what left through the stand-ins: one acknowledgement
 * per acknowledged email (EMAIL_ACKNOWLEDGE; each sender is a new mailbox on its own domain, so no
 * limit applies), and per filed task a notice on filing plus one on resolution (matched by the
 * task's reference in the text, by SMS or email).
 */
export function missingNotices(
  deliveries: Delivery[],
  tasks: { phase: string; reference?: string; resolvedAt?: number }[],
  sms: StandinMessage[],
  emails: SinkMessage[],
): { expected: { phase: string }[]; missing: MissingNotice[] } {
  const expected: { phase: string }[] = [];
  const missing: MissingNotice[] = [];
  const acknowledgedTo = new Set<string>();
  for (const message of emails) {
    if (/We received your message/.test(message.parsed.subject ?? '')) for (const rcpt of message.envelope.rcptTo) acknowledgedTo.add(rcpt.toLowerCase());
  }
  for (const delivery of deliveries) {
    if (delivery.kind !== 'email' || delivery.ackedAt === undefined) continue;
    expected.push({ phase: delivery.phase });
    if (!acknowledgedTo.has(delivery.from.toLowerCase())) missing.push({ phase: delivery.phase, what: `acknowledgement of ${delivery.externalId}` });
  }
  const texts = [...sms.map((message) => message.body ?? ''), ...emails.map((message) => `${message.parsed.subject ?? ''}\n${message.parsed.text ?? ''}`)];
  for (const task of tasks) {
    if (!task.reference) continue;
    const wanted = task.resolvedAt ? 2 : 1;
    const pattern = new RegExp(`\\b${task.reference}\\b`);
    const found = texts.filter((text) => pattern.test(text)).length;
    for (let index = 0; index < wanted; index += 1) expected.push({ phase: task.phase });
    for (let index = found; index < wanted; index += 1) missing.push({ phase: task.phase, what: `${index === 0 ? 'filing' : 'resolution'} notice of ${task.reference}` });
  }
  return { expected, missing };
}

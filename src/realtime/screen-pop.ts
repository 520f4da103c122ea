import type { Customer } from '../customers';
import type { Channel, Direction, Entry, Interaction, InteractionStatus } from '../interactions';
import { activeTaskStatuses, type Task, type TaskStatus } from '../tasks';

// A pop is a preview; the full message is one click away, and the pop is also kept in the event log.
const maxPreviewChars = 500;

export interface ScreenPopInteraction {
  id: string;
  channel: Channel;
  direction: Direction;
  status: InteractionStatus;
  subject: string | null;
  queue: string | null;
  createdAt: string;
  queuedAt: string | null;
  /** Seconds since the contact was queued, when it was; what the customer has waited so far. */
  waitSeconds: number | null;
  firstMessage: { at: string; direction: Direction | null; text: string; truncated: boolean } | null;
  ivrChoice: { label: string; digits: string | null } | null;
}

export interface ScreenPopHistoryItem {
  id: string;
  channel: Channel;
  direction: Direction;
  status: InteractionStatus;
  subject: string | null;
  createdAt: string;
  endedAt: string | null;
  agentId: string | null;
  outcome: string | null;
}

/** A follow-up task of the customer not closed yet, as the pop lists it. */
export interface ScreenPopTask {
  id: string;
  reference: string;
  title: string;
  status: TaskStatus;
  departmentId: string;
  dueAt: string;
  /** Still owed by the department and past its due time. */
  overdue: boolean;
}

/** Reads the customer's tasks not closed yet (the task service). */
export interface OpenTaskReader {
  openTasksOf(customerId: string): Promise<Array<Pick<Task, 'id' | 'reference' | 'title' | 'status' | 'departmentId' | 'dueAt'>>>;
}

export interface ScreenPop {
  interaction: ScreenPopInteraction;
  customer: Pick<Customer, 'id' | 'name' | 'tier' | 'tags' | 'attributes'>;
  /** The customer's last interactions on every channel, newest first (this one included). */
  timeline: ScreenPopHistoryItem[];
  /** The customer's follow-up tasks not closed yet, soonest due first; null when they could not be read. */
  openTasks: ScreenPopTask[] | null;
  /** True when any of the customer's numbers texted STOP; null when it could not be read. */
  smsOptedOut: boolean | null;
  builtAt: string;
}

/** The first message of the contact (what the customer wrote or said first), as a preview. */
export function firstMessage(entries: readonly Entry[]): ScreenPopInteraction['firstMessage'] {
  const message = entries.find((entry) => entry.kind === 'message' && typeof entry.text === 'string' && entry.text.trim() !== '');
  if (!message || message.text === undefined) return null;
  const truncated = message.text.length > maxPreviewChars;
  return { at: message.at, direction: message.direction ?? null, text: truncated ? message.text.slice(0, maxPreviewChars) : message.text, truncated };
}

/**
 * The caller's menu choice, as the voice channel records it in entry data (`choice` is the option's
 * label, `digits` what was pressed). The last valid choice wins: a caller may retry the menu.
 */
export function ivrChoice(entries: readonly Entry[]): ScreenPopInteraction['ivrChoice'] {
  for (const entry of [...entries].reverse()) {
    const choice = entry.data?.choice;
    if (typeof choice === 'string' && choice !== '') {
      const digits = entry.data?.digits;
      return { label: choice, digits: typeof digits === 'string' ? digits : null };
    }
  }
  return null;
}

export function waitSeconds(queuedAt: string | undefined, now: Date): number | null {
  if (!queuedAt) return null;
  return Math.max(0, Math.floor((now.getTime() - new Date(queuedAt).getTime()) / 1000));
}

/**
 * How a contact ended. Interactions carry no outcome field yet; the wrap-up disposition is looked
 * for in entry data (`disposition`), where completing work is expected to record it.
 */
export function outcomeOf(interaction: Interaction): string | null {
  for (const entry of [...(interaction.entries ?? [])].reverse()) {
    const disposition = entry.data?.disposition;
    if (typeof disposition === 'string' && disposition !== '') return disposition;
  }
  return null;
}

export function assembleScreenPop(input: {
  interaction: Interaction;
  customer: Customer;
  timeline: readonly Interaction[];
  smsOptedOut: boolean | null;
  openTasks?: Awaited<ReturnType<OpenTaskReader['openTasksOf']>> | null;
  now: Date;
}): ScreenPop {
  const { interaction, customer, now } = input;
  const entries = interaction.entries ?? [];
  return {
    interaction: {
      id: interaction.id,
      channel: interaction.channel,
      direction: interaction.direction,
      status: interaction.status,
      subject: interaction.subject ?? null,
      queue: interaction.queue ?? null,
      createdAt: interaction.createdAt,
      queuedAt: interaction.queuedAt ?? null,
      waitSeconds: waitSeconds(interaction.queuedAt, now),
      firstMessage: firstMessage(entries),
      ivrChoice: ivrChoice(entries),
    },
    customer: { id: customer.id, name: customer.name, tier: customer.tier, tags: customer.tags, attributes: customer.attributes },
    timeline: input.timeline.map((item) => ({
      id: item.id,
      channel: item.channel,
      direction: item.direction,
      status: item.status,
      subject: item.subject ?? null,
      createdAt: item.createdAt,
      endedAt: item.endedAt ?? null,
      agentId: item.agentId ?? null,
      outcome: outcomeOf(item),
    })),
    openTasks:
      input.openTasks === null
        ? null
        : (input.openTasks ?? []).map((task) => ({
            id: task.id,
            reference: task.reference,
            title: task.title,
            status: task.status,
            departmentId: task.departmentId,
            dueAt: task.dueAt,
            overdue: activeTaskStatuses.has(task.status) && new Date(task.dueAt).getTime() < now.getTime(),
          })),
    smsOptedOut: input.smsOptedOut,
    builtAt: now.toISOString(),
  };
}

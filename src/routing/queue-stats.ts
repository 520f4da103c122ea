import type { QueueCounters } from './queue-counters.store';
import { serviceLevel } from './queue-kpis';
import type { QueuesConfig } from './queue-config';
import { AppError } from '../platform/errors';
import type { AgentSnapshot, AgentState, QueueSnapshot, WaitingContact } from './routing.contracts';
import type { RoutingService } from './routing.service';
import type { RoutingStore } from './routing.store';

/** Kept for callers of the first slice: the live part of a snapshot. */
export type QueueSummary = Pick<QueueSnapshot, 'queue' | 'waiting' | 'longestWaitSeconds' | 'agents'>;

/**
 * The supervisor's view: per queue, who waits and how long, the agents serving it by state, offers
 * ringing now, and today's counters. Read from Redis only (the live state and the day hashes), so
 * the wallboard costs no database scan.
 */
export class QueueStats {
  constructor(
    private readonly store: RoutingStore,
    private readonly config: QueuesConfig,
    private readonly routing: RoutingService,
    private readonly counters: QueueCounters,
    /** The reports' day rollup, so the wallboard and the historical report show the same figures. */
    private readonly today?: (queue: string, at: Date) => Promise<QueueSnapshot['today']>,
  ) {}

  async queues(): Promise<QueueSnapshot[]> {
    const [agents, pending] = await Promise.all([this.agents(), this.store.pendingByQueue()]);
    return Promise.all([...this.config.byName.keys()].map((queue) => this.build(queue, agents, pending)));
  }

  async queue(name: string): Promise<QueueSnapshot> {
    const [agents, pending] = await Promise.all([this.agents(), this.store.pendingByQueue()]);
    return this.build(name, agents, pending);
  }

  /** Every agent routing knows (signed in at least once), as their own desk sees them. */
  async agentSnapshots(): Promise<AgentSnapshot[]> {
    return Promise.all((await this.store.allAgents()).map((id) => this.routing.snapshot(id)));
  }

  /** The contacts waiting in a queue, best placed first, with how long each has waited. */
  async waitingContacts(queue: string, limit: number): Promise<WaitingContact[]> {
    if (!this.config.byName.has(queue)) throw AppError.notFound('Queue', queue);
    const now = Date.now();
    const contacts = await Promise.all((await this.store.waiting(queue, limit)).map((entry) => this.store.contact(entry.interactionId)));
    return contacts.flatMap((contact) =>
      contact?.state === 'waiting' && contact.queue === queue
        ? [{ interactionId: contact.interactionId, queue, channel: contact.channel, customerId: contact.customerId, enqueuedAt: new Date(contact.enqueuedAt).toISOString(), waitSeconds: Math.max(0, Math.round((now - contact.enqueuedAt) / 1000)) }]
        : [],
    );
  }

  private async agents(): Promise<{ state: AgentState; queues: Set<string> }[]> {
    const agentIds = await this.store.allAgents();
    return Promise.all(agentIds.map(async (id) => ({ state: (await this.routing.snapshot(id)).state, queues: new Set(await this.routing.queuesOf(id)) })));
  }

  private async build(queue: string, agents: { state: AgentState; queues: Set<string> }[], pending: Map<string, number>): Promise<QueueSnapshot> {
    const now = new Date();
    const waiting = await this.store.waiting(queue, 10_000);
    const enqueuedAt = await this.store.enqueuedAtOf(waiting.map((entry) => entry.interactionId));
    const oldest = enqueuedAt.length ? Math.min(...enqueuedAt) : now.getTime();
    const byState: Record<AgentState, number> = { offline: 0, available: 0, away: 0, busy: 0, wrap_up: 0 };
    for (const agent of agents) if (agent.queues.has(queue)) byState[agent.state] += 1;
    const today = this.today ? await this.today(queue, now) : await this.dayCounters(queue, now);
    return {
      queue,
      waiting: waiting.length,
      longestWaitSeconds: Math.max(0, Math.round((now.getTime() - oldest) / 1000)),
      agents: byState,
      offersInFlight: pending.get(queue) ?? 0,
      today,
      at: now.toISOString(),
    };
  }

  /** Today from routing's own Redis counters (a routing module built without the reports). */
  private async dayCounters(queue: string, now: Date): Promise<QueueSnapshot['today']> {
    const day = await this.counters.read(queue, now);
    const counts = { answered: day.answered, answeredWithinServiceLevel: day.answered_in_sl, abandoned: day.abandoned };
    return {
      day: day.day, timeZone: day.timeZone, offered: day.offered, ...counts, overflowed: day.overflowed,
      serviceLevelSeconds: this.config.byName.get(queue)?.serviceLevelSeconds ?? 0,
      serviceLevel: serviceLevel(counts),
    };
  }
}

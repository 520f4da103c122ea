import { displayedState, type AgentPicture } from './agent-picture';
import type { AgentProfileRepository } from './agent-profile.repository';
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
 * the wallboard costs no database scan. A snapshot reads no agent one by one: their states come
 * from the agent picture (one journal read), their queues from the cached profiles (the misses in
 * one query), the offers in flight from one counter hash and the waits from one script per queue.
 */
export class QueueStats {
  constructor(
    private readonly store: RoutingStore,
    private readonly config: QueuesConfig,
    private readonly routing: RoutingService,
    private readonly counters: QueueCounters,
    private readonly picture: AgentPicture,
    private readonly profiles: AgentProfileRepository,
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

  /** Every agent's displayed state and the queues they serve (all of them when their profile names none). */
  private async agents(): Promise<{ state: AgentState; queues: ReadonlySet<string> }[]> {
    await this.picture.refresh();
    const agents = this.picture.all();
    const profiles = await this.profiles.getMany(agents.map((agent) => agent.agentId));
    const everyQueue = new Set(this.config.byName.keys());
    return agents.map((agent, index) => ({ state: displayedState(agent), queues: profiles[index].queues.length ? new Set(profiles[index].queues) : everyQueue }));
  }

  private async build(queue: string, agents: { state: AgentState; queues: ReadonlySet<string> }[], pending: Map<string, number>): Promise<QueueSnapshot> {
    const now = new Date();
    const waiting = await this.store.waitingSummary(queue);
    const oldest = waiting.oldestEnqueuedAt ?? now.getTime();
    const byState: Record<AgentState, number> = { offline: 0, available: 0, away: 0, busy: 0, wrap_up: 0 };
    for (const agent of agents) if (agent.queues.has(queue)) byState[agent.state] += 1;
    const today = this.today ? await this.today(queue, now) : await this.dayCounters(queue, now);
    return {
      queue,
      waiting: waiting.count,
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

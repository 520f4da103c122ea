import type { QueueCounters } from './queue-counters.store';
import { serviceLevel } from './queue-kpis';
import type { QueuesConfig } from './queue-config';
import type { AgentState, QueueSnapshot } from './routing.contracts';
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
  ) {}

  async queues(): Promise<QueueSnapshot[]> {
    const [agents, pending] = await Promise.all([this.agents(), this.store.pendingByQueue()]);
    return Promise.all([...this.config.byName.keys()].map((queue) => this.build(queue, agents, pending)));
  }

  async queue(name: string): Promise<QueueSnapshot> {
    const [agents, pending] = await Promise.all([this.agents(), this.store.pendingByQueue()]);
    return this.build(name, agents, pending);
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
    const day = await this.counters.read(queue, now);
    const counts = { answered: day.answered, answeredWithinServiceLevel: day.answered_in_sl, abandoned: day.abandoned };
    return {
      queue,
      waiting: waiting.length,
      longestWaitSeconds: Math.max(0, Math.round((now.getTime() - oldest) / 1000)),
      agents: byState,
      offersInFlight: pending.get(queue) ?? 0,
      today: {
        day: day.day, timeZone: day.timeZone, offered: day.offered, ...counts, overflowed: day.overflowed,
        serviceLevelSeconds: this.config.byName.get(queue)?.serviceLevelSeconds ?? 0,
        serviceLevel: serviceLevel(counts),
      },
      at: now.toISOString(),
    };
  }
}

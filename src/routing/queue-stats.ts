import type { AgentState } from './routing.contracts';
import type { QueuesConfig } from './queue-config';
import type { RoutingService } from './routing.service';
import type { RoutingStore } from './routing.store';

export interface QueueSummary {
  queue: string;
  waiting: number;
  longestWaitSeconds: number;
  agents: Record<AgentState, number>;
}

/** The supervisor's view: per queue, who waits and how long, and the state of the agents serving it. */
export class QueueStats {
  constructor(
    private readonly store: RoutingStore,
    private readonly config: QueuesConfig,
    private readonly routing: RoutingService,
  ) {}

  async queues(): Promise<QueueSummary[]> {
    const now = Date.now();
    const agentIds = await this.store.allAgents();
    const agents = await Promise.all(agentIds.map(async (id) => ({ state: (await this.routing.snapshot(id)).state, queues: new Set(await this.routing.queuesOf(id)) })));
    return Promise.all(
      [...this.config.byName.keys()].map(async (queue) => {
        const waiting = await this.store.waiting(queue, 10_000);
        const enqueuedAt = await this.store.enqueuedAtOf(waiting.map((entry) => entry.interactionId));
        const oldest = enqueuedAt.length ? Math.min(...enqueuedAt) : now;
        const byState: Record<AgentState, number> = { offline: 0, available: 0, away: 0, busy: 0, wrap_up: 0 };
        for (const agent of agents) if (agent.queues.has(queue)) byState[agent.state] += 1;
        return { queue, waiting: waiting.length, longestWaitSeconds: Math.max(0, Math.round((now - oldest) / 1000)), agents: byState };
      }),
    );
  }
}

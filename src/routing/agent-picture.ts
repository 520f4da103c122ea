import type { AgentState } from './routing.contracts';
import type { JournaledAgent, RoutingStore } from './routing.store';

/** How often the picture is read whole again, though the journal should make that needless (see below). */
const fullReloadMs = 60_000;

/**
 * This process's picture of every agent's routing state (hash, connections, work in hand), kept
 * current through the store's change journal: each refresh is one read-only script that returns
 * only the agents changed since the journal number this process last read, and the new number.
 * Every write to an agent's hash, connections or work journals the agent in the same atomic step,
 * so after `refresh()` the picture holds every change made before the call, from any process.
 * It is still only a picture: decisions are re-checked by the store's scripts (the claim re-checks
 * state, capacity and skips atomically), so being a moment behind costs a failed claim, never a
 * wrong offer. The whole picture is read again now and then, so a writer that bypassed the journal
 * (an older release during a rolling deploy, a hand edit) cannot leave it wrong for long.
 * Agents idle for weeks expire and are then forgotten (see RoutingStore, "Agent lifetime"): that
 * raises the journal's floor, and a read from below the floor is a whole one, so they leave the
 * picture too. Until forgotten, an expired agent reads as offline with nothing in hand, as here.
 */
export class AgentPicture {
  private readonly agents = new Map<string, JournaledAgent>();
  private seq = -1;
  private loadedAt = 0;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly store: RoutingStore) {}

  /**
   * Brings the picture up to every change journaled before this call. A read already under way
   * may have passed the caller's change, so callers arriving meanwhile share the next read.
   */
  refresh(): Promise<void> {
    if (!this.running) {
      this.running = this.read().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.refresh();
      });
    return this.queued;
  }

  get(agentId: string): JournaledAgent | undefined {
    return this.agents.get(agentId);
  }

  /** Every agent routing has seen, as of the last refresh. */
  all(): JournaledAgent[] {
    return [...this.agents.values()];
  }

  private async read(): Promise<void> {
    const whole = this.seq < 0 || Date.now() - this.loadedAt >= fullReloadMs;
    const changes = await this.store.agentChanges(whole ? -1 : this.seq);
    if (changes.full) {
      this.agents.clear();
      this.loadedAt = Date.now();
    }
    for (const agent of changes.agents) this.agents.set(agent.agentId, agent);
    this.seq = changes.seq;
  }
}

/**
 * The state an agent's own desk shows (as RoutingService.snapshot derives it): busy and wrap-up
 * come from the work in hand, or a full load of offers alone; never stored.
 */
export function displayedState(agent: Pick<JournaledAgent, 'state' | 'load' | 'work'>): AgentState {
  if (agent.state !== 'available') return agent.state;
  if (agent.work.some((item) => item.phase === 'active')) return 'busy';
  if (agent.work.length) return 'wrap_up';
  return agent.load >= 100 ? 'busy' : 'available';
}

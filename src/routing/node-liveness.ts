import { randomBytes } from 'node:crypto';
import type { Logger } from '../platform/logger';
import type { RoutingStore } from './routing.store';

/** An agent who lost their last connection with a dead node: treated like a disconnect. */
export interface OrphanedAgent {
  agentId: string;
  /** The presence generation when swept; a reconnect in the grace period moves it on. */
  gen: number;
}

/**
 * How often every node drops agents whose idle keys expired (see RoutingStore, "Agent lifetime"):
 * agents expire after weeks, so this only bounds how long a forgotten id lingers in the sets.
 */
export const agentCleanupIntervalMs = 15 * 60_000;

export interface NodeLivenessOptions {
  /** How long a node's heartbeat lives unrefreshed; a node silent this long is taken for dead. */
  heartbeatTtlMs: number;
  /** How often every node looks for dead nodes' connections. */
  sweepIntervalMs: number;
  /** See agentCleanupIntervalMs. */
  agentCleanupIntervalMs?: number;
}

export interface NodeLivenessDeps {
  store: RoutingStore;
  log: Logger;
  /** Starts the offline timer of agents left with no connection; may be called twice for one agent. */
  onOrphaned(agents: OrphanedAgent[]): Promise<void>;
}

/**
 * Which routing node holds which agent connection, and who is still alive. A crashed process never
 * runs its sockets' disconnect handlers, so its agents would stay available (and keep getting
 * offers) and their connection sets would never empty. Each node therefore holds a heartbeat key
 * with a short TTL and records its connections under its id; every node sweeps the connections of
 * nodes whose heartbeat is gone, one atomic script per connection, so any number of sweepers at
 * once act on each connection exactly once.
 * Every node also drops, now and then, the agents whose idle keys expired (`cleanupAgents`).
 */
export class NodeLiveness {
  /** Random per start: a restarted process is a new node, and the old one's connections are swept. */
  readonly nodeId = randomBytes(8).toString('hex');
  /** This node's live connections (socketId → agentId), to re-register them if its heartbeat lapsed. */
  private readonly local = new Map<string, string>();
  /** The last state this node saw each of its connected agents in, to put back if Redis loses it. */
  private readonly states = new Map<string, { state: 'offline' | 'available' | 'away'; reason?: string }>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private cleanupTimer: NodeJS.Timeout | undefined;
  private healthy = true;
  private closed = false;

  constructor(
    private readonly deps: NodeLivenessDeps,
    private readonly options: NodeLivenessOptions,
  ) {}

  track(agentId: string, connectionId: string): void {
    this.local.set(connectionId, agentId);
  }

  untrack(connectionId: string): void {
    const agentId = this.local.get(connectionId);
    this.local.delete(connectionId);
    if (agentId !== undefined && !this.holds(agentId)) this.states.delete(agentId);
  }

  /** Whether this node holds a live connection of the agent. */
  holds(agentId: string): boolean {
    for (const held of this.local.values()) if (held === agentId) return true;
    return false;
  }

  /** The agents with a live connection on this node. */
  agents(): string[] {
    return [...new Set(this.local.values())];
  }

  /** Notes the state an agent connected here is in (read from Redis); ignored for agents not connected here. */
  rememberState(agentId: string, state: 'offline' | 'available' | 'away', reason?: string): void {
    if (this.holds(agentId)) this.states.set(agentId, { state, ...(reason ? { reason } : {}) });
  }

  /** The last state noted for an agent connected here, if any. */
  lastState(agentId: string): { state: 'offline' | 'available' | 'away'; reason?: string } | undefined {
    return this.states.get(agentId);
  }

  /**
   * Announces this node again and puts back every connection it holds that Redis no longer has
   * (Redis lost them); returns the agents whose connections were put back.
   */
  async reassert(): Promise<Set<string>> {
    const { store } = this.deps;
    await store.registerNode(this.nodeId, this.options.heartbeatTtlMs);
    const agents = new Set<string>();
    for (const [connectionId, agentId] of [...this.local]) {
      if (await store.hasConnection(agentId, this.nodeId, connectionId)) continue;
      await store.connect(agentId, this.nodeId, connectionId);
      agents.add(agentId);
    }
    return agents;
  }

  /** Announces this node, sweeps once (nodes that died while none ran), then keeps both going. */
  async start(): Promise<void> {
    const { store, log } = this.deps;
    const { heartbeatTtlMs, sweepIntervalMs } = this.options;
    await store.registerNode(this.nodeId, heartbeatTtlMs);
    log.info({ nodeId: this.nodeId, heartbeatTtlMs }, 'routing node registered');
    await this.sweep().catch((error: unknown) => log.warn({ err: error, nodeId: this.nodeId }, 'node sweep failed'));
    // Three beats per TTL: one late or lost beat does not make a live node look dead.
    this.heartbeatTimer = setInterval(() => void this.beat(), Math.max(1, Math.floor(heartbeatTtlMs / 3)));
    this.heartbeatTimer.unref();
    this.sweepTimer = setInterval(() => {
      this.sweep().catch((error: unknown) => this.failed(error, 'node sweep failed'));
    }, sweepIntervalMs);
    this.sweepTimer.unref();
    await this.cleanupAgents().catch((error: unknown) => log.warn({ err: error, nodeId: this.nodeId }, 'agent cleanup failed'));
    this.cleanupTimer = setInterval(() => {
      this.cleanupAgents().catch((error: unknown) => this.failed(error, 'agent cleanup failed'));
    }, this.options.agentCleanupIntervalMs ?? agentCleanupIntervalMs);
    this.cleanupTimer.unref();
  }

  /** Drops the agents whose idle keys expired from routing's sets and journal; returns how many. */
  async cleanupAgents(): Promise<number> {
    const forgotten = await this.deps.store.forgetExpiredAgents();
    if (forgotten) this.deps.log.info({ nodeId: this.nodeId, forgotten }, 'expired agents forgotten');
    return forgotten;
  }

  /** Stops the heartbeat and drops it, so the other nodes sweep what this one leaves behind at once. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.sweepTimer);
    clearInterval(this.cleanupTimer);
    await this.deps.store.stopHeartbeat(this.nodeId).catch(() => undefined);
  }

  /**
   * Removes the connections of dead nodes, then starts the offline timer of every agent left with
   * none (also those a sweeper that died midway had noted); returns how many connections it removed.
   */
  async sweep(): Promise<number> {
    const { store, log } = this.deps;
    let swept = 0;
    for (const nodeId of await store.deadNodes()) {
      if (nodeId === this.nodeId) continue;
      let fromNode = 0;
      for (const [connectionId, agentId] of Object.entries(await store.nodeConnections(nodeId))) {
        if ((await store.sweepConnection(nodeId, connectionId, agentId)).outcome === 'swept') fromNode += 1;
      }
      if (fromNode) log.info({ nodeId, swept: fromNode }, 'dead node connections swept');
      swept += fromNode;
      await store.forgetNode(nodeId);
    }
    const orphaned = await store.orphanedAgents();
    if (orphaned.length) {
      // Two sweepers may both get here for one agent: the timer's job id is deterministic, so the
      // second schedule is ignored.
      await this.deps.onOrphaned(orphaned);
      for (const { agentId, gen } of orphaned) await store.clearOrphan(agentId, gen);
    }
    this.healthy = true;
    return swept;
  }

  private async beat(): Promise<void> {
    const { store, log } = this.deps;
    try {
      if (await store.beat(this.nodeId, this.options.heartbeatTtlMs)) {
        this.healthy = true;
        return;
      }
      if (this.closed) return;
      // Our heartbeat expired (a long pause, a Redis blip) and a sweeper may have taken our
      // connections: put them back. Each connect moves the presence generation on, which voids the
      // offline timer a sweep scheduled, so a lapse shorter than the grace period changes nothing.
      await store.registerNode(this.nodeId, this.options.heartbeatTtlMs);
      for (const [connectionId, agentId] of this.local) await store.connect(agentId, this.nodeId, connectionId);
      log.warn({ nodeId: this.nodeId, connections: this.local.size }, 'node heartbeat had lapsed: connections re-registered');
      this.healthy = true;
    } catch (error) {
      this.failed(error, 'node heartbeat failed');
    }
  }

  /** Logs the first failure of a streak only: a node cut off from Redis would log every beat otherwise. */
  private failed(error: unknown, message: string): void {
    if (this.healthy) this.deps.log.warn({ err: error, nodeId: this.nodeId }, message);
    this.healthy = false;
  }
}

import path from 'node:path';
import type { Router } from 'express';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import type { CustomerService } from '../customers';
import type { Interaction, InteractionService } from '../interactions';
import { projectRoot, type Config } from '../platform/config';
import type { RouteRegistry } from '../platform/http/route';
import type { Logger } from '../platform/logger';
import type { QueueFactory } from '../platform/queues';
import type { Repair } from '../platform/repair';
import { AgentPicture } from './agent-picture';
import { AgentProfileRepository } from './agent-profile.repository';
import { ContactMoves } from './contact-moves.service';
import { Matcher } from './matcher';
import { NodeLiveness } from './node-liveness';
import { loadQueuesConfig, parseQueuesConfig, type QueuesConfig } from './queue-config';
import { QueueCounters } from './queue-counters.store';
import { QueueStats } from './queue-stats';
import type { AgentDesk, QueueSnapshot, RoutingEvent } from './routing.contracts';
import { RoutingTimers } from './routing.jobs';
import { routingRoutes } from './routing.routes';
import { routingRepairs } from './routing-reconciler';
import { RoutingService, type Connector } from './routing.service';
import { RoutingStore } from './routing.store';

export * from './routing.contracts';
export { AgentProfileRepository, defaultCapacity, type AgentProfile } from './agent-profile.repository';
export { parseQueuesConfig, loadQueuesConfig, priorityScore, overflowTarget, type QueuesConfig, type QueueSettings } from './queue-config';
export type { Connector } from './routing.service';
export { statsTimeZone } from './queue-kpis';

/** Where the routing queues are configured; a constant until the lead adds a setting (e.g. QUEUES_FILE). */
const queuesFile = path.join(projectRoot(), 'config', 'queues.json');

/** How long an agent with no live connection keeps their state before going offline (a page reload is not a logout). */
export const presenceGraceMs = 10_000;
/** How long a node may go without refreshing its heartbeat before the others take it for dead. */
export const nodeHeartbeatTtlMs = 10_000;
/** How often every node sweeps the connections of dead nodes. */
export const nodeSweepIntervalMs = 5_000;
/** How often every node looks for offers whose expiry passed without their timeout job running. */
const recoverIntervalMs = 15_000;

export interface RoutingDeps {
  config: Config;
  log: Logger;
  redis: Redis;
  mongo: Connection;
  queues: QueueFactory;
  interactions: InteractionService;
  customers: CustomerService;
  /** The wallboard's "today" per queue from the reports' rollups; routing's own day counters when absent. */
  queueToday?: (queue: string, at: Date) => Promise<QueueSnapshot['today']>;
}

export interface RoutingOptions {
  /** A queues document (tests) instead of config/queues.json. */
  queuesConfig?: unknown;
  presenceGraceMs?: number;
  /** See nodeHeartbeatTtlMs; the heartbeat is refreshed three times per TTL. */
  nodeHeartbeatTtlMs?: number;
  /** See nodeSweepIntervalMs. */
  nodeSweepIntervalMs?: number;
}

export interface RoutingModule {
  desk: AgentDesk;
  onEvent(listener: (event: RoutingEvent) => void | Promise<void>): void;
  enqueue(input: { interactionId: string; customerId: string; channel: Interaction['channel']; queue?: string; enqueuedAt?: Date }): Promise<{ queue: string; added: boolean }>;
  cancel(interactionId: string, reason: string): Promise<void>;
  /** Bridges an accepted voice contact to the agent (the voice channel's connectCallToAgent); default no-op. */
  setConnector(connector: Connector): void;
  profiles: AgentProfileRepository;
  queuesConfig: QueuesConfig;
  /**
   * Starts the timer worker and this node's heartbeat, sweeps dead nodes' connections, times out
   * offers whose timers were lost, and matches every queue.
   */
  start(): Promise<void>;
  close(): Promise<void>;
  router(registry: RouteRegistry): Router;
  /** Routing's rebuild from MongoDB after Redis lost its state (see routing-reconciler.ts), for the Reconciler. */
  repairs: Repair[];
}

const endedStatuses = new Set<Interaction['status']>(['abandoned', 'closed', 'failed']);

/** Routing and agent presence: queues, offers with timeouts, capacity, wrap-up. */
export function createRouting(deps: RoutingDeps, options: RoutingOptions = {}): RoutingModule {
  const log = deps.log.child({ module: 'routing' });
  const queuesConfig = options.queuesConfig !== undefined ? parseQueuesConfig(options.queuesConfig, 'queuesConfig') : loadQueuesConfig(queuesFile);
  const counters = new QueueCounters(deps.redis, deps.config.REDIS_KEY_PREFIX);
  const store = new RoutingStore(deps.redis, deps.config.REDIS_KEY_PREFIX, { counters });
  const profiles = new AgentProfileRepository(deps.mongo);
  const timers = new RoutingTimers(deps.queues);
  const node: NodeLiveness = new NodeLiveness(
    { store, log, onOrphaned: (agents): Promise<void> => service.agentsOrphaned(agents) },
    { heartbeatTtlMs: options.nodeHeartbeatTtlMs ?? nodeHeartbeatTtlMs, sweepIntervalMs: options.nodeSweepIntervalMs ?? nodeSweepIntervalMs },
  );
  const service = new RoutingService({
    store, profiles, queues: queuesConfig, interactions: deps.interactions, customers: deps.customers, timers, log,
    presenceGraceMs: options.presenceGraceMs ?? presenceGraceMs, node,
  });
  const picture = new AgentPicture(store);
  const matcher = new Matcher({
    store, picture, profiles, queues: queuesConfig, interactions: deps.interactions, log,
    offered: async (reservation, customerId) => {
      // The pop does not wait for the timer: the reservation is durable already, and an offer whose
      // timer failed to be scheduled is ended by the expiry sweep like one whose process died.
      const timer = timers.reservationTimeout(reservation.id, new Date(reservation.expiresAt).getTime() - Date.now());
      const { weight: _weight, ...offer } = reservation;
      await Promise.all([timer, service.emit({ type: 'offer', agentId: reservation.agentId, reservation: offer, customerId })]);
    },
    queueChanged: (queue) => service.emit({ type: 'queue_changed', queue }),
  });
  service.matcher = matcher;
  service.moves = new ContactMoves({ store, queues: queuesConfig, interactions: deps.interactions, customers: deps.customers, timers, log, routing: service });
  const stats = new QueueStats(store, queuesConfig, service, counters, picture, profiles, deps.queueToday);
  service.stats = stats;
  let closed = false;

  deps.interactions.onChange(async ({ interaction, created }) => {
    if (closed) return;
    if (endedStatuses.has(interaction.status)) {
      await service.cancel(interaction.id, interaction.status);
    } else if (interaction.status === 'queued') {
      // No queue named (a re-opened email thread that was routed by channel): the channel's queue.
      const enqueuedAt = new Date(interaction.queuedAt ?? interaction.createdAt);
      await service.enqueue({ interactionId: interaction.id, customerId: interaction.customerId, channel: interaction.channel, ...(interaction.queue ? { queue: interaction.queue } : {}), enqueuedAt, ...(interaction.externalIds[0] ? { externalId: interaction.externalIds[0] } : {}) });
    } else if (created && interaction.status === 'open' && interaction.direction === 'inbound' && queuesConfig.channelQueues[interaction.channel]) {
      await service.enqueue({ interactionId: interaction.id, customerId: interaction.customerId, channel: interaction.channel, enqueuedAt: new Date(interaction.createdAt) });
    }
  }, 'must-succeed', 'routing');

  let worker: ReturnType<RoutingTimers['startWorker']>;
  let recoverTimer: NodeJS.Timeout | undefined;
  return {
    desk: service,
    onEvent: (listener) => service.onEvent(listener),
    enqueue: (input) => service.enqueue(input),
    cancel: (interactionId, reason) => service.cancel(interactionId, reason),
    setConnector: (connector) => service.setConnector(connector),
    profiles,
    queuesConfig,
    async start() {
      worker = timers.startWorker((job) => service.handleTimer(job));
      await node.start();
      const recover = async () => {
        const recovered = await service.recoverExpired();
        if (recovered) log.info({ recovered }, 'expired offers recovered');
      };
      await recover();
      // Not only at start: a node that died between reserving and scheduling the offer's timeout
      // leaves a pending offer with no timer, and the surviving nodes must release it.
      recoverTimer = setInterval(() => {
        recover().catch((error: unknown) => log.warn({ err: error }, 'offer recovery failed'));
      }, recoverIntervalMs);
      recoverTimer.unref();
      await matcher.request(queuesConfig.byName.keys());
    },
    async close() {
      closed = true;
      clearInterval(recoverTimer);
      await node.close();
      await worker?.close();
      await matcher.stop();
    },
    router: (registry) => routingRoutes(registry, service, stats, profiles),
    repairs: routingRepairs({
      store, service, interactions: deps.interactions, profiles, queues: queuesConfig, timers, node, log,
      match: (queues) => {
        if (!closed) void matcher.request(queues);
      },
    }),
  };
}

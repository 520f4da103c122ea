import type { Channel, Interaction, InteractionService } from '../interactions';
import type { Logger } from '../platform/logger';
import type { Repair } from '../platform/repair';
import type { AgentProfileRepository } from './agent-profile.repository';
import type { NodeLiveness } from './node-liveness';
import type { QueuesConfig } from './queue-config';
import type { RoutingTimers } from './routing.jobs';
import type { RoutingService } from './routing.service';
import type { RoutingStore } from './routing.store';

export interface RoutingRepairDeps {
  store: RoutingStore;
  service: RoutingService;
  interactions: InteractionService;
  profiles: AgentProfileRepository;
  queues: QueuesConfig;
  timers: RoutingTimers;
  node: NodeLiveness;
  /** Asks the matcher to look at these queues (an agent is available again). */
  match(queues: Iterable<string>): void;
  log: Logger;
}

/** Prefix of the reservation id a work item put back by the reconciler carries (its accept is gone with Redis). */
export const recoveredReservationPrefix = 'recovered-';

/**
 * The number the agent journal jumps to after Redis was reset: the time in ms, above any count of
 * agent writes it could have reached, and printed exactly by Lua's tostring (14 digits). A reader
 * that last read below it reads everyone (it is the floor too); one whose number is above it does
 * so already (a number the journal never reached).
 */
const journalAfterReset = () => Date.now();

const enqueuedAtOf = (interaction: Pick<Interaction, 'queuedAt' | 'createdAt'>) => new Date(interaction.queuedAt ?? interaction.createdAt);

/**
 * Whether an interaction waits for an agent, by the rule routing's listener queues it with (see
 * createRouting): queued, or a new inbound conversation on a channel that has a queue.
 */
export function waitsForAgent(interaction: Pick<Interaction, 'status' | 'direction' | 'channel'>, queues: Pick<QueuesConfig, 'channelQueues'>): boolean {
  return interaction.status === 'queued' || (interaction.status === 'open' && interaction.direction === 'inbound' && Boolean(queues.channelQueues[interaction.channel]));
}

/**
 * Routing's rebuild from MongoDB after Redis lost its state, in the order they must run:
 * offers left with no contact or agent first, then agents' work in hand (so their capacity is
 * taken before anything is offered), then the waiting contacts, and last the states of the agents
 * connected to this node (so nobody is offered a contact before the queues are whole again).
 */
export function routingRepairs(deps: RoutingRepairDeps): Repair[] {
  return [
    { name: 'routing.reservations', run: () => strandedOffers(deps) },
    { name: 'routing.work', run: () => workInHand(deps) },
    { name: 'routing.waiting', run: () => waitingContacts(deps) },
    { name: 'routing.agents', run: () => connectedAgents(deps) },
  ];
}

/**
 * Pending offers whose contact no longer points at them or whose agent no longer has them are
 * rescinded (the contact back in its queue, the agent's capacity freed); ids left in the pending
 * set by a reservation that is gone or ended are dropped. Offers whose timer is missing are the
 * expiry sweep's (RoutingService.recoverExpired).
 */
async function strandedOffers({ store, service }: RoutingRepairDeps): Promise<number> {
  let repaired = 0;
  for (const reservationId of await store.pendingReservations()) {
    const reservation = await store.reservation(reservationId);
    if (!reservation || reservation.state !== 'pending') {
      await store.dropPending(reservationId);
      repaired += 1;
      continue;
    }
    const [contact, offers] = await Promise.all([store.contact(reservation.interactionId), store.offerIds(reservation.agentId)]);
    if (contact?.state === 'reserved' && contact.reservationId === reservationId && offers.includes(reservationId)) continue;
    if (await service.rescindStranded(reservationId)) repaired += 1;
  }
  return repaired;
}

/**
 * Every interaction an agent holds (active or in wrap-up) whose work item Redis lost gets it back,
 * with its weight on the agent's load (capacity is not over-committed), and its wrap-up end timer
 * when in wrap-up (due from the wrap-up's start, at once when past).
 */
async function workInHand(deps: RoutingRepairDeps): Promise<number> {
  const { store, interactions, profiles, queues, timers, service, log } = deps;
  const agents = new Set<string>();
  let advanced = false;
  let repaired = 0;
  for await (const interaction of interactions.interactionsInHand()) {
    const agentId = interaction.agentId!;
    if (await store.workItem(agentId, interaction.id)) continue;
    const queue = interaction.queue && queues.byName.has(interaction.queue) ? interaction.queue : (queues.channelQueues[interaction.channel] ?? queues.defaultQueue);
    const phase = interaction.status === 'wrap_up' ? 'wrap_up' : 'active';
    const since = phase === 'wrap_up' ? await wrapUpStart(interactions, interaction, agentId) : (interaction.answeredAt ?? interaction.lastActivityAt);
    const reservationId = `${recoveredReservationPrefix}${interaction.id}`;
    const weight = (await profiles.get(agentId)).capacity[interaction.channel];
    // Redis lost the agent (no state): the journal jumps first, so every picture reads them again.
    if (!advanced && !(await store.hasAgentState(agentId))) {
      await store.advanceJournal(journalAfterReset());
      advanced = true;
    }
    const enqueuedAt = enqueuedAtOf(interaction).getTime();
    const restored = await store.restoreWork(
      agentId,
      { interactionId: interaction.id, channel: interaction.channel, queue, phase, since, reservationId, weight },
      { customerId: interaction.customerId, enqueuedAt, score: enqueuedAt },
    );
    if (!restored) continue;
    // Finished while we read it (wrap-up over, closed): the agent does not hold it any more.
    const now = await interactions.getInteractionState(interaction.id).catch(() => null);
    if (!now || now.agentId !== agentId || (now.status !== 'active' && now.status !== 'wrap_up')) {
      await store.finishWork(agentId, interaction.id, reservationId);
      continue;
    }
    if (phase === 'wrap_up') {
      const wrapUpMs = (queues.byName.get(queue)?.wrapUpSeconds ?? 0) * 1000;
      await timers.wrapUpEnd({ agentId, interactionId: interaction.id, reservationId }, new Date(since).getTime() + wrapUpMs - Date.now());
    }
    log.info({ agentId, interactionId: interaction.id, phase }, 'work in hand put back');
    agents.add(agentId);
    repaired += 1;
  }
  for (const agentId of agents) await service.emitAgent(agentId);
  return repaired;
}

/** When the agent's wrap-up began: their `work_completed` entry; the last activity when there is none. */
async function wrapUpStart(interactions: InteractionService, interaction: Interaction, agentId: string): Promise<string> {
  const whole = await interactions.getInteraction(interaction.id).catch(() => null);
  const completed = whole?.entries?.filter((entry) => entry.data?.event === 'work_completed' && entry.authorId === agentId).at(-1);
  return completed?.at ?? interaction.lastActivityAt;
}

/**
 * Every interaction that waits (by the listener's rule) and is not in routing is queued again
 * through the normal enqueue, with its original enqueue time and queue, so its score (and so its
 * place) is the one it had; not counted as offered a second time. Oldest first, so the matcher,
 * which may offer while this runs, sees them in about their order.
 */
async function waitingContacts({ store, service, interactions, queues, log }: RoutingRepairDeps): Promise<number> {
  const channels = Object.keys(queues.channelQueues) as Channel[];
  const found: Interaction[] = [];
  for await (const interaction of interactions.waitingInteractions(channels)) found.push(interaction);
  const inRouting = await store.inRouting(found.map((interaction) => interaction.id));
  const missing = found.filter((_, index) => !inRouting[index]).sort((left, right) => enqueuedAtOf(left).getTime() - enqueuedAtOf(right).getTime());
  let repaired = 0;
  for (const interaction of missing) {
    const { added, queue } = await service.enqueue({
      interactionId: interaction.id, customerId: interaction.customerId, channel: interaction.channel, enqueuedAt: enqueuedAtOf(interaction), requeue: true,
      ...(interaction.queue ? { queue: interaction.queue } : {}), ...(interaction.externalIds[0] ? { externalId: interaction.externalIds[0] } : {}),
    });
    if (!added) continue;
    // Ended while we read it (the caller hung up): its cancel found nothing to remove; we do it.
    const now = await interactions.getInteractionState(interaction.id).catch(() => null);
    if (!now || !waitsForAgent(now, queues)) {
      await service.cancel(interaction.id, 'reconciled');
      continue;
    }
    log.debug({ interactionId: interaction.id, queue }, 'waiting contact put back');
    repaired += 1;
  }
  return repaired;
}

/**
 * The agents connected to this node: connections Redis lost are registered again, a state it lost
 * is put back as this node last saw it (away, reason `recovered`, when it never saw one), and their
 * desks get a fresh snapshot; available ones are matched at once. The node is announced again too.
 */
async function connectedAgents({ store, service, node, match }: RoutingRepairDeps): Promise<number> {
  const agents = node.agents();
  const stateless = new Set<string>();
  for (const agentId of agents) if (!(await store.hasAgentState(agentId))) stateless.add(agentId);
  if (stateless.size) await store.advanceJournal(journalAfterReset());
  // Always, with or without agents: the node's heartbeat comes back now, not at its next beat, so
  // an agent who connects meanwhile is not passed over as stranded on a dead node.
  const reconnected = await node.reassert();
  let repaired = 0;
  for (const agentId of agents) {
    if (stateless.has(agentId) && !(await store.hasAgentState(agentId))) {
      const last = node.lastState(agentId) ?? { state: 'away' as const, reason: 'recovered' };
      await store.writeAgentState(agentId, last.state, last.state === 'available' ? undefined : last.reason, true);
    } else if (!reconnected.has(agentId)) continue;
    repaired += 1;
    const snapshot = await service.emitAgent(agentId);
    if (snapshot.state === 'available') match(await service.queuesOf(agentId));
  }
  return repaired;
}

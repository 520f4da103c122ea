import { randomUUID } from 'node:crypto';
import type { InteractionService } from '../interactions';
import type { Logger } from '../platform/logger';
import type { AgentProfile, AgentProfileRepository } from './agent-profile.repository';
import type { QueuesConfig } from './queue-config';
import type { RoutingStore, StoredAgent, StoredReservation } from './routing.store';
import { hasRequiredSkills, strategyFor, type Candidate } from './strategies';

/**
 * Matching: who is offered which waiting contact.
 *
 * Design. Every process may match at any time (a webhook enqueued a contact here, a wrap-up timer
 * fired there), so nothing in memory is trusted. A pass reads the best waiting contacts of the
 * affected queues (merged by score, so the oldest/highest comes first across queues) and the
 * available agents, filters agents per contact (queue served, skills, capacity for the channel,
 * not skipped for this contact), and lets the queue's strategy ORDER them — that part is plain
 * TypeScript and may work on a stale picture. The decision itself is one Redis Lua script (`claim`)
 * that re-checks, atomically, that the contact is still waiting in its queue, the agent is still
 * available, has room for the contact's weight and has not rejected/missed it, and then removes the
 * contact from the queue, adds the weight to the agent's load and writes the pending reservation.
 * A failed claim says which side moved: the contact (skip to the next contact) or the agent (try
 * the next candidate). The pass repeats until it offers nothing, so two processes racing end with
 * each contact offered once and no agent over capacity: the losers just see their claims fail.
 * Within one process, concurrent requests are coalesced into one running pass (plus one rerun).
 */
export interface MatcherDeps {
  store: RoutingStore;
  profiles: AgentProfileRepository;
  queues: QueuesConfig;
  interactions: InteractionService;
  log: Logger;
  /** Called after each successful claim (the reservation is durable): schedule its timeout, emit the offer. */
  offered(reservation: StoredReservation): Promise<void>;
  queueChanged(queue: string): Promise<void>;
}

const contactsPerQueue = 50;
const maxRounds = 200;

export class Matcher {
  private readonly dirty = new Set<string>();
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: MatcherDeps) {}

  /** Runs matching for these queues now (or right after the pass already running here). */
  request(queues: Iterable<string>): Promise<void> {
    for (const queue of queues) if (this.deps.queues.byName.has(queue)) this.dirty.add(queue);
    if (this.stopped) return Promise.resolve();
    this.running ??= this.drain();
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.dirty.clear();
    await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.dirty.size && !this.stopped) {
        const queues = [...this.dirty];
        this.dirty.clear();
        try {
          await this.matchQueues(queues);
        } catch (error) {
          this.deps.log.error({ err: error, queues }, 'routing pass failed');
        }
      }
    } finally {
      this.running = undefined;
    }
  }

  private async matchQueues(queues: string[]): Promise<void> {
    const { store } = this.deps;
    for (let round = 0; round < maxRounds && !this.stopped; round += 1) {
      const waiting = (await Promise.all(queues.map((queue) => store.waiting(queue, contactsPerQueue)))).flat().sort((left, right) => left.score - right.score);
      if (!waiting.length) return;
      const agents = await this.availableAgents();
      if (!agents.length) return;
      const changed = new Set<string>();
      // Claims run one after another (each decides on the picture the previous one left), but an
      // offer's delivery (its timeout job, the screen pop: several store reads) does not hold up the
      // next claim; the round waits for all its deliveries before it reports the queues changed.
      const deliveries: Promise<void>[] = [];
      for (const entry of waiting) {
        if (await this.offerOne(entry.interactionId, entry.queue, agents, deliveries)) changed.add(entry.queue);
      }
      await Promise.all(deliveries);
      for (const queue of changed) await this.deps.queueChanged(queue);
      if (!changed.size) return;
    }
  }

  private async availableAgents(): Promise<{ agent: StoredAgent; profile: AgentProfile }[]> {
    const ids = await this.deps.store.availableAgents();
    // One pipelined read for every agent's state and connections (not one round trip each); profiles are cached.
    const [agents, profiles] = await Promise.all([this.deps.store.agents(ids, { connections: true }), Promise.all(ids.map((id) => this.deps.profiles.get(id)))]);
    // A desk on a node that died is dark until the presence grace ends: offering to it only makes the
    // contact ring nowhere until the offer is withdrawn. One MGET of the nodes' heartbeats for all.
    const unreachable = await this.deps.store.unreachable(agents);
    return agents.flatMap((agent, index) => (unreachable.has(agent.agentId) ? [] : [{ agent, profile: profiles[index] }]));
  }

  /** Tries the contact's ranked candidates until one claim succeeds; true when it was offered. */
  private async offerOne(
    interactionId: string,
    queueName: string,
    agents: { agent: StoredAgent; profile: AgentProfile }[],
    deliveries: Promise<void>[],
  ): Promise<boolean> {
    const { store, log } = this.deps;
    const queue = this.deps.queues.byName.get(queueName);
    if (!queue) return false;
    const [contact, skippedIds] = await Promise.all([store.contact(interactionId), store.skipped(interactionId)]);
    if (!contact || contact.state !== 'waiting') return false;
    const skipped = new Set(skippedIds);
    const eligible = agents.filter(({ agent, profile }) => {
      const weight = profile.capacity[contact.channel];
      // Transferred to a named agent: a person chose them, so their queues and skills do not matter.
      if (contact.targetAgentId) return agent.agentId === contact.targetAgentId && agent.state === 'available' && agent.load + weight <= 100;
      return (
        agent.state === 'available' &&
        !skipped.has(agent.agentId) &&
        (profile.queues.length === 0 || profile.queues.includes(queueName)) &&
        hasRequiredSkills(profile.skills, queue.skills) &&
        agent.load + weight <= 100
      );
    });
    if (!eligible.length) return false;
    const strategy = strategyFor(queue.strategy);
    const candidates: Candidate[] = eligible.map(({ agent, profile }) => ({ agentId: agent.agentId, load: agent.load, idleSince: agent.idleSince, skills: profile.skills }));
    const ranked = strategy.rank(
      {
        interactionId,
        queue: queueName,
        requiredSkills: queue.skills,
        ...(strategy.needsLastAgent ? { lastAgentId: await this.lastAgentOf(contact.customerId, interactionId) } : {}),
        ...(strategy.name === 'round-robin' ? { lastRoundRobinAgentId: (await store.lastRoundRobin(queueName)) ?? undefined } : {}),
      },
      candidates,
    );
    for (const candidate of ranked) {
      const entry = eligible.find((item) => item.agent.agentId === candidate.agentId)!;
      const weight = entry.profile.capacity[contact.channel];
      const offeredAt = new Date();
      const expiresAtMs = offeredAt.getTime() + queue.reservationTimeoutSeconds * 1000;
      const reservation: StoredReservation = {
        id: randomUUID(), interactionId, agentId: candidate.agentId, queue: queueName, channel: contact.channel, state: 'pending',
        offeredAt: offeredAt.toISOString(), expiresAt: new Date(expiresAtMs).toISOString(), weight,
        // The claim copies the same fields from the contact into the stored reservation.
        ...(contact.transfer ? { transfer: contact.transfer } : {}),
      };
      const result = await store.claim({ reservation, expiresAtMs });
      if (result === 'contact') return false;
      if (result === 'agent') {
        // Someone else changed this agent: refresh our picture for the next contacts.
        entry.agent = await store.agent(candidate.agentId);
        continue;
      }
      entry.agent = { ...entry.agent, load: entry.agent.load + weight };
      if (strategy.name === 'round-robin') await store.setLastRoundRobin(queueName, candidate.agentId);
      log.info({ interactionId, agentId: candidate.agentId, reservationId: reservation.id, queue: queueName }, 'contact offered');
      // The reservation is durable: a delivery that fails is logged, and the offer ends by the
      // recovery sweep (no timer) or its timeout, as after a crash at this point.
      deliveries.push(
        this.deps.offered(reservation).catch((error: unknown) => {
          log.error({ err: error, interactionId, reservationId: reservation.id }, 'offer delivery failed');
        }),
      );
      return true;
    }
    return false;
  }

  /** The agent on the customer's most recent other interaction that had one, for sticky routing. */
  private async lastAgentOf(customerId: string, interactionId: string): Promise<string | undefined> {
    const { items } = await this.deps.interactions.getTimeline(customerId, { limit: 10 });
    return items.find((item) => item.id !== interactionId && item.agentId)?.agentId;
  }
}

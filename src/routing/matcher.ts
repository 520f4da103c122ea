import { randomUUID } from 'node:crypto';
import type { InteractionService } from '../interactions';
import type { Logger } from '../platform/logger';
import type { AgentPicture } from './agent-picture';
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
 * available agents (from the AgentPicture: brought up to every change journaled before the round,
 * by reading only the agents that changed), filters agents per contact (queue served, skills,
 * capacity for the channel, not skipped for this contact), and lets the queue's strategy ORDER them — that part is plain
 * TypeScript and may work on a stale picture. The decision itself is one Redis Lua script (`claim`)
 * that re-checks, atomically, that the contact is still waiting in its queue, the agent is still
 * available, has room for the contact's weight and has not rejected/missed it, and then removes the
 * contact from the queue, adds the weight to the agent's load and writes the pending reservation.
 * A failed claim says which side moved: the contact (skip to the next contact) or the agent (try
 * the next candidate). While claims are lost (or contacts wait past the read window) the pass
 * repeats until it offers nothing, so two processes racing end with each contact offered once and
 * no agent over capacity: the losers just see their claims fail.
 * Within one process, concurrent requests are coalesced into one running pass (plus one rerun).
 */
export interface MatcherDeps {
  store: RoutingStore;
  picture: AgentPicture;
  profiles: AgentProfileRepository;
  queues: QueuesConfig;
  interactions: InteractionService;
  log: Logger;
  /** Called after each successful claim (the reservation is durable): schedule its timeout, emit the offer. */
  offered(reservation: StoredReservation, customerId: string): Promise<void>;
  queueChanged(queue: string): Promise<void>;
}

const contactsPerQueue = 50;
const maxRounds = 200;

interface Entry {
  agent: StoredAgent;
  profile: AgentProfile;
}

/** Room left for the lightest contact this agent takes. */
const hasRoom = ({ agent, profile }: Entry) => agent.state === 'available' && agent.load + Math.min(...Object.values(profile.capacity)) <= 100;

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
      const heads = await Promise.all(queues.map((queue) => store.waiting(queue, contactsPerQueue)));
      const waiting = heads.flat().sort((left, right) => left.score - right.score);
      if (!waiting.length) return;
      const agents = await this.availableAgents();
      // Nobody has room for even the lightest contact: reading the contacts would decide nothing.
      if (!agents.some(hasRoom)) return;
      const changed = new Set<string>();
      // Claims run one after another (each decides on the picture the previous one left), but an
      // offer's delivery (its timeout job, the screen pop: several store reads) does not hold up the
      // next claim; the round waits for all its deliveries before it reports the queues changed.
      const deliveries: Promise<void>[] = [];
      const round = { contended: false };
      for (const entry of waiting) {
        if (!agents.some(hasRoom)) break;
        if (await this.offerOne(entry.interactionId, entry.queue, agents, deliveries, round)) changed.add(entry.queue);
      }
      await Promise.all(deliveries);
      for (const queue of changed) await this.deps.queueChanged(queue);
      // Another round only when this one may have left something it could now offer: contacts past
      // the read window, or claims lost to someone else (their picture was stale). Anything else that
      // frees an agent or queues a contact requests its own pass.
      if (!changed.size || !(round.contended || heads.some((head) => head.length === contactsPerQueue))) return;
    }
  }

  /** The available agents with a little room, each a copy this round may update as it claims. */
  private async availableAgents(): Promise<Entry[]> {
    const { picture, profiles, store } = this.deps;
    await picture.refresh();
    const agents = picture.all().filter((agent) => agent.state === 'available' && agent.load < 100);
    if (!agents.length) return [];
    // Cached profiles; the few missing are read in one query.
    const agentProfiles = await profiles.getMany(agents.map((agent) => agent.agentId));
    // A desk on a node that died is dark until the presence grace ends: offering to it only makes the
    // contact ring nowhere until the offer is withdrawn. One MGET of the nodes' heartbeats for all.
    const unreachable = await store.unreachable(agents);
    return agents.flatMap((agent, index) => (unreachable.has(agent.agentId) ? [] : [{ agent: { ...agent }, profile: agentProfiles[index] }]));
  }

  /** Tries the contact's ranked candidates until one claim succeeds; true when it was offered. */
  private async offerOne(
    interactionId: string,
    queueName: string,
    agents: Entry[],
    deliveries: Promise<void>[],
    round: { contended: boolean },
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
      if (result !== 'ok') round.contended = true;
      if (result === 'contact') return false;
      if (result === 'agent') {
        // Someone else changed this agent: refresh our picture for the next contacts.
        await this.deps.picture.refresh();
        entry.agent = { ...(this.deps.picture.get(candidate.agentId) ?? entry.agent) };
        continue;
      }
      entry.agent = { ...entry.agent, load: entry.agent.load + weight };
      if (strategy.name === 'round-robin') await store.setLastRoundRobin(queueName, candidate.agentId);
      log.info({ interactionId, agentId: candidate.agentId, reservationId: reservation.id, queue: queueName }, 'contact offered');
      // The reservation is durable: a delivery that fails is logged, and the offer ends by the
      // recovery sweep (no timer) or its timeout, as after a crash at this point.
      deliveries.push(
        this.deps.offered(reservation, contact.customerId).catch((error: unknown) => {
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

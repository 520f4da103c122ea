import type { CustomerService } from '../customers';
import type { Interaction, InteractionChanges, InteractionService, NewEntry } from '../interactions';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { displayedState } from './agent-picture';
import type { AgentProfileRepository } from './agent-profile.repository';
import type { ContactMoves } from './contact-moves.service';
import type { Matcher } from './matcher';
import { isTier, priorityScore, type QueuesConfig } from './queue-config';
import type { QueueStats } from './queue-stats';
import type { AgentDesk, AgentSnapshot, QueueSnapshot, RequestedAgentState, Reservation, RoutingEvent, TransferTarget } from './routing.contracts';
import type { RoutingTimers, RoutingTimerJob } from './routing.jobs';
import type { RoutingStore, StoredReservation } from './routing.store';
import type { NodeLiveness, OrphanedAgent } from './node-liveness';

/** The log's record that an agent's wrap-up is over: reports count wrap time up to it. */
const wrapUpEndedEntry = (agentId: string): NewEntry => ({ kind: 'system', direction: 'internal', authorId: agentId, data: { event: 'wrap_up_ended' } });

/** Offers an agent may miss in a row before routing sets them away, so callers stop ringing an empty desk. */
export const maxMissedOffers = 3;

/** How often a cancel looks again when the contact changed hands under it (an accept, a timeout, an overflow). */
const cancelAttempts = 5;

/**
 * Bridges a voice contact to the agent who accepted it, writing `record` (routing's own account of
 * the accept) with the bridge in one write; false when no voice channel is there to do it.
 */
export type Connector = (input: { interactionId: string; agentId: string; externalId?: string; record: { changes: InteractionChanges; entry: NewEntry } }) => Promise<boolean>;
export type RoutingListener = (event: RoutingEvent) => void | Promise<void>;

export interface RoutingServiceDeps {
  store: RoutingStore;
  profiles: AgentProfileRepository;
  queues: QueuesConfig;
  interactions: InteractionService;
  customers: CustomerService;
  timers: RoutingTimers;
  log: Logger;
  presenceGraceMs: number;
  /** This process's node: connections are recorded under its id so a crash can be cleaned up by others. */
  node: NodeLiveness;
}

/** What RoutingStore reads as `since` for an agent whose hash holds no state. */
const unknownSince = new Date(0).toISOString();

const publicReservation = ({ weight: _weight, ...reservation }: StoredReservation): Reservation => reservation;

/** Agent actions, queueing and timers; matching itself is the Matcher's. */
export class RoutingService implements AgentDesk {
  private readonly listeners: RoutingListener[] = [];
  private connector: Connector = async () => false;
  matcher!: Matcher;
  moves!: ContactMoves;
  stats!: QueueStats;

  constructor(private readonly deps: RoutingServiceDeps) {}

  onEvent(listener: RoutingListener): void {
    this.listeners.push(listener);
  }

  setConnector(connector: Connector): void {
    this.connector = connector;
  }

  /** Tells listeners; called only after the change it reports is written. A failing listener is logged. */
  async emit(event: RoutingEvent): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(event);
      } catch (error) {
        this.deps.log.error({ err: error, type: event.type }, 'routing listener failed');
      }
    }
  }

  /** Tells listeners the agent's new state; their queues changed too (agents by state on the wallboard). */
  async emitAgent(agentId: string): Promise<AgentSnapshot> {
    const snapshot = await this.snapshot(agentId);
    await this.emit({ type: 'agent_state', agentId, snapshot });
    for (const queue of await this.queuesOf(agentId)) await this.emit({ type: 'queue_changed', queue });
    return snapshot;
  }

  transfer(agentId: string, interactionId: string, input: TransferTarget & { note: string; byUserId?: string }): Promise<AgentSnapshot> {
    return this.moves.transfer(agentId, interactionId, input);
  }

  async holds(agentId: string, interactionId: string): Promise<boolean> {
    return (await this.deps.store.workItem(agentId, interactionId))?.phase === 'active';
  }

  /** The configured queues' names, for transfer pickers. */
  queueNames(): string[] {
    return [...this.deps.queues.byName.keys()].sort();
  }

  queueSnapshot(queue: string): Promise<QueueSnapshot> {
    return this.stats.queue(queue);
  }

  /** Queues an interaction for an agent; a second call for a contact already queued, offered or assigned does nothing. */
  async enqueue(input: { interactionId: string; customerId: string; channel: Interaction['channel']; queue?: string; enqueuedAt?: Date; requeue?: boolean; externalId?: string }): Promise<{ queue: string; added: boolean }> {
    const { queues, store, log } = this.deps;
    let queue = input.queue ?? queues.channelQueues[input.channel] ?? queues.defaultQueue;
    if (!queues.byName.has(queue)) {
      log.warn({ interactionId: input.interactionId, queue }, 'unknown queue: contact routed to the default queue');
      queue = queues.defaultQueue;
    }
    // A tier changed in the last half minute may not be seen yet: priority only, never correctness.
    const tier = await this.deps.customers.getCustomer(input.customerId, { maxAgeMs: 30_000 }).then((customer) => customer.tier, () => 'standard' as const);
    const enqueuedAt = (input.enqueuedAt ?? new Date()).getTime();
    // Counted as offered by the enqueue itself; a contact put back after a failed bridge was
    // counted when it first arrived.
    const added = await store.enqueue(
      {
        interactionId: input.interactionId, queue, channel: input.channel, customerId: input.customerId, enqueuedAt, ...(input.externalId ? { externalId: input.externalId } : {}),
        score: priorityScore(enqueuedAt, isTier(tier) ? tier : 'standard', queues.byName.get(queue)!),
      },
      { count: !input.requeue },
    );
    if (added) {
      // Matching first: the bookkeeping below does not decide anything the offer waits for.
      void this.matcher.request([queue]);
      log.info({ interactionId: input.interactionId, queue }, 'contact queued');
      await this.moves.scheduleOverflow(input.interactionId, queue, enqueuedAt);
      await this.emit({ type: 'queue_changed', queue });
    }
    return { queue, added };
  }

  /**
   * Takes a contact out of routing (caller hung up, conversation closed): out of its queue, or its
   * offer rescinded. Gave up before an agent answered ('abandoned'): counted against the service
   * level by the script that removes it or ends its offer, so a contact an agent accepted meanwhile
   * counts as answered only. When it changed hands under us (accepted, timed out and back in its
   * queue, overflowed), it is read again.
   */
  async cancel(interactionId: string, reason: string): Promise<void> {
    const { store, log } = this.deps;
    const abandoned = reason === 'abandoned';
    for (let attempt = 0; attempt < cancelAttempts; attempt += 1) {
      const contact = await store.contact(interactionId);
      if (!contact) return;
      const result = await store.cancel(interactionId, contact.queue, { abandoned });
      if (result.state === 'missing') return;
      if (result.state === 'removed') {
        log.info({ interactionId, queue: contact.queue, reason }, 'contact left the queue');
        await this.emit({ type: 'queue_changed', queue: contact.queue });
        return;
      }
      if (result.state === 'reserved' && result.reservationId) {
        if (await this.endOffer(result.reservationId, { state: 'rescinded', requeue: false, countMiss: false, abandoned })) {
          log.info({ interactionId, reason }, 'offer rescinded');
          return;
        }
        continue;
      }
      if (result.state === 'assigned') {
        // A call that ended while assigned: the agent was busy until now and goes to wrap-up without a
        // click (Flex and Connect do the same). Texts and emails stay the agent's work until completed.
        if (reason === 'closed' && contact.channel === 'voice' && contact.agentId) {
          const item = await store.workItem(contact.agentId, interactionId);
          if (item?.phase === 'active') await this.completeWork(contact.agentId, interactionId, {});
        }
        return;
      }
    }
    log.warn({ interactionId, reason }, 'contact kept changing hands: cancel gave up');
  }

  async snapshot(agentId: string): Promise<AgentSnapshot> {
    const { store } = this.deps;
    const [agent, offerIds, work] = await Promise.all([store.agent(agentId), store.offerIds(agentId), store.work(agentId)]);
    // Kept for the reconciler: the state to give back to an agent connected here if Redis loses it.
    // A hash with no state (Redis lost it; a put-back load alone) teaches nothing.
    if (agent.since !== unknownSince) this.deps.node.rememberState(agentId, agent.state, agent.reason);
    const offers = (await Promise.all(offerIds.map((id) => store.reservation(id)))).flatMap((reservation) => (reservation?.state === 'pending' ? [publicReservation(reservation)] : []));
    // busy and wrap_up are derived from the work at hand (the wallboard's picture uses the same rule), never stored.
    const state = displayedState({ state: agent.state, load: agent.load, work });
    const active = work.filter((item) => item.phase === 'active');
    const wrapping = work.filter((item) => item.phase === 'wrap_up');
    // Busy since the oldest contact in hand, in wrap-up since the latest; full with offers alone (a
    // call ringing at their desk) keeps the stored time.
    const since =
      state === 'busy' && active.length ? active.map((item) => item.since).sort()[0]
      : state === 'wrap_up' ? wrapping.map((item) => item.since).sort().at(-1)!
      : agent.since;
    return {
      agentId,
      state,
      ...(agent.reason && agent.state !== 'available' ? { stateReason: agent.reason } : {}),
      stateSince: since,
      offers,
      work: work.map(({ interactionId, channel, queue, phase, since: itemSince }) => ({ interactionId, channel, queue, phase, since: itemSince })),
      load: agent.load,
    };
  }

  async setAgentState(agentId: string, state: RequestedAgentState, reason?: string): Promise<AgentSnapshot> {
    const { store } = this.deps;
    const current = await store.agent(agentId);
    if (current.state !== state || (current.reason ?? undefined) !== reason) {
      await store.writeAgentState(agentId, state, state === 'available' ? undefined : reason, current.state !== 'available');
      this.deps.log.info({ agentId, state }, 'agent state changed');
    }
    if (state !== 'available') {
      // An agent who steps away should not keep contacts waiting on offers they will not see.
      for (const reservationId of await store.offerIds(agentId)) {
        await this.endOffer(reservationId, { state: 'rescinded', requeue: true, countMiss: false });
      }
    }
    const snapshot = await this.emitAgent(agentId);
    if (state === 'available') void this.matcher.request(await this.matchingQueuesOf(agentId));
    return snapshot;
  }

  async accept(agentId: string, reservationId: string): Promise<Reservation> {
    const { store, timers, log } = this.deps;
    const reservation = await this.ownReservation(agentId, reservationId);
    const contact = await store.contact(reservation.interactionId);
    const since = new Date().toISOString();
    // Counted as answered (within the service level or not) by the accept itself; a transfer was answered once already.
    const outcome = await store.accept(
      reservation, agentId,
      { interactionId: reservation.interactionId, channel: reservation.channel, queue: reservation.queue, phase: 'active', since, reservationId, weight: reservation.weight },
      { serviceLevelSeconds: this.deps.queues.byName.get(reservation.queue)?.serviceLevelSeconds ?? 0 },
    );
    if (outcome !== 'ok') throw new AppError('conflict', 'The offer is no longer pending', { reservationId, state: outcome });
    await timers.cancelReservationTimeout(reservationId);
    try {
      // answeredAt is the first answer (a transferred contact keeps it), offeredAt the first offer.
      // The entry says who took the contact, from which queue, when: reports derive waits and
      // handle times from the log. One write for all of it (accepting is on every contact's path).
      const record: { changes: InteractionChanges; entry: NewEntry } = {
        changes: { status: 'active', agentId, ...(reservation.transfer ? {} : { answeredAt: new Date() }), ...(contact?.firstOfferedAt ? { offeredAt: new Date(contact.firstOfferedAt) } : {}) },
        entry: { kind: 'system', direction: 'internal', authorId: agentId, data: { event: 'accepted', agentId, queue: reservation.queue, reservationId, ...(reservation.transfer ? { transfer: true } : {}) } },
      };
      // A call is bridged before the interaction says active, so "active" always means connected;
      // the bridge writes the record with its own.
      const recorded = reservation.channel === 'voice' && (await this.connector({ interactionId: reservation.interactionId, agentId, record, ...(contact?.externalId ? { externalId: contact.externalId } : {}) }));
      if (!recorded) await this.deps.interactions.updateInteraction(reservation.interactionId, record.changes, [], { entry: record.entry });
    } catch (error) {
      await this.undoAccept(reservation);
      throw error;
    }
    const accepted: Reservation = { ...publicReservation(reservation), state: 'accepted' };
    log.info({ agentId, reservationId, interactionId: reservation.interactionId }, 'offer accepted');
    await this.emit({ type: 'assigned', agentId, reservation: accepted });
    await this.emitAgent(agentId);
    await this.emit({ type: 'queue_changed', queue: reservation.queue });
    return accepted;
  }

  async reject(agentId: string, reservationId: string): Promise<Reservation> {
    await this.ownReservation(agentId, reservationId);
    const ended = await this.endOffer(reservationId, { state: 'rejected', requeue: true, countMiss: false, expectedAgentId: agentId });
    if (!ended) {
      const current = await this.deps.store.reservation(reservationId);
      throw new AppError('conflict', 'The offer is no longer pending', { reservationId, state: current?.state });
    }
    return ended;
  }

  async completeWork(agentId: string, interactionId: string, outcome: { disposition?: string; notes?: string }): Promise<AgentSnapshot> {
    const { store, timers, queues, interactions } = this.deps;
    const item = await store.workItem(agentId, interactionId);
    if (!item) throw AppError.notFound('Work item', interactionId);
    if (item.phase === 'wrap_up') return this.snapshot(agentId);
    await store.putWorkItem(agentId, { ...item, phase: 'wrap_up', since: new Date().toISOString() });
    const entry: NewEntry = {
      kind: 'system', direction: 'internal', authorId: agentId,
      data: { event: 'work_completed', ...(outcome.disposition ? { disposition: outcome.disposition } : {}) },
      ...(outcome.notes ? { text: outcome.notes } : {}),
    };
    const wrapUpMs = (queues.byName.get(item.queue)?.wrapUpSeconds ?? 0) * 1000;
    // Still active (the usual case): into wrap-up with the entry, one write; with no wrap-up time,
    // straight to closed with the wrap-up's end recorded too, still one write. Otherwise (the caller
    // hung up and closed it meanwhile) the entry alone, so the status is never walked back.
    const done =
      wrapUpMs > 0
        ? await interactions.transitionInteraction(interactionId, ['active'], { status: 'wrap_up' }, { entry })
        : await interactions.transitionInteraction(interactionId, ['active'], { status: 'closed' }, { entries: [entry, wrapUpEndedEntry(agentId)], endedAtIfUnset: new Date() });
    if (!done) await interactions.appendEntry(interactionId, entry);
    this.deps.log.info({ agentId, interactionId, wrapUpMs }, 'work completed');
    if (wrapUpMs > 0) await timers.wrapUpEnd({ agentId, interactionId, reservationId: item.reservationId }, wrapUpMs);
    else return this.endWrapUp(agentId, interactionId, item.reservationId, { closed: done !== null });
    return this.emitAgent(agentId);
  }

  async agentConnected(agentId: string, connectionId: string): Promise<AgentSnapshot> {
    const { node, store } = this.deps;
    node.track(agentId, connectionId);
    await store.connect(agentId, node.nodeId, connectionId);
    return this.snapshot(agentId);
  }

  async agentDisconnected(agentId: string, connectionId: string): Promise<void> {
    const { node, store } = this.deps;
    node.untrack(connectionId);
    const { removed, remaining, gen } = await store.disconnect(agentId, node.nodeId, connectionId);
    // A page reload or a network blip reconnects within the grace period and changes nothing.
    // Not removed: a sweep took it (our heartbeat had lapsed) and already started the grace period.
    if (removed && remaining === 0) await this.deps.timers.presenceGrace(agentId, gen, this.deps.presenceGraceMs);
  }

  /**
   * Agents whose last connection was on a node that died: the same grace as a disconnect (their
   * browser may reconnect to another node), then offline, which hands their offers back unmissed.
   * Two sweepers may report the same agent; the timer's job id is deterministic, so it runs once.
   */
  async agentsOrphaned(agents: OrphanedAgent[]): Promise<void> {
    for (const { agentId, gen } of agents) {
      await this.deps.timers.presenceGrace(agentId, gen, this.deps.presenceGraceMs);
      this.deps.log.info({ agentId, gen }, 'presence grace started: last connection was on a dead node');
    }
  }

  /** Runs one timer job; each re-checks the state it would change. */
  async handleTimer(job: RoutingTimerJob): Promise<void> {
    if (job.kind === 'reservation-timeout') await this.endOffer(job.reservationId, { state: 'timeout', requeue: true, countMiss: true });
    else if (job.kind === 'overflow') await this.moves.overflowIfDue(job.interactionId, job.queue);
    else if (job.kind === 'wrap-up-end') await this.endWrapUp(job.agentId, job.interactionId, job.reservationId);
    else {
      const agent = await this.deps.store.agent(job.agentId);
      const connections = await this.deps.store.connectionCount(job.agentId);
      if (connections === 0 && agent.presenceGen === job.generation && agent.state !== 'offline') {
        await this.setAgentState(job.agentId, 'offline', 'disconnected');
      }
    }
  }

  /**
   * Ends a pending offer whose contact or agent is gone (the reconciler): rescinded, the contact
   * back in its queue if it is still there, the agent's capacity freed. False when no longer pending.
   */
  async rescindStranded(reservationId: string): Promise<boolean> {
    return (await this.endOffer(reservationId, { state: 'rescinded', requeue: true, countMiss: false })) !== undefined;
  }

  /** Times out offers whose timer died with a process (called at start). */
  async recoverExpired(): Promise<number> {
    const expired = await this.deps.store.expiredPending(Date.now());
    for (const reservationId of expired) await this.endOffer(reservationId, { state: 'timeout', requeue: true, countMiss: true });
    return expired.length;
  }

  /** `closed`: the interaction was already closed with its wrap-up end recorded (no wrap-up time). */
  private async endWrapUp(agentId: string, interactionId: string, reservationId: string, options: { closed?: boolean } = {}): Promise<AgentSnapshot> {
    const item = await this.deps.store.workItem(agentId, interactionId);
    if (item?.reservationId === reservationId && !options.closed) {
      // The interaction is closed before the capacity is freed, so "available again" implies "closed";
      // a retry after a crash in between finds it closed and only frees the capacity.
      // The end of wrap-up goes into the log (reports count wrap time from it), with the close.
      const { interactions } = this.deps;
      const entry = wrapUpEndedEntry(agentId);
      const closed = await interactions.transitionInteraction(interactionId, ['wrap_up'], { status: 'closed' }, { entry, endedAtIfUnset: new Date() });
      // Not in wrap-up (closed by a hang-up meanwhile, or gone): the entry alone, if it is there at
      // all, told to the listeners like the close (reports count the handling when both are in).
      if (!closed) await interactions.updateInteraction(interactionId, {}, [], { entry }).catch((error: unknown) => {
        if (!(error instanceof AppError && error.code === 'not_found')) throw error;
      });
    }
    const finished = await this.deps.store.finishWork(agentId, interactionId, reservationId);
    if (finished) this.deps.log.info({ agentId, interactionId }, 'wrap-up ended');
    const snapshot = await this.emitAgent(agentId);
    if (finished) void this.matcher.request(await this.matchingQueuesOf(agentId));
    return snapshot;
  }

  /**
   * Ends a pending offer (reject, timeout, rescind) in one atomic step; a requeued contact keeps its
   * original place and skips this agent. Returns undefined when the offer was no longer pending.
   */
  private async endOffer(
    reservationId: string,
    how: { state: 'rejected' | 'timeout' | 'rescinded'; requeue: boolean; countMiss: boolean; expectedAgentId?: string; abandoned?: boolean },
  ): Promise<Reservation | undefined> {
    const { store, log, timers } = this.deps;
    const reservation = await store.reservation(reservationId);
    if (!reservation) return undefined;
    const result = await store.release(reservation, { ...how, maxMissed: maxMissedOffers });
    if (result.outcome !== 'ok') return undefined;
    if (how.state !== 'timeout') await timers.cancelReservationTimeout(reservationId);
    const ended: Reservation = { ...publicReservation(reservation), state: how.state };
    log.info({ reservationId, agentId: reservation.agentId, interactionId: reservation.interactionId, state: how.state, missed: result.missed, away: result.away }, 'offer ended');
    await this.emit({ type: 'offer_ended', agentId: reservation.agentId, reservation: ended });
    await this.emitAgent(reservation.agentId);
    await this.emit({ type: 'queue_changed', queue: reservation.queue });
    // Back in its queue after waiting through an offer: it may be past the queue's max wait by now.
    if (result.requeued) await this.moves.overflowIfDue(reservation.interactionId, reservation.queue);
    void this.matcher.request(new Set([reservation.queue, ...(await this.matchingQueuesOf(reservation.agentId))]));
    return ended;
  }

  private async undoAccept(reservation: StoredReservation): Promise<void> {
    const { store, interactions, log } = this.deps;
    // The answered count goes with the work item, in one step.
    await store.undoAccept(reservation.agentId, reservation.interactionId, reservation.id);
    const interaction = await interactions.getInteraction(reservation.interactionId).catch(() => null);
    // Still waiting (the bridge failed, the caller did not hang up): back to the queue, same place.
    if (interaction && (interaction.status === 'queued' || interaction.status === 'open')) {
      const enqueuedAt = interaction.queuedAt ?? interaction.createdAt;
      await this.enqueue({ interactionId: interaction.id, customerId: interaction.customerId, channel: interaction.channel, queue: reservation.queue, enqueuedAt: new Date(enqueuedAt), requeue: true });
    }
    log.warn({ reservationId: reservation.id, interactionId: reservation.interactionId, agentId: reservation.agentId }, 'accept undone: the contact could not be connected');
    await this.emitAgent(reservation.agentId);
  }

  private async ownReservation(agentId: string, reservationId: string): Promise<StoredReservation> {
    const reservation = await this.deps.store.reservation(reservationId);
    if (!reservation) throw AppError.notFound('Reservation', reservationId);
    if (reservation.agentId !== agentId) throw new AppError('forbidden', 'This offer was made to another agent', { reservationId });
    return reservation;
  }

  /** The agent's queues plus those holding contacts transferred to them by name. */
  private async matchingQueuesOf(agentId: string): Promise<string[]> {
    return [...new Set([...(await this.queuesOf(agentId)), ...(await this.deps.store.directedQueues(agentId))])];
  }

  async queuesOf(agentId: string): Promise<string[]> {
    const profile = await this.deps.profiles.get(agentId);
    return profile.queues.length ? profile.queues : [...this.deps.queues.byName.keys()];
  }
}

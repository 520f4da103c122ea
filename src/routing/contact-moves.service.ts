import type { CustomerService } from '../customers';
import type { InteractionService } from '../interactions';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { isTier, overflowTarget, priorityScore, type QueuesConfig } from './queue-config';
import type { AgentSnapshot, TransferTarget } from './routing.contracts';
import type { RoutingTimers } from './routing.jobs';
import type { RoutingService } from './routing.service';
import type { RoutingStore } from './routing.store';

export interface ContactMovesDeps {
  store: RoutingStore;
  queues: QueuesConfig;
  interactions: InteractionService;
  customers: CustomerService;
  timers: RoutingTimers;
  log: Logger;
  routing: RoutingService;
}

/**
 * Contacts changing hands after they were queued: an agent transferring one they hold, and a
 * contact overflowing to another queue after waiting too long. Both keep the contact's original
 * enqueue time, so it never loses the place it earned by waiting.
 */
export class ContactMoves {
  constructor(private readonly deps: ContactMovesDeps) {}

  /**
   * Transfers an active contact. The note is appended to the interaction first (the record of why),
   * then one Lua script frees the agent's capacity and puts the contact back waiting: at the front
   * of the target queue, or reserved for the named agent only (it waits for them while they are
   * away or full; if they reject or miss the offer it falls back to its queue for anyone).
   * `byUserId`: a supervisor acting for the agent; the note and the log name them as the one who did it.
   */
  async transfer(agentId: string, interactionId: string, input: TransferTarget & { note: string; byUserId?: string }): Promise<AgentSnapshot> {
    const { store, queues, interactions, routing, log } = this.deps;
    const byUserId = input.byUserId ?? agentId;
    if (input.toAgentId === agentId) throw AppError.validation([{ field: 'toAgentId', message: byUserId === agentId ? 'cannot be yourself' : 'is the agent who holds the contact' }]);
    if (input.toQueue !== undefined && !queues.byName.has(input.toQueue)) throw AppError.validation([{ field: 'toQueue', message: `unknown queue ${input.toQueue}` }]);
    if (input.toAgentId !== undefined && !(await store.isKnownAgent(input.toAgentId))) throw AppError.notFound('Agent', input.toAgentId);
    const item = await store.workItem(agentId, interactionId);
    if (!item) throw AppError.notFound('Work item', interactionId);
    if (item.phase !== 'active') throw new AppError('conflict', 'Only a contact you are handling can be transferred, not one in wrap-up', { interactionId, phase: item.phase });

    const interaction = await interactions.getInteraction(interactionId);
    const contact = await store.contact(interactionId);
    const enqueuedAt = contact?.enqueuedAt ?? new Date(interaction.queuedAt ?? interaction.createdAt).getTime();
    const queue = input.toQueue ?? item.queue;
    const target = input.toAgentId !== undefined ? { toAgentId: input.toAgentId } : { toQueue: queue };
    await interactions.appendEntry(interactionId, {
      kind: 'note', direction: 'internal', authorId: byUserId, text: input.note,
      data: { transfer: { from: agentId, ...target, ...(byUserId !== agentId ? { by: byUserId } : {}) } },
    });
    const outcome = await store.transfer({
      item, fromAgentId: agentId, queue, note: input.note, ...(input.toAgentId !== undefined ? { targetAgentId: input.toAgentId } : {}),
      contact: { customerId: interaction.customerId, enqueuedAt, score: contact?.score ?? enqueuedAt },
    });
    if (outcome !== 'ok') throw new AppError('conflict', byUserId === agentId ? 'You no longer hold this contact' : 'The agent no longer holds this contact', { interactionId, state: outcome });
    // "queued" again: for a call this also lets the connector re-bridge it to the next agent.
    await interactions.updateInteraction(interactionId, { status: 'queued', queue }, ['transferred']);
    log.info({ interactionId, agentId, ...target, ...(byUserId !== agentId ? { byUserId } : {}) }, 'contact transferred');
    const snapshot = await routing.emitAgent(agentId);
    await routing.emit({ type: 'queue_changed', queue });
    void routing.matcher.request([queue]);
    return snapshot;
  }

  /**
   * A supervisor moves a waiting contact to another queue. Like an overflow it keeps its original
   * enqueue time (the place it earned by waiting), takes the target's tier bonus, and counts as
   * overflowed from the old queue and offered in the new one.
   */
  async moveWaiting(interactionId: string, toQueue: string, byUserId: string): Promise<{ interactionId: string; from: string; to: string }> {
    const { store, queues, interactions, customers, routing, log } = this.deps;
    const targetSettings = queues.byName.get(toQueue);
    if (!targetSettings) throw AppError.validation([{ field: 'toQueue', message: `unknown queue ${toQueue}` }]);
    const contact = await store.contact(interactionId);
    const gone = () => new AppError('conflict', 'The contact is no longer waiting: an agent has it or the customer left', { interactionId });
    if (!contact || contact.state !== 'waiting') throw gone();
    if (contact.queue === toQueue) throw AppError.validation([{ field: 'toQueue', message: 'is the queue the contact already waits in' }]);
    const tier = await customers.getCustomer(contact.customerId).then((customer) => customer.tier, () => 'standard' as const);
    const score = priorityScore(contact.enqueuedAt, isTier(tier) ? tier : 'standard', targetSettings);
    // Counted (overflowed from, offered in) by the move itself.
    if (!(await store.move(interactionId, contact.queue, toQueue, score))) throw gone();
    await interactions.appendEntry(interactionId, { kind: 'system', direction: 'internal', authorId: byUserId, data: { event: 'moved', from: contact.queue, to: toQueue } });
    await interactions.updateInteraction(interactionId, { queue: toQueue }, ['moved']);
    log.info({ interactionId, from: contact.queue, to: toQueue, byUserId }, 'contact moved by a supervisor');
    await routing.emit({ type: 'queue_changed', queue: contact.queue });
    await routing.emit({ type: 'queue_changed', queue: toQueue });
    await this.scheduleOverflow(interactionId, toQueue, contact.enqueuedAt);
    void routing.matcher.request([toQueue]);
    return { interactionId, from: contact.queue, to: toQueue };
  }

  /** Schedules the max-wait check of a contact that just entered `queue` (none when it has no overflow). */
  async scheduleOverflow(interactionId: string, queue: string, enqueuedAtMs: number): Promise<void> {
    const settings = this.deps.queues.byName.get(queue);
    if (settings?.maxWaitSeconds === undefined || !settings.overflowQueue) return;
    await this.deps.timers.overflowCheck(interactionId, queue, enqueuedAtMs + settings.maxWaitSeconds * 1000 - Date.now());
  }

  /**
   * Moves a contact still waiting in `queue` to its overflow once it has waited longer than the
   * queue's max wait; a queue without an overflow keeps its contacts. Safe to call any time: the move
   * is one script that re-checks the contact still waits in `queue`.
   */
  async overflowIfDue(interactionId: string, queue: string): Promise<string | undefined> {
    const { store, queues, interactions, customers, routing, log } = this.deps;
    const contact = await store.contact(interactionId);
    if (!contact || contact.state !== 'waiting' || contact.queue !== queue) return undefined;
    const waitedMs = Date.now() - contact.enqueuedAt;
    const target = overflowTarget(queues, queue, waitedMs / 1000);
    if (!target) return undefined;
    const targetSettings = queues.byName.get(target)!;
    const tier = await customers.getCustomer(contact.customerId).then((customer) => customer.tier, () => 'standard' as const);
    // Ordered by its original enqueue time in the new queue, with that queue's tier bonus.
    const score = priorityScore(contact.enqueuedAt, isTier(tier) ? tier : 'standard', targetSettings);
    // Counted (overflowed from, offered in) by the move itself.
    if (!(await store.move(interactionId, queue, target, score))) return undefined;
    const waitedSeconds = Math.round(waitedMs / 1000);
    await interactions.appendEntry(interactionId, { kind: 'system', direction: 'internal', data: { event: 'overflowed', from: queue, to: target, waitedSeconds } });
    await interactions.updateInteraction(interactionId, { queue: target }, ['overflowed']);
    log.info({ interactionId, from: queue, to: target, waitedSeconds }, 'contact overflowed');
    await routing.emit({ type: 'queue_changed', queue });
    await routing.emit({ type: 'queue_changed', queue: target });
    // Only a check still ahead: one already due would have been followed by overflowTarget, or is a cycle.
    if (targetSettings.maxWaitSeconds !== undefined && targetSettings.maxWaitSeconds * 1000 > waitedMs) await this.scheduleOverflow(interactionId, target, contact.enqueuedAt);
    void routing.matcher.request([target]);
    return target;
  }
}

/**
 * The contract between routing (who gets which contact) and its two neighbours: the realtime
 * gateway, which carries agent actions in and routing events out, and the composition root, which
 * wires them. Routing never touches sockets; the gateway never decides anything.
 */
import type { Channel } from '../interactions';

export const agentStates = ['offline', 'available', 'away', 'busy', 'wrap_up'] as const;
export type AgentState = (typeof agentStates)[number];

/** States an agent (or a supervisor on their behalf) may ask for; busy and wrap_up are derived. */
export type RequestedAgentState = 'available' | 'away' | 'offline';

export const reservationStates = ['pending', 'accepted', 'rejected', 'timeout', 'canceled', 'rescinded'] as const;
export type ReservationState = (typeof reservationStates)[number];

export interface Reservation {
  id: string;
  interactionId: string;
  agentId: string;
  queue: string;
  channel: Channel;
  state: ReservationState;
  offeredAt: string;
  expiresAt: string;
  /** Set when another agent handed this contact over: who, and the note they left for the next agent. */
  transfer?: { fromAgentId: string; note: string };
}

/** Where an agent hands a contact they hold: one named agent, or the front of a queue. */
export type TransferTarget = { toAgentId: string; toQueue?: undefined } | { toQueue: string; toAgentId?: undefined };

/** A queue as the wallboard shows it: live figures plus today's counters (calendar day in `today.timeZone`). */
export interface QueueSnapshot {
  queue: string;
  waiting: number;
  longestWaitSeconds: number;
  agents: Record<AgentState, number>;
  offersInFlight: number;
  today: {
    day: string;
    timeZone: string;
    offered: number;
    answered: number;
    answeredWithinServiceLevel: number;
    abandoned: number;
    overflowed: number;
    serviceLevelSeconds: number;
    /** answered within threshold ÷ (answered + abandoned); null before the first answered or abandoned contact. */
    serviceLevel: number | null;
    /** Set when the figures come from the reports' day rollup (see docs/kpis.md): */
    shortAbandoned?: number;
    serviceLevelAnswered?: number | null;
    asaSeconds?: number | null;
    abandonmentRate?: number | null;
    longestWaitSeconds?: number | null;
  };
  at: string;
}

/** A contact waiting in a queue, as the wallboard lists it. */
export interface WaitingContact {
  interactionId: string;
  queue: string;
  channel: Channel;
  customerId: string;
  enqueuedAt: string;
  waitSeconds: number;
}

export interface AgentWorkItem {
  interactionId: string;
  channel: Channel;
  queue: string;
  /** `active` while handling, `wrap_up` after completion until the wrap-up time ends. */
  phase: 'active' | 'wrap_up';
  since: string;
}

/** What an agent's screen needs to rebuild itself after a reconnect. */
export interface AgentSnapshot {
  agentId: string;
  state: AgentState;
  stateReason?: string;
  stateSince: string;
  offers: Reservation[];
  work: AgentWorkItem[];
  /** Percent of capacity in use (a call 100, an SMS conversation 30, an email 20 by default). */
  load: number;
}

export type RoutingEvent =
  /** `customerId` lets the screen pop read the customer's history alongside the contact. */
  | { type: 'offer'; agentId: string; reservation: Reservation; customerId?: string }
  | { type: 'offer_ended'; agentId: string; reservation: Reservation }
  | { type: 'assigned'; agentId: string; reservation: Reservation }
  | { type: 'agent_state'; agentId: string; snapshot: AgentSnapshot }
  | { type: 'queue_changed'; queue: string };

/** Agent actions, as the gateway (sockets) and the REST API call them. Each checks ownership. */
export interface AgentDesk {
  setAgentState(agentId: string, state: RequestedAgentState, reason?: string): Promise<AgentSnapshot>;
  accept(agentId: string, reservationId: string): Promise<Reservation>;
  reject(agentId: string, reservationId: string): Promise<Reservation>;
  /** Ends the agent's handling of a contact and starts its wrap-up timer. */
  completeWork(agentId: string, interactionId: string, outcome: { disposition?: string; notes?: string }): Promise<AgentSnapshot>;
  /** Presence: a socket of this agent connected / disconnected (grace period before offline). */
  agentConnected(agentId: string, connectionId: string): Promise<AgentSnapshot>;
  agentDisconnected(agentId: string, connectionId: string): Promise<void>;
  snapshot(agentId: string): Promise<AgentSnapshot>;
  /**
   * Hands a contact the agent holds (active) to another agent or to the front of a queue, with a
   * note; frees the agent's capacity at once (no wrap-up). Optional so older desks still type-check.
   */
  transfer?(agentId: string, interactionId: string, input: TransferTarget & { note: string }): Promise<AgentSnapshot>;
  /** The wallboard figures of one queue (the gateway pushes them to supervisors). */
  queueSnapshot?(queue: string): Promise<QueueSnapshot>;
  /** True when the agent is handling the contact now (an active work item, not in wrap-up). */
  holds?(agentId: string, interactionId: string): Promise<boolean>;
}

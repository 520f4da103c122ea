import type { InteractionStatus } from '../../interactions';

/** Call progress in our words; the adapter maps Twilio's CallStatus strings to these. */
export const callProgresses = ['initiated', 'ringing', 'answered', 'completed', 'busy', 'no_answer', 'failed', 'canceled'] as const;
export type CallProgress = (typeof callProgresses)[number];

export interface CallState {
  status: InteractionStatus;
  direction: 'inbound' | 'outbound';
  /** An agent was bridged to the caller (connectCallToAgent, or the agent placed the call). */
  agentConnected: boolean;
  /** The caller went to voicemail or a callback offer: ending the call is expected, not abandonment. */
  afterHours: boolean;
  queuedAt?: Date;
  /** The call's end was already recorded. */
  ended: boolean;
}

export interface CallTransition {
  /** Absent when the event changes nothing (late, duplicate, or not a status change). */
  status?: InteractionStatus;
  answeredAt?: Date;
  endedAt?: Date;
  /** Seconds the caller waited in the queue before hanging up (abandoned calls only). */
  waitSeconds?: number;
}

// Statuses only move forward; the three final ones are equal, so a late event never flips them.
const rank: Record<InteractionStatus, number> = { open: 0, queued: 1, offered: 2, active: 3, wrap_up: 4, closed: 5, abandoned: 5, failed: 5 };
const ended = new Set<CallProgress>(['completed', 'busy', 'no_answer', 'failed', 'canceled']);

function target(state: CallState, progress: CallProgress): InteractionStatus | undefined {
  if (progress === 'initiated' || progress === 'ringing') return undefined;
  if (progress === 'answered') {
    // An inbound call is "in-progress" as soon as Twilio runs our TwiML: the caller is in the menu or
    // queue, not with an agent. Only an outbound call (agent already on it) is live when answered.
    return state.direction === 'outbound' || state.agentConnected ? 'active' : undefined;
  }
  if (state.direction === 'outbound') {
    // Twilio reports "completed" only for answered calls; the other endings mean nobody picked up.
    return progress === 'completed' ? 'closed' : 'failed';
  }
  if (state.agentConnected || state.status === 'active' || state.status === 'wrap_up') return 'closed';
  // A voicemail or callback request stays open after the call: it is work for an agent.
  if (state.afterHours) return progress === 'failed' ? 'failed' : undefined;
  return progress === 'failed' ? 'failed' : 'abandoned';
}

/**
 * Decides what a call progress event does to the interaction. Events arrive late, twice and out of
 * order, so the result only ever moves the status forward, a final status never changes, and the
 * end of a call is stamped once.
 */
export function nextCallState(state: CallState, event: { progress: CallProgress; at: Date }): CallTransition {
  if (rank[state.status] >= rank.closed) return {};
  const next = target(state, event.progress);
  const transition: CallTransition = {};
  if (next && rank[next] > rank[state.status]) {
    transition.status = next;
    if (next === 'active') transition.answeredAt = event.at;
    if (next === 'abandoned' && state.queuedAt) {
      transition.waitSeconds = Math.max(0, Math.round((event.at.getTime() - state.queuedAt.getTime()) / 1000));
    }
  }
  if (ended.has(event.progress) && !state.ended && (transition.status || state.afterHours)) transition.endedAt = event.at;
  return transition;
}

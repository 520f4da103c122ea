import type { SumField } from './kpis';

/**
 * A fact is one countable thing that happened (a contact offered, answered, abandoned, a handling
 * segment finished, a task resolved…), derived from the raw log alone. Its key makes counting it
 * idempotent: live listeners and the rebuild derive the same facts with the same keys from the
 * same records, so the live rollups and a rebuild cannot disagree.
 */
export const dimensions = ['queue', 'agent', 'department', 'task_type', 'channel'] as const;
export type Dimension = (typeof dimensions)[number];

export interface Target {
  dim: Dimension;
  key: string;
}

export interface FactPart {
  /** The instant that picks the bucket. */
  at: Date;
  targets: Target[];
  inc: Partial<Record<SumField, number>>;
  maxWaitMs?: number;
}

export interface Fact {
  /** `<kind>:<interactionId|taskId|agentId>[:<n>]`, unique per counted event. */
  key: string;
  parts: FactPart[];
}

/** The fact of one contact losing first-contact resolution, counted where its FCR fact was. */
export function repeatFact(fcr: Fact): Fact {
  const id = fcr.key.slice('fcr:'.length);
  return { key: `fcr-repeat:${id}`, parts: fcr.parts.map((part) => ({ at: part.at, targets: part.targets, inc: { fcrRepeats: 1 } })) };
}

/** Each target present once, in order; blank keys (unknown agent, no queue) dropped. */
export function targets(...candidates: Array<[Dimension, string | undefined]>): Target[] {
  const seen = new Set<string>();
  const result: Target[] = [];
  for (const [dim, key] of candidates) {
    if (!key || seen.has(`${dim}:${key}`)) continue;
    seen.add(`${dim}:${key}`);
    result.push({ dim, key });
  }
  return result;
}

/** States in which an agent is logged in and not away, and those of them spent on contacts. */
const readyStates = new Set(['available', 'busy', 'wrap_up']);
const onContactStates = new Set(['busy', 'wrap_up']);

/** The occupancy fact of one finished agent state, cut at quarter boundaries; none for offline or away. */
export function agentStateFact(segment: { agentId: string; state: string; from: Date; to: Date }, split: (from: Date, to: Date) => Array<{ quarter: Date; ms: number }>): Fact | undefined {
  if (!readyStates.has(segment.state) || segment.to <= segment.from) return undefined;
  const onContact = onContactStates.has(segment.state);
  return {
    key: `state:${segment.agentId}:${segment.from.getTime()}`,
    parts: split(segment.from, segment.to).map(({ quarter, ms }) => ({ at: quarter, targets: [{ dim: 'agent' as const, key: segment.agentId }], inc: { readyMs: ms, onContactMs: onContact ? ms : 0 } })),
  };
}

export interface CsatAnswer {
  interactionId: string;
  queue?: string;
  agentId?: string;
  channel: string;
  score: number;
  at: Date;
  /** Departments that received follow-up tasks from this interaction. */
  departmentIds: string[];
}

/** One CSAT answer, counted at the time it was given, for the queue, agent, channel and departments involved. */
export function csatFact(answer: CsatAnswer, satisfied: (score: number) => boolean): Fact {
  return {
    key: `csat:${answer.interactionId}`,
    parts: [
      {
        at: answer.at,
        targets: targets(['queue', answer.queue], ['agent', answer.agentId], ['channel', answer.channel], ...answer.departmentIds.map((id): [Dimension, string] => ['department', id])),
        inc: { csatAnswers: 1, csatPositive: satisfied(answer.score) ? 1 : 0, csatScoreSum: answer.score },
      },
    ],
  };
}

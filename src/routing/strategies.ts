/**
 * Routing strategies: given one waiting contact and the agents who may take it (already filtered
 * for queue, skills, state and capacity), each strategy only decides the ORDER in which to try
 * them. They are pure, so they are unit tested without Redis; the matcher then claims atomically.
 * Picked by name from the registry below (as in Rocket.Chat's routing methods).
 */

export interface Candidate {
  agentId: string;
  /** Percent of capacity in use, offers included. */
  load: number;
  /** Epoch ms since the agent has had nothing to do (became available or finished their last work). */
  idleSince: number;
  skills: Record<string, number>;
}

export interface ContactToRoute {
  interactionId: string;
  queue: string;
  /** Skill name → minimum level, from the queue. */
  requiredSkills: Record<string, number>;
  /** The agent who last served this customer, for `sticky`. */
  lastAgentId?: string;
  /** The agent the queue's last offer went to, for `round-robin`. */
  lastRoundRobinAgentId?: string;
}

export interface RoutingStrategy {
  readonly name: StrategyName;
  /** Candidates in the order they should be offered the contact; never adds anyone. */
  rank(contact: ContactToRoute, candidates: readonly Candidate[]): Candidate[];
  /** Whether rank() needs `lastAgentId` (saves a timeline read for every other strategy). */
  readonly needsLastAgent?: boolean;
}

export const strategyNames = ['longest-idle', 'least-occupied', 'round-robin', 'skills-best-match', 'sticky'] as const;
export type StrategyName = (typeof strategyNames)[number];

// Ties end on the agent id so the same input always gives the same order (tests, and two
// processes ranking alike so they contend less).
const byIdle = (left: Candidate, right: Candidate) => left.idleSince - right.idleSince || left.agentId.localeCompare(right.agentId);

export class LongestIdleStrategy implements RoutingStrategy {
  readonly name = 'longest-idle';
  rank(_contact: ContactToRoute, candidates: readonly Candidate[]): Candidate[] {
    return [...candidates].sort(byIdle);
  }
}

export class LeastOccupiedStrategy implements RoutingStrategy {
  readonly name = 'least-occupied';
  rank(_contact: ContactToRoute, candidates: readonly Candidate[]): Candidate[] {
    return [...candidates].sort((left, right) => left.load - right.load || byIdle(left, right));
  }
}

/** Takes turns in agent-id order, starting after the agent who got the queue's previous offer. */
export class RoundRobinStrategy implements RoutingStrategy {
  readonly name = 'round-robin';
  rank(contact: ContactToRoute, candidates: readonly Candidate[]): Candidate[] {
    const sorted = [...candidates].sort((left, right) => left.agentId.localeCompare(right.agentId));
    const last = contact.lastRoundRobinAgentId;
    if (!last) return sorted;
    const next = sorted.findIndex((candidate) => candidate.agentId.localeCompare(last) > 0);
    return next <= 0 ? sorted : [...sorted.slice(next), ...sorted.slice(0, next)];
  }
}

/** The agent with the highest levels in the queue's skills (summed), then the longest idle. */
export class SkillsBestMatchStrategy implements RoutingStrategy {
  readonly name = 'skills-best-match';
  rank(contact: ContactToRoute, candidates: readonly Candidate[]): Candidate[] {
    const required = Object.keys(contact.requiredSkills);
    const score = (candidate: Candidate) => required.reduce((sum, skill) => sum + (candidate.skills[skill] ?? 0), 0);
    return [...candidates].sort((left, right) => score(right) - score(left) || byIdle(left, right));
  }
}

/** The agent who last served the customer first, if they can take it now; then longest idle. */
export class StickyStrategy implements RoutingStrategy {
  readonly name = 'sticky';
  readonly needsLastAgent = true;
  private readonly fallback = new LongestIdleStrategy();
  rank(contact: ContactToRoute, candidates: readonly Candidate[]): Candidate[] {
    const ranked = this.fallback.rank(contact, candidates);
    const last = ranked.findIndex((candidate) => candidate.agentId === contact.lastAgentId);
    return last <= 0 ? ranked : [ranked[last], ...ranked.slice(0, last), ...ranked.slice(last + 1)];
  }
}

const registry: Record<StrategyName, RoutingStrategy> = {
  'longest-idle': new LongestIdleStrategy(),
  'least-occupied': new LeastOccupiedStrategy(),
  'round-robin': new RoundRobinStrategy(),
  'skills-best-match': new SkillsBestMatchStrategy(),
  sticky: new StickyStrategy(),
};

export function strategyFor(name: StrategyName): RoutingStrategy {
  return registry[name];
}

/** Whether an agent's skills meet every minimum level the queue asks for. */
export function hasRequiredSkills(agentSkills: Record<string, number>, required: Record<string, number>): boolean {
  return Object.entries(required).every(([skill, level]) => (agentSkills[skill] ?? 0) >= level);
}

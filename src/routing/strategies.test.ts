import { hasRequiredSkills, strategyFor, type Candidate, type ContactToRoute } from './strategies';

const contact = (extra: Partial<ContactToRoute> = {}): ContactToRoute => ({ interactionId: 'i1', queue: 'general', requiredSkills: {}, ...extra });
const agent = (agentId: string, extra: Partial<Candidate> = {}): Candidate => ({ agentId, load: 0, idleSince: 1_000, skills: {}, ...extra });
const ids = (candidates: Candidate[]) => candidates.map((candidate) => candidate.agentId);

describe('routing strategies', () => {
  it('when ranking by longest idle, then the agent idle since the earliest time comes first', () => {
    const ranked = strategyFor('longest-idle').rank(contact(), [agent('a', { idleSince: 3_000 }), agent('b', { idleSince: 1_000 }), agent('c', { idleSince: 2_000 })]);
    expect(ids(ranked)).toEqual(['b', 'c', 'a']);
  });

  it('when ranking by least occupied, then the lowest load comes first and idle time breaks ties', () => {
    const ranked = strategyFor('least-occupied').rank(contact(), [
      agent('a', { load: 60 }),
      agent('b', { load: 30, idleSince: 5_000 }),
      agent('c', { load: 30, idleSince: 2_000 }),
      agent('d', { load: 0, idleSince: 9_000 }),
    ]);
    expect(ids(ranked)).toEqual(['d', 'c', 'b', 'a']);
  });

  it('when ranking round robin, then the turn starts after the agent who got the previous offer and wraps around', () => {
    const candidates = [agent('c'), agent('a'), agent('d'), agent('b')];
    expect(ids(strategyFor('round-robin').rank(contact(), candidates))).toEqual(['a', 'b', 'c', 'd']);
    expect(ids(strategyFor('round-robin').rank(contact({ lastRoundRobinAgentId: 'b' }), candidates))).toEqual(['c', 'd', 'a', 'b']);
    expect(ids(strategyFor('round-robin').rank(contact({ lastRoundRobinAgentId: 'd' }), candidates))).toEqual(['a', 'b', 'c', 'd']);
    // The previous agent logged off: the turn still moves on from where they were.
    expect(ids(strategyFor('round-robin').rank(contact({ lastRoundRobinAgentId: 'bb' }), candidates))).toEqual(['c', 'd', 'a', 'b']);
  });

  it('when ranking by skills, then the highest level in the required skills wins and idle time breaks ties', () => {
    const ranked = strategyFor('skills-best-match').rank(contact({ requiredSkills: { warranty: 2 } }), [
      agent('a', { skills: { warranty: 2, sales: 9 }, idleSince: 1_000 }),
      agent('b', { skills: { warranty: 5 }, idleSince: 9_000 }),
      agent('c', { skills: { warranty: 2 }, idleSince: 500 }),
    ]);
    expect(ids(ranked)).toEqual(['b', 'c', 'a']);
  });

  it('when the last agent of the customer can take the contact, then sticky offers it to them first', () => {
    const candidates = [agent('a', { idleSince: 1_000 }), agent('b', { idleSince: 2_000 }), agent('c', { idleSince: 3_000 })];
    expect(ids(strategyFor('sticky').rank(contact({ lastAgentId: 'c' }), candidates))).toEqual(['c', 'a', 'b']);
  });

  it('when the last agent of the customer is not among the candidates, then sticky falls back to longest idle', () => {
    const candidates = [agent('a', { idleSince: 2_000 }), agent('b', { idleSince: 1_000 })];
    expect(ids(strategyFor('sticky').rank(contact({ lastAgentId: 'gone' }), candidates))).toEqual(['b', 'a']);
    expect(ids(strategyFor('sticky').rank(contact(), candidates))).toEqual(['b', 'a']);
  });

  it('when an agent lacks a skill level, then they do not qualify; with no required skills everyone does', () => {
    expect(hasRequiredSkills({ warranty: 1 }, { warranty: 2 })).toBe(false);
    expect(hasRequiredSkills({ warranty: 3, sales: 1 }, { warranty: 2 })).toBe(true);
    expect(hasRequiredSkills({}, { sales: 1 })).toBe(false);
    expect(hasRequiredSkills({}, {})).toBe(true);
  });
});

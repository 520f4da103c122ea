import type { Entry, Interaction } from '../interactions';
import type { Task, TaskHistoryEntry } from '../tasks';
import { accumulate, type BucketTotal } from './buckets';
import { contactFacts, type ContactRules } from './contact-facts';
import { agentStateFact, csatFact, repeatFact, type Fact } from './facts';
import { daysIn, formatLocal, hourStart, localDay, quartersIn, splitByQuarter, startOfLocalDay, nextDay } from './intervals';
import {
  abandonmentRate, addSums, averageHandleTime, averageSpeedOfAnswer, csatAverage, csatPercent, emptySums, figures, firstContactResolution,
  isSatisfied, longestWait, occupancy, reopenedRate, serviceLevel, serviceLevelAnswered, tasksWithinSla, timeToAccept, timeToResolve, type Sums,
} from './kpis';
import { taskFacts } from './task-facts';

const berlin = 'Europe/Berlin';
const rules: ContactRules = { thresholdSeconds: (queue) => ({ general: 20, sales: 30, sms: 120 })[queue], channelQueue: (channel) => ({ sms: 'sms', email: 'email' } as Record<string, string>)[channel], shortAbandonSeconds: 5 };

let entrySeq = 0;
const entry = (at: string, kind: Entry['kind'], data: Record<string, unknown>, authorId?: string): Entry => ({ id: `e${++entrySeq}`, kind, at, data, ...(authorId ? { authorId } : {}) });
const accepted = (at: string, agentId: string, queue = 'general', transfer = false) => entry(at, 'system', { event: 'accepted', agentId, queue, ...(transfer ? { transfer: true } : {}) }, agentId);
const completed = (at: string, agentId: string) => entry(at, 'system', { event: 'work_completed' }, agentId);
const wrapped = (at: string, agentId: string) => entry(at, 'system', { event: 'wrap_up_ended' }, agentId);
const transferred = (at: string, from: string, toAgentId: string) => entry(at, 'note', { transfer: { from, toAgentId } }, from);

function contact(id: string, input: { queuedAt: string; entries?: Entry[]; status?: Interaction['status']; endedAt?: string; queue?: string; channel?: Interaction['channel'] }): Interaction {
  return {
    id, customerId: `cust-${id}`, channel: input.channel ?? 'voice', direction: 'inbound', status: input.status ?? 'closed', queue: input.queue ?? 'general',
    externalIds: [], flags: [], createdAt: input.queuedAt, queuedAt: input.queuedAt, lastActivityAt: input.queuedAt, entryCount: 0,
    ...(input.endedAt ? { endedAt: input.endedAt } : {}), entries: input.entries ?? [],
  };
}

/** The sum of the stored buckets of one key: kind q whose start is in [from, to), or one local day. */
function total(buckets: Map<string, BucketTotal>, dim: string, key: string, select: { from: string; to: string } | { day: string }): Sums {
  let sums = emptySums();
  for (const bucket of buckets.values()) {
    if (bucket.dim !== dim || bucket.key !== key) continue;
    const inRange = 'day' in select
      ? bucket.kind === 'd' && bucket.id.endsWith(`:d:${select.day}`)
      : bucket.kind === 'q' && bucket.start >= new Date(select.from) && bucket.start < new Date(select.to);
    if (inRange) sums = addSums(sums, bucket.sums);
  }
  return sums;
}

const factsOf = (...interactions: Interaction[]): Fact[] => interactions.flatMap((interaction) => contactFacts(interaction, rules).facts);

describe('KPI functions on hand-computed sums', () => {
  it('when there were no contacts, then every count is 0 and every ratio, average and the longest wait are null', () => {
    const none = figures(emptySums());
    expect(none).toMatchObject({ offered: 0, answered: 0, handled: 0, serviceLevel: null, serviceLevelAnswered: null, asaSeconds: null, abandonmentRate: null, longestWaitSeconds: null, ahtSeconds: null, occupancy: null, fcr: null, tasksWithinSla: null, timeToAcceptSeconds: null, timeToResolveSeconds: null, reopenedRate: null, csatPercent: null, csatAverage: null });
    expect(Object.values(none).some((value) => typeof value === 'number' && Number.isNaN(value))).toBe(false);
  });

  it('when 3 of 4 answered were within T and 1 caller abandoned, then SL is 3 ÷ 5 and SL-answered 3 ÷ 4', () => {
    const sums = { ...emptySums(), offered: 6, answered: 4, answeredInThreshold: 3, abandoned: 1, shortAbandoned: 1, waitAnsweredMs: 50_000 };
    expect(serviceLevel(sums)).toBe(0.6);
    expect(serviceLevelAnswered(sums)).toBe(0.75);
    expect(averageSpeedOfAnswer(sums)).toBe(12.5);
    expect(abandonmentRate(sums)).toBe(0.1667);
  });

  it('when every caller abandoned, then SL is 0, SL-answered and ASA are null, and abandonment counts only the long abandons', () => {
    const sums = { ...emptySums(), offered: 3, abandoned: 2, shortAbandoned: 1, waitAbandonedMs: 90_000, maxWaitMs: 60_000 };
    expect(serviceLevel(sums)).toBe(0);
    expect(serviceLevelAnswered(sums)).toBeNull();
    expect(averageSpeedOfAnswer(sums)).toBeNull();
    expect(abandonmentRate(sums)).toBe(0.6667);
    expect(longestWait(sums)).toBe(60);
  });

  it('when handle, state, task and CSAT sums are given, then AHT, occupancy, FCR, turnaround and CSAT follow their definitions', () => {
    expect(averageHandleTime({ talkMs: 600_000, holdMs: 60_000, wrapMs: 90_000, handled: 3 })).toBe(250);
    expect(occupancy({ onContactMs: 40 * 60_000, readyMs: 50 * 60_000 })).toBe(0.8);
    expect(firstContactResolution({ fcrContacts: 3, fcrRepeats: 1 })).toBe(0.6667);
    expect(timeToAccept({ acceptMs: 1_800_000, tasksAccepted: 1 })).toBe(1800);
    expect(timeToResolve({ resolveMs: 11_700_000, tasksResolved: 2 })).toBe(5850);
    expect(tasksWithinSla({ resolvedInSla: 1, tasksResolved: 2 })).toBe(0.5);
    expect(reopenedRate({ tasksReopened: 1, tasksResolved: 2 })).toBe(0.5);
    const csat = [5, 4, 2, 1].reduce((sums, score) => addSums(sums, { csatAnswers: 1, csatPositive: isSatisfied(score) ? 1 : 0, csatScoreSum: score }), emptySums());
    expect(csatPercent(csat)).toBe(0.5);
    expect(csatAverage(csat)).toBe(3);
  });

  it('when buckets are added, then counts add and the longest wait is the larger one, never a sum', () => {
    const merged = addSums(addSums(emptySums(), { answered: 1, maxWaitMs: 45_000 }), { answered: 2, maxWaitMs: 10_000 });
    expect(merged).toMatchObject({ answered: 3, maxWaitMs: 45_000 });
  });
});

describe('a scripted morning in the general queue (T = 20 s, short abandon 5 s), bucketed in Europe/Berlin', () => {
  // 2026-11-27, CET (+01:00): the 08:00Z quarter is 09:00 local.
  const c1 = contact('c1', { queuedAt: '2026-11-27T08:00:00.000Z', entries: [accepted('2026-11-27T08:00:10.000Z', 'A'), completed('2026-11-27T08:03:10.000Z', 'A'), wrapped('2026-11-27T08:03:40.000Z', 'A')] });
  const c2 = contact('c2', {
    queuedAt: '2026-11-27T08:05:00.000Z',
    entries: [accepted('2026-11-27T08:05:30.000Z', 'B'), transferred('2026-11-27T08:06:30.000Z', 'B', 'A'), accepted('2026-11-27T08:06:40.000Z', 'A', 'general', true), completed('2026-11-27T08:10:40.000Z', 'A'), wrapped('2026-11-27T08:11:00.000Z', 'A')],
  });
  const c3 = contact('c3', { queuedAt: '2026-11-27T08:12:00.000Z', status: 'abandoned', endedAt: '2026-11-27T08:12:03.000Z' });
  // Both arrive just before 08:15Z and end after it: they belong to the quarter they arrived in.
  const c4 = contact('c4', { queuedAt: '2026-11-27T08:14:50.000Z', status: 'abandoned', endedAt: '2026-11-27T08:15:35.000Z' });
  const c5 = contact('c5', { queuedAt: '2026-11-27T08:14:55.000Z', entries: [accepted('2026-11-27T08:15:05.000Z', 'A'), completed('2026-11-27T08:20:05.000Z', 'A'), wrapped('2026-11-27T08:20:35.000Z', 'A')] });
  const derived = [c1, c2, c3, c4, c5].map((interaction) => contactFacts(interaction, rules));
  // c2's customer called back within N days: c2 was not resolved at first contact.
  const facts = [...derived.flatMap((item) => item.facts), repeatFact(derived[1].fcr!)];
  const buckets = accumulate(facts, berlin);

  it('when contacts span the 08:15 boundary, then their queue figures stay in the quarter they arrived in', () => {
    const first = figures(total(buckets, 'queue', 'general', { from: '2026-11-27T08:00:00Z', to: '2026-11-27T08:15:00Z' }));
    expect(first).toMatchObject({ offered: 5, answered: 3, answeredWithinThreshold: 2, abandoned: 1, shortAbandoned: 1, serviceLevel: 0.5, serviceLevelAnswered: 0.6667, asaSeconds: 16.7, abandonmentRate: 0.2, longestWaitSeconds: 45 });
    const second = figures(total(buckets, 'queue', 'general', { from: '2026-11-27T08:15:00Z', to: '2026-11-27T08:30:00Z' }));
    expect(second).toMatchObject({ offered: 0, answered: 0, serviceLevel: null, asaSeconds: null, abandonmentRate: null, longestWaitSeconds: null });
  });

  it('when handling ends in a later quarter, then handled, talk and wrap-up count in the quarter it ended', () => {
    const first = figures(total(buckets, 'queue', 'general', { from: '2026-11-27T08:00:00Z', to: '2026-11-27T08:15:00Z' }));
    expect(first).toMatchObject({ handled: 3, transferred: 1, talkSeconds: 480, wrapSeconds: 50, ahtSeconds: 176.7 });
    const second = figures(total(buckets, 'queue', 'general', { from: '2026-11-27T08:15:00Z', to: '2026-11-27T08:30:00Z' }));
    expect(second).toMatchObject({ handled: 1, ahtSeconds: 330 });
    const hour = figures(total(buckets, 'queue', 'general', { from: '2026-11-27T08:00:00Z', to: '2026-11-27T09:00:00Z' }));
    expect(hour).toMatchObject({ offered: 5, handled: 4, ahtSeconds: 215, fcrContacts: 3, fcr: 0.6667 });
  });

  it('when the day bucket is read, then it equals the sum of its quarters', () => {
    const day = total(buckets, 'queue', 'general', { day: '2026-11-27' });
    expect(day).toEqual(total(buckets, 'queue', 'general', { from: '2026-11-26T23:00:00Z', to: '2026-11-27T23:00:00Z' }));
  });

  it('when agents are compared, then each is credited with their own answers and handling segments (a transfer counts for the one who handed over)', () => {
    expect(figures(total(buckets, 'agent', 'A', { day: '2026-11-27' }))).toMatchObject({ answered: 2, handled: 3, transferred: 0, talkSeconds: 720, wrapSeconds: 80, ahtSeconds: 266.7, fcrContacts: 3, fcr: 0.6667 });
    expect(figures(total(buckets, 'agent', 'B', { day: '2026-11-27' }))).toMatchObject({ answered: 1, handled: 1, transferred: 1, talkSeconds: 60, ahtSeconds: 60, fcrContacts: 0, fcr: null });
    expect(figures(total(buckets, 'channel', 'voice', { day: '2026-11-27' }))).toMatchObject({ offered: 5, answered: 3, serviceLevel: 0.5 });
  });

  it('when a contact overflows, then it is offered in both queues, overflowed in the first, and answered where it was taken', () => {
    const moved = contact('c6', {
      queuedAt: '2026-11-27T08:00:00.000Z', queue: 'general',
      entries: [entry('2026-11-27T08:03:00.000Z', 'system', { event: 'overflowed', from: 'sales', to: 'general' }), accepted('2026-11-27T08:03:25.000Z', 'A')],
    });
    const overflow = accumulate(factsOf(moved), berlin);
    expect(figures(total(overflow, 'queue', 'sales', { day: '2026-11-27' }))).toMatchObject({ offered: 1, overflowed: 1, answered: 0, serviceLevel: null });
    // Waited 205 s from its first arrival: outside general's 20 s.
    expect(figures(total(overflow, 'queue', 'general', { day: '2026-11-27' }))).toMatchObject({ offered: 1, answered: 1, answeredWithinThreshold: 0, asaSeconds: 205 });
    expect(figures(total(overflow, 'channel', 'voice', { day: '2026-11-27' }))).toMatchObject({ offered: 1, overflowed: 0 });
  });

  it('when a contact is still being handled, then it is answered but not yet handled nor in FCR', () => {
    const busy = contactFacts(contact('c7', { queuedAt: '2026-11-27T08:00:00.000Z', status: 'active', entries: [accepted('2026-11-27T08:00:05.000Z', 'A'), completed('2026-11-27T08:04:00.000Z', 'A')] }), rules);
    expect(busy.facts.map((fact) => fact.key)).toEqual(['offered:c7', 'answered:c7']);
    expect(busy.fcr).toBeUndefined();
  });

  it('when a text conversation arrives, then it is offered in its channel\'s queue from its creation, as routing queues it', () => {
    const { queuedAt: _none, queue: _noQueue, ...text } = contact('s1', { queuedAt: '2026-11-27T08:00:00.000Z', channel: 'sms', entries: [accepted('2026-11-27T08:00:30.000Z', 'B', 'sms')] });
    const buckets = accumulate(factsOf(text), berlin);
    expect(figures(total(buckets, 'queue', 'sms', { day: '2026-11-27' }))).toMatchObject({ offered: 1, answered: 1, answeredWithinThreshold: 1, asaSeconds: 30 });
    expect(contactFacts({ ...text, channel: 'manual' }, rules).facts).toEqual([]);
  });

  it('when an outbound call or a contact never queued is given, then nothing is counted', () => {
    expect(contactFacts({ ...c1, direction: 'outbound' }, rules).facts).toEqual([]);
    const { queuedAt: _never, ...unqueued } = c1;
    expect(contactFacts(unqueued, rules).facts).toEqual([]);
  });
});

describe('agent states, tasks and CSAT', () => {
  it('when an agent is available, busy, in wrap-up and away across quarters, then occupancy is cut at each quarter boundary', () => {
    const states = [
      { agentId: 'A', state: 'available', from: new Date('2026-11-27T08:00:00Z'), to: new Date('2026-11-27T08:10:00Z') },
      { agentId: 'A', state: 'busy', from: new Date('2026-11-27T08:10:00Z'), to: new Date('2026-11-27T08:40:00Z') },
      { agentId: 'A', state: 'wrap_up', from: new Date('2026-11-27T08:40:00Z'), to: new Date('2026-11-27T08:50:00Z') },
      { agentId: 'A', state: 'away', from: new Date('2026-11-27T08:50:00Z'), to: new Date('2026-11-27T09:00:00Z') },
    ];
    const facts = states.flatMap((segment) => agentStateFact(segment, splitByQuarter) ?? []);
    expect(facts).toHaveLength(3);
    const buckets = accumulate(facts, berlin);
    const quarter = (from: string, to: string) => occupancy(total(buckets, 'agent', 'A', { from, to }));
    expect(quarter('2026-11-27T08:00:00Z', '2026-11-27T08:15:00Z')).toBe(0.3333);
    expect(quarter('2026-11-27T08:15:00Z', '2026-11-27T08:30:00Z')).toBe(1);
    expect(quarter('2026-11-27T08:45:00Z', '2026-11-27T09:00:00Z')).toBe(1);
    expect(quarter('2026-11-27T08:00:00Z', '2026-11-27T09:00:00Z')).toBe(0.8);
  });

  const actor = { kind: 'user' as const, id: 'u1', name: 'Staff' };
  const history = (...items: Array<[string, TaskHistoryEntry['action'], Partial<TaskHistoryEntry>?]>): TaskHistoryEntry[] =>
    items.map(([at, action, rest], index) => ({ id: `h${index}`, at, action, actor, ...rest }));
  const task = (id: string, departmentId: string, createdAt: string, entries: TaskHistoryEntry[]): Task => ({
    id, reference: `T-${id}`, departmentId, typeCode: 'repair', title: 't', description: '', fields: {}, checklist: [], priority: 'normal', status: 'open',
    createdBy: { kind: 'user', id: 'agent1', name: 'Agent' }, customerId: 'c', watcherIds: [], slaMinutes: 60, dueAt: createdAt, reopenCount: 0, attachments: [], version: 1,
    createdAt, updatedAt: createdAt, history: [{ id: 'h-created', at: createdAt, action: 'created', actor, toStatus: 'open' }, ...entries],
  });

  it('when tasks are accepted, breached, resolved and reopened, then turnaround follows the first acceptance and first resolution', () => {
    const late = task('t1', 'parts', '2026-11-27T08:00:00.000Z', history(['2026-11-27T08:30:00.000Z', 'accepted', { toStatus: 'accepted' }], ['2026-11-27T10:00:00.000Z', 'sla_breached'], ['2026-11-27T10:30:00.000Z', 'resolved', { toStatus: 'resolved' }]));
    const quick = task('t2', 'parts', '2026-11-27T09:00:00.000Z', history(['2026-11-27T09:45:00.000Z', 'resolved', { toStatus: 'resolved' }], ['2026-11-27T11:00:00.000Z', 'reopened', { toStatus: 'reopened' }], ['2026-11-27T11:30:00.000Z', 'resolved', { toStatus: 'resolved' }]));
    const buckets = accumulate([...taskFacts(late), ...taskFacts(quick)], berlin);
    expect(figures(total(buckets, 'department', 'parts', { day: '2026-11-27' }))).toMatchObject({
      tasksCreated: 2, tasksAccepted: 1, timeToAcceptSeconds: 1800, tasksResolved: 2, tasksResolvedWithinSla: 1, tasksWithinSla: 0.5, timeToResolveSeconds: 5850, tasksReopened: 1, reopenedRate: 0.5, tasksBreached: 1,
    });
    expect(figures(total(buckets, 'task_type', 'parts/repair', { day: '2026-11-27' }))).toMatchObject({ tasksCreated: 2, tasksResolved: 2 });
    expect(figures(total(buckets, 'agent', 'agent1', { day: '2026-11-27' }))).toMatchObject({ tasksFiled: 2 });
    expect(figures(total(buckets, 'agent', 'u1', { day: '2026-11-27' }))).toMatchObject({ tasksResolved: 2, tasksResolvedWithinSla: 1, tasksWithinSla: 0.5 });
  });

  it('when a task is forwarded, then what happened before counts for the first department and the rest for the second', () => {
    const moved = task('t3', 'service', '2026-11-27T08:00:00.000Z', history(['2026-11-27T08:20:00.000Z', 'forwarded', { toStatus: 'open', data: { fromDepartmentId: 'parts', toDepartmentId: 'service' } }], ['2026-11-27T08:40:00.000Z', 'accepted', { toStatus: 'accepted' }]));
    const buckets = accumulate(taskFacts(moved), berlin);
    expect(total(buckets, 'department', 'parts', { day: '2026-11-27' })).toMatchObject({ tasksCreated: 1, tasksAccepted: 0 });
    expect(total(buckets, 'department', 'service', { day: '2026-11-27' })).toMatchObject({ tasksCreated: 0, tasksAccepted: 1, acceptMs: 40 * 60_000 });
  });

  it('when CSAT answers 5, 4, 2 and 1 arrive, then CSAT is 50 % satisfied with an average of 3', () => {
    const answers = [5, 4, 2, 1].map((score, index) => csatFact({ interactionId: `i${index}`, queue: 'general', agentId: 'A', channel: 'voice', score, at: new Date('2026-11-27T10:00:00Z'), departmentIds: index === 0 ? ['parts'] : [] }, isSatisfied));
    const buckets = accumulate(answers, berlin);
    expect(figures(total(buckets, 'queue', 'general', { day: '2026-11-27' }))).toMatchObject({ csatAnswers: 4, csatPercent: 0.5, csatAverage: 3 });
    expect(figures(total(buckets, 'department', 'parts', { day: '2026-11-27' }))).toMatchObject({ csatAnswers: 1, csatPercent: 1, csatAverage: 5 });
  });
});

describe('interval bucketing on DST days in Europe/Berlin', () => {
  it('when clocks spring forward on 2026-03-29, then the day has 92 quarters and 01:50 and 03:10 local fall in different local hours of the same day', () => {
    const start = startOfLocalDay('2026-03-29', berlin);
    const end = startOfLocalDay(nextDay('2026-03-29'), berlin);
    expect(start.toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(quartersIn(start, end)).toHaveLength(92);
    const before = contact('d1', { queuedAt: '2026-03-29T00:50:00.000Z', entries: [accepted('2026-03-29T00:50:10.000Z', 'A')] });
    const after = contact('d2', { queuedAt: '2026-03-29T01:10:00.000Z', entries: [accepted('2026-03-29T01:10:30.000Z', 'A')] });
    const buckets = accumulate(factsOf(before, after), berlin);
    expect(figures(total(buckets, 'queue', 'general', { day: '2026-03-29' }))).toMatchObject({ offered: 2, answered: 2, answeredWithinThreshold: 1, serviceLevel: 0.5 });
    expect(formatLocal(hourStart(new Date('2026-03-29T00:45:00Z'), berlin), berlin)).toBe('2026-03-29T01:00:00+01:00');
    expect(formatLocal(hourStart(new Date('2026-03-29T01:00:00Z'), berlin), berlin)).toBe('2026-03-29T03:00:00+02:00');
  });

  it('when clocks fall back on 2026-10-25, then the day has 100 quarters and the two local 02:30s are two different hours', () => {
    const start = startOfLocalDay('2026-10-25', berlin);
    const end = startOfLocalDay(nextDay('2026-10-25'), berlin);
    expect(quartersIn(start, end)).toHaveLength(100);
    expect(localDay(new Date('2026-10-25T00:30:00Z'), berlin)).toBe('2026-10-25');
    const first = hourStart(new Date('2026-10-25T00:30:00Z'), berlin);
    const second = hourStart(new Date('2026-10-25T01:30:00Z'), berlin);
    expect([formatLocal(first, berlin), formatLocal(second, berlin)]).toEqual(['2026-10-25T02:00:00+02:00', '2026-10-25T02:00:00+01:00']);
    const buckets = accumulate(factsOf(contact('e1', { queuedAt: '2026-10-25T00:30:00.000Z', status: 'abandoned', endedAt: '2026-10-25T00:31:00.000Z' }), contact('e2', { queuedAt: '2026-10-25T01:30:00.000Z', status: 'abandoned', endedAt: '2026-10-25T01:30:02.000Z' })), berlin);
    expect(figures(total(buckets, 'queue', 'general', { day: '2026-10-25' }))).toMatchObject({ offered: 2, abandoned: 1, shortAbandoned: 1, abandonmentRate: 0.5, serviceLevel: 0, longestWaitSeconds: 60 });
    expect(total(buckets, 'queue', 'general', { from: first.toISOString(), to: new Date(first.getTime() + 3_600_000).toISOString() }).abandoned).toBe(1);
    expect(total(buckets, 'queue', 'general', { from: second.toISOString(), to: new Date(second.getTime() + 3_600_000).toISOString() }).shortAbandoned).toBe(1);
  });

  it('when a report range is given in local days, then the days are those whose local midnight lies in it', () => {
    expect(daysIn(startOfLocalDay('2026-10-24', berlin), startOfLocalDay('2026-10-26', berlin), berlin)).toEqual(['2026-10-24', '2026-10-25']);
    expect(daysIn(new Date('2026-10-24T12:00:00Z'), startOfLocalDay('2026-10-26', berlin), berlin)).toEqual(['2026-10-25']);
  });
});

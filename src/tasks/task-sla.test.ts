import type { BusinessHours } from './department.model';
import type { Task } from './task.contracts';
import { breachChange, dueSlaTimers, escalated, escalationChange, escalationTime, slaJobId, slaTimes, warnChange } from './task-sla';

const nineToSix = [{ start: '09:00', end: '18:00' }];
const officeWeek: BusinessHours = { weekly: { mon: nineToSix, tue: nineToSix, wed: nineToSix, thu: nineToSix, fri: nineToSix }, holidays: [] };
const zone = 'Asia/Shanghai';
const at = (iso: string) => new Date(iso);

function task(overrides: Partial<Task> = {}): Task {
  const createdAt = '2026-03-09T09:00:00.000+08:00';
  return {
    id: 't1', reference: 'T-000001', departmentId: 'd1', typeCode: 'parts', title: 'Part', description: '', fields: {}, checklist: [],
    priority: 'normal', status: 'open', createdBy: { kind: 'user', id: 'agent1', name: 'Agent' }, customerId: 'c1', watcherIds: [],
    slaMinutes: 480, dueAt: at('2026-03-09T17:00:00+08:00').toISOString(), reopenCount: 0, attachments: [], version: 1,
    createdAt: at(createdAt).toISOString(), updatedAt: at(createdAt).toISOString(),
    history: [{ id: 'h1', at: at(createdAt).toISOString(), action: 'created', actor: { kind: 'user', id: 'agent1', name: 'Agent' } }],
    ...overrides,
  };
}

describe('slaTimes', () => {
  it('when 75 % of an 8-hour SLA filed Monday 09:00 has passed, then the warning falls at 15:00 and the breach at the due time', () => {
    const times = slaTimes(task(), 0.75, officeWeek, zone);
    expect(times?.warnAt.toISOString()).toBe(at('2026-03-09T15:00:00+08:00').toISOString());
    expect(times?.dueAt.toISOString()).toBe(at('2026-03-09T17:00:00+08:00').toISOString());
  });

  it('when the task was reopened, then the warning counts from the reopening, over the night', () => {
    const reopened = task({
      status: 'reopened',
      dueAt: at('2026-03-10T16:00:00+08:00').toISOString(),
      history: [...task().history!, { id: 'h2', at: at('2026-03-09T17:00:00+08:00').toISOString(), action: 'reopened', actor: { kind: 'customer', id: 'c1', name: 'Customer' } }],
    });
    // 6 business hours from Monday 17:00: 1 h on Monday, 5 h on Tuesday → Tuesday 14:00.
    expect(slaTimes(reopened, 0.75, officeWeek, zone)?.warnAt.toISOString()).toBe(at('2026-03-10T14:00:00+08:00').toISOString());
  });

  it('when the task is resolved, then no timer runs', () => {
    expect(slaTimes(task({ status: 'resolved' }), 0.75, officeWeek, zone)).toBeNull();
  });

  it('when job ids are made for two due times, then they differ and contain no colon', () => {
    const first = slaJobId('warn', 't1', '2026-03-09T09:00:00.000Z');
    expect(first).not.toContain(':');
    expect(first).not.toBe(slaJobId('warn', 't1', '2026-03-10T09:00:00.000Z'));
  });
});

describe('warnChange and breachChange', () => {
  const now = at('2026-03-09T15:00:00+08:00');

  it('when the warning was already given, or the due time moved, then nothing is recorded', () => {
    const t = task();
    expect(warnChange(t, t.dueAt, now)?.action).toBe('sla_warned');
    expect(warnChange(task({ warnedAt: now.toISOString() }), t.dueAt, now)).toBeNull();
    expect(warnChange(t, '2026-03-08T00:00:00.000Z', now)).toBeNull();
    expect(warnChange(task({ status: 'resolved' }), t.dueAt, now)).toBeNull();
  });

  it('when the breach escalates, then priority rises one step, breachedAt is set and the head is named', () => {
    const t = task({ priority: 'high' });
    const change = breachChange(t, t.dueAt, now, true, { headUserId: 'head1', headName: 'Wang Li' });
    expect(change).toMatchObject({ action: 'sla_breached', set: { breachedAt: now, priority: 'urgent' }, data: { escalatedTo: 'head1' } });
    expect(change?.comment).toContain('Wang Li');
    expect(breachChange(task({ breachedAt: now.toISOString() }), t.dueAt, now, true, {})).toBeNull();
  });

  it('when the breach is quiet, then it is recorded as priority_raised, and the later escalation is recorded once', () => {
    const t = task();
    const quiet = breachChange(t, t.dueAt, now, false, { headUserId: 'head1' });
    expect(quiet).toMatchObject({ action: 'priority_raised', set: { priority: 'high' } });
    const breached = task({ breachedAt: now.toISOString(), priority: 'high' });
    expect(escalationChange(breached, t.dueAt, { headUserId: 'head1' })).toMatchObject({ action: 'sla_breached', data: { escalatedTo: 'head1' } });
    const done = task({ breachedAt: now.toISOString(), history: [...t.history!, { id: 'h3', at: now.toISOString(), action: 'sla_breached', actor: { kind: 'system', id: 'system', name: 'System' }, data: { dueAt: t.dueAt } }] });
    expect(escalated(done, t.dueAt)).toBe(true);
    expect(escalated(breached, t.dueAt)).toBe(false);
  });
});

describe('escalationTime (quiet hours)', () => {
  const fridayNight = at('2026-03-06T22:00:00+08:00');

  it('when a normal task breaches on Friday night, then the escalation waits for Monday 09:00', () => {
    expect(escalationTime({ priority: 'normal' }, fridayNight, officeWeek, zone).toISOString()).toBe(at('2026-03-09T09:00:00+08:00').toISOString());
  });

  it('when an urgent task breaches on Friday night, then it escalates at once', () => {
    expect(escalationTime({ priority: 'urgent' }, fridayNight, officeWeek, zone)).toEqual(fridayNight);
  });

  it('when a task breaches during business hours, then it escalates at once', () => {
    const monday = at('2026-03-09T11:00:00+08:00');
    expect(escalationTime({ priority: 'low' }, monday, officeWeek, zone)).toEqual(monday);
  });
});

describe('dueSlaTimers (what the reconciler re-creates after Redis lost the jobs)', () => {
  const steps = (timers: ReturnType<typeof dueSlaTimers>) => timers.map((timer) => `${timer.step}@${timer.at.toISOString()}`);
  const warnAt = at('2026-03-09T15:00:00+08:00').toISOString();
  const dueAt = at('2026-03-09T17:00:00+08:00').toISOString();

  it('when an open task has neither warning nor breach recorded, then it needs both, at their instants, for its due time', () => {
    const timers = dueSlaTimers(task(), 0.75, officeWeek, zone, at('2026-03-09T10:00:00+08:00'));
    expect(steps(timers)).toEqual([`warn@${warnAt}`, `breach@${dueAt}`]);
    expect(timers.every((timer) => timer.dueAt === task().dueAt)).toBe(true);
  });

  it('when the warning is already recorded, then only the breach is re-created', () => {
    expect(steps(dueSlaTimers(task({ warnedAt: warnAt }), 0.75, officeWeek, zone, at('2026-03-09T16:00:00+08:00')))).toEqual([`breach@${dueAt}`]);
  });

  it('when both steps fell while Redis was down, then both come back with their past instants (their jobs run at once)', () => {
    const now = at('2026-03-09T17:30:00+08:00');
    const timers = dueSlaTimers(task(), 0.75, officeWeek, zone, now);
    expect(timers.map((timer) => timer.step)).toEqual(['warn', 'breach']);
    expect(timers.every((timer) => timer.at.getTime() < now.getTime())).toBe(true);
  });

  it('when the breach was recorded quietly at night and the head not told yet, then the escalation falls at the next opening', () => {
    const breached = task({ breachedAt: at('2026-03-09T17:00:00+08:00').toISOString(), priority: 'high' });
    expect(steps(dueSlaTimers(breached, 0.75, officeWeek, zone, at('2026-03-09T23:00:00+08:00')))).toEqual([`escalate@${at('2026-03-10T09:00:00+08:00').toISOString()}`]);
  });

  it('when the head was already told of the breach, or the task is no longer active, then nothing is due', () => {
    const breachedAt = at('2026-03-09T17:00:00+08:00').toISOString();
    const told = task({
      breachedAt,
      history: [...task().history!, { id: 'h2', at: breachedAt, action: 'sla_breached', actor: { kind: 'system', id: 'system', name: 'Switchboard' }, data: { dueAt: task().dueAt } }],
    });
    expect(dueSlaTimers(told, 0.75, officeWeek, zone, at('2026-03-10T10:00:00+08:00'))).toEqual([]);
    expect(dueSlaTimers(task({ status: 'resolved' }), 0.75, officeWeek, zone, at('2026-03-09T10:00:00+08:00'))).toEqual([]);
  });
});

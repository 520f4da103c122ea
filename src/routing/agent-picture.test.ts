import { displayedState } from './agent-picture';
import type { WorkRecord } from './routing.store';

const item = (phase: WorkRecord['phase']): WorkRecord => ({ interactionId: `i-${phase}`, channel: 'sms', queue: 'sms', phase, since: '2026-11-27T09:00:00.000Z', reservationId: 'r', weight: 30 });

describe('displayedState', () => {
  it('when an agent is away or offline, then that is what shows, whatever they hold', () => {
    expect(displayedState({ state: 'away', load: 30, work: [item('active')] })).toBe('away');
    expect(displayedState({ state: 'offline', load: 0, work: [] })).toBe('offline');
  });

  it('when an available agent holds an active contact, then busy, even with another in wrap-up', () => {
    expect(displayedState({ state: 'available', load: 60, work: [item('wrap_up'), item('active')] })).toBe('busy');
  });

  it('when an available agent only wraps up, then wrap_up', () => {
    expect(displayedState({ state: 'available', load: 30, work: [item('wrap_up')] })).toBe('wrap_up');
  });

  it('when an available agent holds nothing but offers filling their capacity, then busy; with room left, available', () => {
    expect(displayedState({ state: 'available', load: 100, work: [] })).toBe('busy');
    expect(displayedState({ state: 'available', load: 90, work: [] })).toBe('available');
  });
});

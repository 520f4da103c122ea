import { nextCallState, type CallProgress, type CallState } from './call-status';

const at = new Date('2026-03-02T02:10:00Z');
const queuedAt = new Date('2026-03-02T02:08:30Z');
const inboundQueued: CallState = { status: 'queued', direction: 'inbound', agentConnected: false, afterHours: false, queuedAt, ended: false };
const outboundOpen: CallState = { status: 'open', direction: 'outbound', agentConnected: true, afterHours: false, ended: false };

/** Folds a sequence of events through the machine, as the service does. */
function replay(start: CallState, progresses: CallProgress[]): CallState {
  return progresses.reduce((state, progress, index) => {
    const transition = nextCallState(state, { progress, at: new Date(at.getTime() + index * 1000) });
    return { ...state, status: transition.status ?? state.status, ended: state.ended || Boolean(transition.endedAt) };
  }, start);
}

describe('the call status machine', () => {
  it('when a queued caller hangs up before any agent, then the call is abandoned with the wait in seconds', () => {
    expect(nextCallState(inboundQueued, { progress: 'completed', at })).toEqual({ status: 'abandoned', endedAt: at, waitSeconds: 90 });
  });

  it('when an inbound call is reported in-progress, then it stays queued: the caller is with our TwiML, not an agent', () => {
    expect(nextCallState(inboundQueued, { progress: 'answered', at })).toEqual({});
  });

  it('when a connected inbound call completes, then it is closed, not abandoned', () => {
    expect(nextCallState({ ...inboundQueued, status: 'active', agentConnected: true }, { progress: 'completed', at })).toEqual({ status: 'closed', endedAt: at });
  });

  it('when an outbound call is answered, then it becomes active with answeredAt', () => {
    expect(nextCallState(outboundOpen, { progress: 'answered', at })).toEqual({ status: 'active', answeredAt: at });
  });

  it.each<[CallProgress]>([['busy'], ['no_answer'], ['failed'], ['canceled']])('when an outbound call ends %s, then it failed', (progress) => {
    expect(nextCallState(outboundOpen, { progress, at })).toEqual({ status: 'failed', endedAt: at });
  });

  it('when completed arrives before ringing and in-progress, then the late events change nothing', () => {
    const final = replay(outboundOpen, ['completed', 'ringing', 'answered', 'answered', 'initiated']);
    expect(final.status).toBe('closed');
    expect(nextCallState({ ...outboundOpen, status: 'closed', ended: true }, { progress: 'answered', at })).toEqual({});
  });

  it('when a final status gets another final event, then it is kept (abandoned is not turned into failed)', () => {
    expect(nextCallState({ ...inboundQueued, status: 'abandoned', ended: true }, { progress: 'failed', at })).toEqual({});
  });

  it('when ringing arrives after the call is active, then the status does not move backwards', () => {
    expect(nextCallState({ ...outboundOpen, status: 'active' }, { progress: 'ringing', at })).toEqual({});
  });

  it('when an after-hours caller hangs up after voicemail, then the interaction stays open with the end stamped once', () => {
    const voicemail: CallState = { status: 'open', direction: 'inbound', agentConnected: false, afterHours: true, ended: false };
    expect(nextCallState(voicemail, { progress: 'completed', at })).toEqual({ endedAt: at });
    expect(nextCallState({ ...voicemail, ended: true }, { progress: 'completed', at })).toEqual({});
  });

  it('when a caller in the menu (never queued) hangs up, then it is abandoned without a wait time', () => {
    expect(nextCallState({ ...inboundQueued, status: 'open', queuedAt: undefined }, { progress: 'canceled', at })).toEqual({ status: 'abandoned', endedAt: at });
  });
});

import { smsRepairAction, smsSendingGraceMs } from './sms-repair';

const now = new Date('2026-03-09T10:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

describe('smsRepairAction', () => {
  it('when a send is still queued, then its job is put back', () => {
    expect(smsRepairAction({ state: 'queued' }, now)).toBe('requeue');
  });

  it('when a send is `sending` within the grace (the attempt may still be inside the Twilio call), then it is left for the next run', () => {
    expect(smsRepairAction({ state: 'sending', sendingSince: ago(10_000) }, now)).toBe('wait');
  });

  it('when a send has been `sending` past the grace, then its job is put back (the worker asks Twilio before any resend)', () => {
    expect(smsRepairAction({ state: 'sending', sendingSince: ago(smsSendingGraceMs) }, now)).toBe('requeue');
  });

  it('when a send is sent or failed, then nothing is done', () => {
    expect(smsRepairAction({ state: 'sent' }, now)).toBe('none');
    expect(smsRepairAction({ state: 'failed' }, now)).toBe('none');
  });
});

import { emailRepairAction, emailSendingGraceMs } from './email-repair';

const now = new Date('2026-03-09T10:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

describe('emailRepairAction', () => {
  it('when an email is queued or waiting for a retry, then its job is put back', () => {
    expect(emailRepairAction({ state: 'queued' }, now)).toBe('requeue');
    expect(emailRepairAction({ state: 'retrying' }, now)).toBe('requeue');
  });

  it('when an email is `sending` within the grace (longer than the per-email send lock), then it is left alone', () => {
    expect(emailRepairAction({ state: 'sending', sendingSince: ago(60_000) }, now)).toBe('wait');
  });

  it('when an email has been `sending` past the grace, then it is sent again (with its fixed Message-ID)', () => {
    expect(emailRepairAction({ state: 'sending', sendingSince: ago(emailSendingGraceMs + 1) }, now)).toBe('requeue');
  });

  it('when an email is done, then nothing is done', () => {
    expect(emailRepairAction({ state: 'done' }, now)).toBe('none');
  });
});

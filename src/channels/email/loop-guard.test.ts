import { headerRecord, shouldAcknowledge } from './loop-guard';

const ours = 'support@switchboard.test';
const person = 'li.wei@example.cn';

describe('the acknowledgement loop guard', () => {
  it('when a person writes an ordinary email, then it is acknowledged', () => {
    expect(shouldAcknowledge({ 'content-type': 'text/plain; charset=utf-8' }, person, ours)).toEqual({ acknowledge: true });
    expect(shouldAcknowledge({ 'auto-submitted': 'no' }, person, ours)).toEqual({ acknowledge: true });
  });

  it.each([
    [{ 'auto-submitted': 'auto-replied' }, 'auto_submitted'],
    [{ 'auto-submitted': 'Auto-Generated; owner-email="x@y"' }, 'auto_submitted'],
    [{ precedence: 'bulk' }, 'bulk_precedence'],
    [{ precedence: 'JUNK' }, 'bulk_precedence'],
    [{ precedence: 'list' }, 'bulk_precedence'],
    [{ 'list-id': '<news.example.cn>' }, 'mailing_list'],
    [{ 'list-unsubscribe': '<mailto:unsub@example.cn>' }, 'mailing_list'],
    [{ 'x-autoreply': 'yes' }, 'autoresponder'],
    [{ 'content-type': 'multipart/report; report-type=delivery-status; boundary="x"' }, 'delivery_report'],
    [{ 'content-type': 'message/disposition-notification' }, 'delivery_report'],
    [{ 'content-type': 'multipart/mixed; report-type=disposition-notification' }, 'delivery_report'],
  ])('when the headers say %j, then it is not acknowledged (%s)', (headers, reason) => {
    expect(shouldAcknowledge(headers, person, ours)).toEqual({ acknowledge: false, reason });
  });

  it.each(['MAILER-DAEMON@example.cn', 'postmaster@example.cn', 'noreply@example.cn', 'no-reply@example.cn', 'do-not-reply@example.cn', 'bounces+123@example.cn'])(
    'when %s writes, then it is a system sender and not acknowledged',
    (from) => expect(shouldAcknowledge({}, from, ours)).toEqual({ acknowledge: false, reason: 'system_sender' }),
  );

  it('when we or our plus addresses are the sender, then it is not acknowledged', () => {
    expect(shouldAcknowledge({}, 'support@switchboard.test', ours)).toEqual({ acknowledge: false, reason: 'own_address' });
    expect(shouldAcknowledge({}, 'SUPPORT+abcdefghijklmnop@switchboard.test', ours)).toEqual({ acknowledge: false, reason: 'own_address' });
  });

  it('when there is no usable sender, then it is not acknowledged', () => {
    expect(shouldAcknowledge({}, '', ours)).toEqual({ acknowledge: false, reason: 'no_sender' });
    expect(shouldAcknowledge({}, undefined, ours)).toEqual({ acknowledge: false, reason: 'no_sender' });
  });

  it('when header lines are folded, repeated or named like prototype keys, then the first value is read plainly', () => {
    const record = headerRecord([
      { key: 'auto-submitted', line: 'Auto-Submitted:\r\n auto-replied' },
      { key: 'auto-submitted', line: 'Auto-Submitted: no' },
      { key: '__proto__', line: '__proto__: polluted' },
    ]);
    expect(record['auto-submitted']).toBe('auto-replied');
    expect(shouldAcknowledge(record, person, ours)).toEqual({ acknowledge: false, reason: 'auto_submitted' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

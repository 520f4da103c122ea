import { parseAuthenticationResults, senderVerdict, trustPolicy } from './email-trust';

const ar = (value: string) => ({ key: 'authentication-results', line: `Authentication-Results: ${value}` });
const policy = trustPolicy('production', 'mx.switchboard.test');

describe('email sender trust', () => {
  it('when our MTA reports DMARC pass for the From domain, then the sender is authenticated', () => {
    expect(senderVerdict(policy, [ar('mx.switchboard.test; spf=fail smtp.mailfrom=x.example; dmarc=pass (p=reject) header.from=customer.example')], 'li@customer.example')).toBe('authenticated');
  });

  it('when DKIM or SPF passes for an aligned domain, then the sender is authenticated; for another domain, not', () => {
    expect(senderVerdict(policy, [ar('mx.switchboard.test;\r\n dkim=pass header.d=customer.example header.s=s1')], 'li@mail.customer.example')).toBe('authenticated');
    expect(senderVerdict(policy, [ar('mx.switchboard.test; spf=pass smtp.mailfrom=bounce@customer.example')], 'li@customer.example')).toBe('authenticated');
    expect(senderVerdict(policy, [ar('mx.switchboard.test; dkim=pass header.d=attacker.example; spf=pass smtp.mailfrom=a@attacker.example')], 'li@customer.example')).toBe('unauthenticated');
  });

  it('when a passing header is not the topmost one from our MTA, or names another MTA, then it does not count', () => {
    const lines = [ar('mx.switchboard.test; dmarc=fail header.from=customer.example'), ar('mx.switchboard.test; dmarc=pass header.from=customer.example')];
    expect(senderVerdict(policy, lines, 'li@customer.example')).toBe('unauthenticated');
    expect(senderVerdict(policy, [ar('mx.attacker.example; dmarc=pass header.from=customer.example')], 'li@customer.example')).toBe('unauthenticated');
    expect(senderVerdict(policy, [], 'li@customer.example')).toBe('unauthenticated');
  });

  it('when no trusted MTA is set, then production treats all mail as unauthenticated while development and test do not check', () => {
    expect(senderVerdict(trustPolicy('production', undefined), [ar('mx.switchboard.test; dmarc=pass')], 'li@customer.example')).toBe('unauthenticated');
    expect(senderVerdict(trustPolicy('development', undefined), [], 'li@customer.example')).toBe('not_checked');
    expect(senderVerdict(trustPolicy('test', undefined), [], 'li@customer.example')).toBe('not_checked');
    expect(trustPolicy('test', 'mx.switchboard.test').enforce).toBe(true);
  });

  it('when the header carries comments and a version, then the authserv-id and results are still read', () => {
    expect(parseAuthenticationResults(' mx.switchboard.test 1; (comment; with semicolon) dkim=pass (good sig) header.d=a.example')).toMatchObject({
      authservId: 'mx.switchboard.test',
      methods: [{ method: 'dkim', result: 'pass', properties: { 'header.d': 'a.example' } }],
    });
  });
});

import { fromTrustedRelay, parseAuthenticationResults, senderVerdict as verdictFor, trustPolicy, type TrustPolicy } from './email-trust';

/** Mail handed over by our MX (listed in EMAIL_TRUSTED_RELAYS). */
const viaOurMx = { address: '10.0.0.5' };
const senderVerdict = (policy: TrustPolicy, lines: Array<{ key: string; line: string }>, from: string) => verdictFor(policy, lines, from, viaOurMx);

const ar = (value: string) => ({ key: 'authentication-results', line: `Authentication-Results: ${value}` });
const policy = trustPolicy('production', 'mx.switchboard.test', ['10.0.0.5', '192.0.2.0/24']);

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

describe('who may hand us a believed Authentication-Results header', () => {
  const header = [{ key: 'authentication-results', line: 'Authentication-Results: mx.switchboard.test; dmarc=pass header.from=customer.example' }];

  it('when the same header comes from a client that connected directly, then it is not believed', () => {
    expect(verdictFor(policy, header, 'li@customer.example', { address: '203.0.113.9' })).toBe('unauthenticated');
    expect(verdictFor(policy, header, 'li@customer.example', {})).toBe('unauthenticated');
  });

  it('when it comes from a listed relay (address or range, IPv4-mapped too) or an SMTP-AUTH session, then it is', () => {
    expect(fromTrustedRelay(policy, { address: '::ffff:10.0.0.5' })).toBe(true);
    expect(fromTrustedRelay(policy, { address: '192.0.2.77' })).toBe(true);
    expect(fromTrustedRelay(policy, { address: '203.0.113.9', authenticated: true })).toBe(true);
    expect(verdictFor(policy, header, 'li@customer.example', { address: '192.0.2.77' })).toBe('authenticated');
  });

  it('when a DMARC pass does not name the From domain it was checked for, then it proves nothing', () => {
    const bare = [{ key: 'authentication-results', line: 'Authentication-Results: mx.switchboard.test; dmarc=pass' }];
    expect(verdictFor(policy, bare, 'li@customer.example', viaOurMx)).toBe('unauthenticated');
  });
});

import { buildReferences, extractMessageIdCandidates, extractReplyTokens, extractSubjectRefs, isOurAddress, normalizeMessageId, plusAddress, replySubject, tagSubject } from './threading';

describe('email threading', () => {
  it('when In-Reply-To and References are given, then candidates come In-Reply-To first, then newest reference first', () => {
    const candidates = extractMessageIdCandidates('<c@x.cn>', ['<a@x.cn>', '<b@x.cn>', '<c@x.cn>']);
    expect(candidates).toEqual(['<c@x.cn>', '<b@x.cn>', '<a@x.cn>']);
  });

  it('when References is one folded string with garbage between ids, then only the ids are taken', () => {
    expect(extractMessageIdCandidates(undefined, '<a@x.cn>\r\n junk <not an id> <b@x.cn>')).toEqual(['<b@x.cn>', '<a@x.cn>']);
  });

  it('when a thread is very long, then only the newest twenty references are tried', () => {
    const references = Array.from({ length: 50 }, (_, index) => `<m${index}@x.cn>`);
    const candidates = extractMessageIdCandidates(undefined, references);
    expect(candidates).toHaveLength(20);
    expect(candidates[0]).toBe('<m49@x.cn>');
  });

  it('when a Message-ID is garbage, too long or carries control characters, then it is not an id', () => {
    expect(normalizeMessageId(' <abc@host.cn> ')).toBe('<abc@host.cn>');
    expect(normalizeMessageId('abc@host.cn')).toBe('<abc@host.cn>');
    expect(normalizeMessageId('not an id')).toBeNull();
    expect(normalizeMessageId('<no-at-sign>')).toBeNull();
    expect(normalizeMessageId(`<${'a'.repeat(300)}@x.cn>`)).toBeNull();
    expect(normalizeMessageId('<a\u0000b@x.cn>')).toBeNull();
    expect(normalizeMessageId(undefined)).toBeNull();
  });

  it('when a recipient is our plus address, then its token is found; other domains, users and shapes are ignored', () => {
    const recipients = [
      'Support <ignored-display>',
      'support+abcdefghijklmnop@switchboard.test',
      'SUPPORT+QRSTUVWXYZ234567@Switchboard.Test',
      'support+abcdefghijklmnop@evil.test',
      'sales+abcdefghijklmnop@switchboard.test',
      'support+short@switchboard.test',
      'support+abcdefghijklmnop@switchboard.test',
    ];
    expect(extractReplyTokens(recipients, 'support@switchboard.test')).toEqual(['abcdefghijklmnop', 'qrstuvwxyz234567']);
  });

  it('when a subject carries case tags, then they are found upper-cased and in order', () => {
    expect(extractSubjectRefs('Re: Fw: brakes [#sb-7f3a2c] and [#SB-000001] [#SB-7F3A2C]')).toEqual(['SB-7F3A2C', 'SB-000001']);
    expect(extractSubjectRefs('SB-7F3A2C without brackets, [#SB-12345] too short')).toEqual([]);
    expect(extractSubjectRefs(undefined)).toEqual([]);
  });

  it('when our reply address and subject are built, then they round-trip through the extractors', () => {
    const address = plusAddress('Support@Switchboard.test', 'abcdefghijklmnop');
    expect(address).toBe('support+abcdefghijklmnop@switchboard.test');
    expect(extractReplyTokens([address], 'support@switchboard.test')).toEqual(['abcdefghijklmnop']);
    expect(tagSubject(tagSubject('Re: Brakes', 'SB-00AA11'), 'SB-00AA11')).toBe('Re: Brakes [#SB-00AA11]');
  });

  it('when a reply subject is made, then Re: is not stacked and line breaks are gone', () => {
    expect(replySubject('Brakes')).toBe('Re: Brakes');
    expect(replySubject('RE: Brakes')).toBe('RE: Brakes');
    expect(replySubject('回复：刹车')).toBe('回复：刹车');
    expect(replySubject('a\r\nBcc: x@y.cn')).toBe('Re: a Bcc: x@y.cn');
    expect(replySubject(undefined)).toBe('Re: Your message');
  });

  it('when an address is checked against ours, then plus variants count and look-alikes do not', () => {
    expect(isOurAddress('support@switchboard.test', 'support@switchboard.test')).toBe(true);
    expect(isOurAddress('Support+anything@SWITCHBOARD.test', 'support@switchboard.test')).toBe(true);
    expect(isOurAddress('support@switchboard.test.evil.cn', 'support@switchboard.test')).toBe(false);
    expect(isOurAddress('supportx@switchboard.test', 'support@switchboard.test')).toBe(false);
  });

  it('when references are built, then duplicates go and only the newest are kept', () => {
    expect(buildReferences(['<a@x>', '<b@x>', '<a@x>', '<c@x>'], 2)).toEqual(['<b@x>', '<c@x>']);
  });

  it('when headers are stuffed with thousands of ids, tokens or tags, then only a few are looked up, quickly', () => {
    const ids = Array.from({ length: 50_000 }, (_, index) => `<${index}@x.example>`).join(' ');
    const started = performance.now();
    expect(extractMessageIdCandidates(ids, ids)).toHaveLength(25);
    expect(performance.now() - started).toBeLessThan(1_000);
    const recipients = Array.from({ length: 100 }, (_, index) => plusAddress('support@x.cn', `${'a'.repeat(14)}${'234567'[index % 6]}${'234567'[Math.floor(index / 6) % 6]}`));
    expect(extractReplyTokens(recipients, 'support@x.cn')).toHaveLength(5);
    const tags = Array.from({ length: 1_000 }, (_, index) => `[#SB-${index.toString(16).toUpperCase().padStart(6, '0')}]`).join(' ');
    expect(extractSubjectRefs(tags)).toHaveLength(5);
  });
});


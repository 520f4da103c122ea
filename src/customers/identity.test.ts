import { identityKey, normalizeEmail, normalizePhone } from './identity';

describe('normalizePhone', () => {
  it('when a Chinese mobile is written nationally, then it becomes E.164 in the default region', () => {
    expect(normalizePhone('138 0013 8000', 'CN')).toEqual({ value: '+8613800138000', kind: 'e164' });
  });

  it('when the number is international with 00 or tel:, then the region is ignored', () => {
    expect(normalizePhone('0049 30 901820', 'CN')).toEqual({ value: '+4930901820', kind: 'e164' });
    expect(normalizePhone('tel:+1-415-555-0100', 'CN')).toEqual({ value: '+14155550100', kind: 'e164' });
  });

  it('when two spellings name the same number, then they normalize identically', () => {
    expect(normalizePhone('(415) 555-0100', 'US')?.value).toBe(normalizePhone('+1 415 555 0100', 'CN')?.value);
  });

  it('when the sender is a short code, then it is kept verbatim and flagged', () => {
    expect(normalizePhone('95588', 'CN')).toEqual({ value: '95588', kind: 'short_code' });
  });

  it('when the sender is alphanumeric, then it is kept verbatim and flagged', () => {
    expect(normalizePhone('CHERY', 'CN')).toEqual({ value: 'CHERY', kind: 'alphanumeric' });
  });

  it('when the input is not a phone number, then it is refused', () => {
    expect(normalizePhone('', 'CN')).toBeNull();
    expect(normalizePhone('+1 2', 'US')).toBeNull();
    expect(normalizePhone('this is far too long for a sender', 'CN')).toBeNull();
  });
});

describe('normalizeEmail', () => {
  it('when an address has capitals and spaces, then it is trimmed and lower-cased', () => {
    expect(normalizeEmail('  Li.Wei@Example.COM ')).toBe('li.wei@example.com');
  });

  it('when the input is not an address, then it is refused', () => {
    expect(normalizeEmail('li.wei@')).toBeNull();
    expect(normalizeEmail('no at sign')).toBeNull();
    expect(normalizeEmail('a@b')).toBeNull();
  });
});

describe('identityKey', () => {
  it('when phone and email identities are keyed, then kinds cannot collide', () => {
    expect(identityKey({ kind: 'phone', value: '+8613800138000' })).toBe('phone:+8613800138000');
    expect(identityKey({ kind: 'email', value: 'a@b.cn' })).toBe('email:a@b.cn');
  });
});

import { addressKey } from './address-key';

describe('addressKey', () => {
  it('when the address is IPv4 or IPv4-mapped IPv6, then it counts as the IPv4 address', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('when the address is IPv6, then every address of the same /64 counts as one', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });

  it('when there is no address, then it counts as unknown', () => {
    expect(addressKey(undefined)).toBe('unknown');
  });
});

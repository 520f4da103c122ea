import { loadConfig } from '../platform/config';
import { isForbiddenAddress, webhookUrlProblem } from './webhook-target';

describe('webhook target addresses', () => {
  it.each([
    '127.0.0.1', '127.255.0.9', '0.0.0.0', '0.1.2.3', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.254', '192.168.1.10',
    '100.64.0.1', '100.127.255.254', '169.254.169.254', '169.254.0.1', '192.0.0.8', '198.18.0.1', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'febf::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe', '::127.0.0.1',
    '2002:7f00:1::1', '2002:a9fe:a9fe::', '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  ])('when the address is %s (loopback, private, link-local, CGNAT, metadata, multicast, mapped, 6to4 of a private one, Teredo), then it is refused', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '172.15.255.255', '100.63.255.255', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '2001:4860:4860::8888', '2002:5db8:d822::1'])(
    'when the address is public (%s), then it is allowed',
    (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    },
  );

  it('when the text is not an IP address, then it is refused (nothing to connect to safely)', () => {
    expect(isForbiddenAddress('example.com')).toBe(true);
  });
});

describe('webhook URL checks when an admin configures one', () => {
  const production = { httpsOnly: true, allowPrivateTargets: false };
  const development = { httpsOnly: false, allowPrivateTargets: false };

  it('when production and the URL is http://, then it is refused saying https is needed', () => {
    expect(webhookUrlProblem('http://erp.example.com/hook', production)).toMatch(/https/);
    expect(webhookUrlProblem('https://erp.example.com/hook', production)).toBeNull();
    expect(webhookUrlProblem('http://erp.example.com/hook', development)).toBeNull();
  });

  it.each(['http://127.0.0.1:8080/x', 'https://169.254.169.254/latest/meta-data', 'http://[::1]/', 'http://10.1.2.3/', 'http://localhost:3000/', 'http://api.localhost/', 'http://0x7f000001/', 'http://2130706433/'])(
    'when the host is a loopback, private or metadata address (%s), then it is refused',
    (url) => {
      expect(webhookUrlProblem(url, development)).toMatch(/private|loopback|address/);
    },
  );

  it('when private targets are allowed (tests, a dev machine), then a loopback URL is accepted', () => {
    expect(webhookUrlProblem('http://127.0.0.1:8080/x', { httpsOnly: false, allowPrivateTargets: true })).toBeNull();
  });
});

describe('WEBHOOK_ALLOW_PRIVATE_TARGETS', () => {
  it('when it is on in production, then start is refused naming it; off by default', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', AUTH_TOKEN_SECRET: 'x'.repeat(40), WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' })).toThrow(/WEBHOOK_ALLOW_PRIVATE_TARGETS/);
    expect(loadConfig({ NODE_ENV: 'test' }).WEBHOOK_ALLOW_PRIVATE_TARGETS).toBe(false);
  });
});

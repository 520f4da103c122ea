import { ConfigError, loadConfig } from './config';

const valid = { NODE_ENV: 'test' } as const;

describe('configuration', () => {
  it('when the environment is empty in test mode, then defaults from config/ apply', () => {
    const config = loadConfig({ ...valid });
    expect(config.PORT).toBe(3000);
    expect(config.SMTP_PORT).toBe(2525);
    expect(config.MONGODB_URI).toMatch(/^mongodb:\/\//);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('when several variables are bad, then one error names every one of them', () => {
    try {
      loadConfig({ ...valid, PORT: 'eighty', REDIS_URL: 'http://nope', PUBLIC_BASE_URL: 'not a url', DEFAULT_PHONE_REGION: 'XX' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const variables = (error as ConfigError).problems.map((problem) => problem.variable).sort();
      expect(variables).toEqual(['DEFAULT_PHONE_REGION', 'PORT', 'PUBLIC_BASE_URL', 'REDIS_URL']);
      expect((error as Error).message).toContain('REDIS_URL: must be a redis:// or rediss:// URL');
    }
  });

  it('when production runs without a token secret, then start is refused naming AUTH_TOKEN_SECRET', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/AUTH_TOKEN_SECRET: is required/);
  });

  it('when demo mode is asked for in production, then start is refused', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DEMO: '1', AUTH_TOKEN_SECRET: 'x'.repeat(40) })).toThrow(/DEMO/);
  });

  it('when a Twilio account sid is malformed, then it is named', () => {
    expect(() => loadConfig({ ...valid, TWILIO_ACCOUNT_SID: 'AC123' })).toThrow(/TWILIO_ACCOUNT_SID/);
  });

  it('when a trusted MTA is named without its addresses or SMTP AUTH, then start is refused (anyone could write its header)', () => {
    expect(() => loadConfig({ ...valid, EMAIL_TRUSTED_AUTHSERV_ID: 'mx.example.com' })).toThrow(/EMAIL_TRUSTED_AUTHSERV_ID: needs EMAIL_TRUSTED_RELAYS/);
    expect(loadConfig({ ...valid, EMAIL_TRUSTED_AUTHSERV_ID: 'mx.example.com', EMAIL_TRUSTED_RELAYS: '10.0.0.5, 10.1.0.0/16' }).EMAIL_TRUSTED_RELAYS).toEqual(['10.0.0.5', '10.1.0.0/16']);
    expect(() => loadConfig({ ...valid, EMAIL_TRUSTED_RELAYS: 'mx.example.com' })).toThrow(/EMAIL_TRUSTED_RELAYS/);
  });

  it('when TRUST_PROXY is not off, a hop count or addresses, then it is named; by default no proxy is trusted', () => {
    expect(loadConfig({ ...valid }).TRUST_PROXY).toBe('off');
    expect(loadConfig({ ...valid, TRUST_PROXY: 'loopback, 10.0.0.0/8' }).TRUST_PROXY).toBe('loopback, 10.0.0.0/8');
    expect(() => loadConfig({ ...valid, TRUST_PROXY: 'everyone' })).toThrow(/TRUST_PROXY/);
  });

  it('when roles list an unknown role, then ROLES is named', () => {
    expect(() => loadConfig({ ...valid, ROLES: 'api,fax' })).toThrow(/ROLES/);
  });

  it('when METRICS_PORT is unset, a number or off, then metrics listen on loopback port 9464, that port, or not at all', () => {
    expect(loadConfig({ ...valid })).toMatchObject({ METRICS_PORT: 9464, METRICS_HOST: '127.0.0.1' });
    expect(loadConfig({ ...valid, METRICS_PORT: '9100' }).METRICS_PORT).toBe(9100);
    expect(loadConfig({ ...valid, METRICS_PORT: 'off' }).METRICS_PORT).toBe('off');
    expect(() => loadConfig({ ...valid, METRICS_PORT: 'prometheus' })).toThrow(/METRICS_PORT/);
    expect(() => loadConfig({ ...valid, METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 16 characters/);
  });
});

import { Writable } from 'node:stream';
import pino from 'pino';
import { startSwitchboard } from '../../src/app';
import { dropTestStores, request, testConfig } from '../support/test-app';

describe('logs and shutdown', () => {
  it('when requests carry phone numbers, emails and passwords, then none of them reach the logs', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const config = testConfig({ LOG_LEVEL: 'debug' });
    const app = await startSwitchboard(config, { log: pino({ level: 'debug' }, sink) });
    try {
      const password = 'secret-password-123';
      await app.services.auth.createUser({ email: 'log.check@example.com', password, role: 'agent', name: 'Log Check' });
      const login = await request({ url: app.url! }, 'POST', '/api/auth/login', { body: { email: 'log.check@example.com', password } });
      const token = login.body.token as string;
      await request({ url: app.url! }, 'POST', '/api/auth/login', { body: { email: 'log.check@example.com', password: 'wrong-password-999' } });
      await request({ url: app.url! }, 'GET', '/api/customers?phone=%2B8613912345678', { token });
      await request({ url: app.url! }, 'POST', '/api/customers', { token, body: { name: 'Sun Li', phones: ['+8613912345679'], emails: ['sun.li@example.cn'] } });
      await request({ url: app.url! }, 'POST', '/api/customers', { token, body: { name: 'Bad', phones: ['+8613912345679'], emails: ['not-an-email'] } });
      const log = lines.join('');
      expect(log).toContain('"msg":"request completed"');
      expect(log).toContain('customer created');
      for (const secret of ['13912345678', '13912345679', 'sun.li@example.cn', 'Sun Li', password, 'wrong-password-999', 'log.check@example.com', token]) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await app.close();
      await dropTestStores(config);
    }
  });

  it('when the app is closed, then it stops accepting and a second close is harmless', async () => {
    const config = testConfig();
    const app = await startSwitchboard(config, { log: pino({ level: 'silent' }) });
    const closing = app.close();
    await closing;
    await dropTestStores(config);
    await expect(fetch(`${app.url}/healthz`)).rejects.toThrow();
    await expect(app.close()).resolves.toBeUndefined();
  });
});

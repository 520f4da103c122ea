import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { ConfigError, loadConfig } from '../../src/platform/config';
import { eventually, smtpConversation, startEmailTestApp, type EmailTestApp, type SmtpOutcome } from '../support/email';

/** A throwaway self-signed key and certificate from the openssl CLI, as an operator would make them. */
async function selfSignedCertificate(dir: string): Promise<{ key: string; cert: string }> {
  const key = path.join(dir, 'smtp-key.pem');
  const cert = path.join(dir, 'smtp-cert.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'pipe' });
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? 'the openssl CLI is required by this test (Debian: apt-get install openssl)' : `openssl failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
  }
  return { key, cert };
}

/** Sends like a relay that insists on STARTTLS (and accepts our self-signed certificate). */
async function sendOverTls(port: number, message: Mail.Options, auth?: { user: string; pass: string }): Promise<SmtpOutcome> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, connectionTimeout: 5_000, ...(auth ? { auth } : {}) });
  try {
    const info = await transport.sendMail(message);
    return { accepted: true, response: info.response };
  } catch (error) {
    const smtp = error as { responseCode?: number; response?: string };
    return { accepted: false, responseCode: smtp.responseCode, response: smtp.response };
  } finally {
    transport.close();
  }
}

const sender = () => `customer.${randomBytes(4).toString('hex')}@example.net`;

describe('SMTP listener security from configuration', () => {
  let dir: string;
  let files: { key: string; cert: string };

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sb-smtp-tls-'));
    files = await selfSignedCertificate(dir);
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  describe('with STARTTLS and AUTH configured', () => {
    let env: EmailTestApp;
    const username = 'mx-relay';
    const password = randomBytes(16).toString('hex');

    beforeAll(async () => {
      env = await startEmailTestApp({ SMTP_PORT: 0, SMTP_TLS_KEY_FILE: files.key, SMTP_TLS_CERT_FILE: files.cert, SMTP_AUTH_USERNAME: username, SMTP_AUTH_PASSWORD: password });
    });
    afterAll(() => env.destroy());

    it('when a client upgrades with STARTTLS and authenticates, then the email is accepted and recorded', async () => {
      const from = sender();
      const outcome = await sendOverTls(env.smtpPort, { from, to: env.supportEmail, subject: 'Over TLS', text: 'Hello over an encrypted line' }, { user: username, pass: password });
      expect(outcome).toMatchObject({ accepted: true });
      const [interaction] = await eventually(async () => (await env.emailInteractions(from)).length ? env.emailInteractions(from) : null, 5_000, 'the email interaction');
      expect(interaction).toMatchObject({ channel: 'email', subject: 'Over TLS' });
    });

    it('when a client sends over TLS without authenticating, then MAIL is refused with 530 and nothing is recorded', async () => {
      const from = sender();
      const outcome = await sendOverTls(env.smtpPort, { from, to: env.supportEmail, subject: 'No auth', text: 'x' });
      expect(outcome).toMatchObject({ accepted: false, responseCode: 530 });
      expect(await env.emailInteractions(from)).toEqual([]);
    });

    it('when a client gives a wrong password, then AUTH is refused with 535 and nothing is recorded', async () => {
      const from = sender();
      const outcome = await sendOverTls(env.smtpPort, { from, to: env.supportEmail, subject: 'Wrong password', text: 'x' }, { user: username, pass: `${password}x` });
      expect(outcome).toMatchObject({ accepted: false, responseCode: 535 });
      expect(await env.emailInteractions(from)).toEqual([]);
    });

    it('when a client tries AUTH before STARTTLS, then the password is not accepted in clear text', async () => {
      const plain = Buffer.from(`\u0000${username}\u0000${password}`).toString('base64');
      const replies = await smtpConversation(env.smtpPort, ['EHLO client.example.net', `AUTH PLAIN ${plain}`]);
      expect(replies.some((line) => /^250[- ]STARTTLS$/.test(line))).toBe(true);
      expect(replies.at(-1)).toMatch(/^538 /);
    });
  });

  describe('with SMTP_REQUIRE_TLS and no AUTH', () => {
    let env: EmailTestApp;

    beforeAll(async () => {
      env = await startEmailTestApp({ SMTP_PORT: 0, SMTP_TLS_KEY_FILE: files.key, SMTP_TLS_CERT_FILE: files.cert, SMTP_REQUIRE_TLS: 'true' });
    });
    afterAll(() => env.destroy());

    it('when a client sends MAIL before STARTTLS, then it is refused with 530', async () => {
      const replies = await smtpConversation(env.smtpPort, ['EHLO client.example.net', 'MAIL FROM:<someone@example.net>']);
      expect(replies.at(-1)).toMatch(/^530 .*STARTTLS/);
    });

    it('when a client upgrades first, then the email is accepted and recorded', async () => {
      const from = sender();
      expect(await sendOverTls(env.smtpPort, { from, to: env.supportEmail, subject: 'TLS only', text: 'x' })).toMatchObject({ accepted: true });
      expect(await env.emailInteractions(from)).toHaveLength(1);
    });
  });

  describe('configuration', () => {
    const problemsOf = (env: Record<string, string>): string[] => {
      try {
        loadConfig({ NODE_ENV: 'test', ...env });
      } catch (error) {
        if (error instanceof ConfigError) return error.problems.map((problem) => `${problem.variable}: ${problem.message}`);
        throw error;
      }
      return [];
    };

    it('when only one of a pair is set, then the missing one is named', () => {
      expect(problemsOf({ SMTP_TLS_KEY_FILE: files.key })).toEqual(['SMTP_TLS_CERT_FILE: is required when SMTP_TLS_KEY_FILE is set']);
      expect(problemsOf({ SMTP_AUTH_PASSWORD: 'a-long-enough-password' })).toEqual(['SMTP_AUTH_USERNAME: is required when SMTP_AUTH_PASSWORD is set']);
    });

    it('when a TLS file cannot be read or is not PEM, then start is refused naming the variable', () => {
      expect(problemsOf({ SMTP_TLS_KEY_FILE: path.join(dir, 'missing.pem'), SMTP_TLS_CERT_FILE: files.cert })).toEqual([
        expect.stringMatching(/^SMTP_TLS_KEY_FILE: cannot read .*missing\.pem \(ENOENT\)$/),
      ]);
      expect(problemsOf({ SMTP_TLS_KEY_FILE: files.key, SMTP_TLS_CERT_FILE: dir })).toEqual([expect.stringMatching(/^SMTP_TLS_CERT_FILE: cannot read /)]);
    });

    it('when TLS is required without a certificate, then SMTP_REQUIRE_TLS is named', () => {
      expect(problemsOf({ SMTP_REQUIRE_TLS: 'true' })).toEqual(['SMTP_REQUIRE_TLS: needs SMTP_TLS_KEY_FILE and SMTP_TLS_CERT_FILE']);
    });

    it('when both files are readable PEM, then the configuration loads', () => {
      expect(problemsOf({ SMTP_TLS_KEY_FILE: files.key, SMTP_TLS_CERT_FILE: files.cert, SMTP_REQUIRE_TLS: '1' })).toEqual([]);
    });
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { EmailChannel } from '../../src/channels/email';
import { startChannelTestApp, type ChannelTestApp } from '../support/channel-app';
import { startSmtpSink, type SmtpSink } from '../support/email';
import { testQueues } from '../integration/routing-support';
import { assertWebBundle } from './web-bundle';

/** Debian's chromium package (scripts/setup.sh installs it); the tests never download a browser. */
export const chromiumPath = '/usr/bin/chromium';
export const screenshotsDir = path.join(__dirname, 'screenshots');
/** The size the screens are designed for: a common contact-center laptop/monitor. */
export const viewport = { width: 1366, height: 768 };

export interface E2eEnv extends ChannelTestApp {
  browser: Browser;
  sink: SmtpSink;
  smtpPort: number;
  supportEmail: string;
  /** A fresh browser profile (cookies, sessionStorage) at the design size. */
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** The whole app in-process (routing with test queues, Twilio stand-in, SMTP in and out) and one headless Chromium. */
export async function startE2e(): Promise<E2eEnv> {
  assertWebBundle();
  if (!fs.existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: run \`npm run setup\` (it installs Debian's chromium package) or apt-get install chromium.`);
  const sink = await startSmtpSink();
  const attachmentsDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'sb-e2e-'));
  const supportEmail = 'support@switchboard.test';
  const env = await startChannelTestApp(
    { SMTP_OUT_URL: sink.url, ATTACHMENTS_DIR: attachmentsDir, SUPPORT_EMAIL: supportEmail },
    { routing: { queuesConfig: testQueues({ reservationTimeoutSeconds: 60 }) } },
  );
  const browser = await chromium.launch({ executablePath: chromiumPath });
  fs.mkdirSync(screenshotsDir, { recursive: true });
  const contexts: BrowserContext[] = [];
  return {
    ...env,
    browser,
    sink,
    smtpPort: (env.app.channels.find((channel) => channel.name === 'email') as EmailChannel).smtpPort() ?? env.app.config.SMTP_PORT,
    supportEmail,
    async newContext() {
      const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'Asia/Shanghai' });
      // Well inside jest's test timeout, so a missing element fails with Playwright's own message.
      context.setDefaultTimeout(10_000);
      contexts.push(context);
      return context;
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
      await env.destroy();
      await sink.close();
      await fs.promises.rm(attachmentsDir, { recursive: true, force: true });
    },
  };
}

/** Opens the app and signs in through the login form, as a person would. */
export async function signIn(env: E2eEnv, context: BrowserContext, user: { email: string; password: string }, loginScreenshot?: string): Promise<Page> {
  const page = await context.newPage();
  // Browser errors (a CSP violation, an exception) fail the test at the end instead of hiding.
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  (page as Page & { problems?: string[] }).problems = problems;
  await page.goto(env.app.url);
  await page.getByLabel(/email/i).waitFor();
  if (loginScreenshot) await screenshot(page, loginScreenshot);
  await page.getByLabel(/email/i).fill(user.email);
  await page.getByLabel(/password/i).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('connection').and(page.locator('[data-status="online"]')).waitFor();
  return page;
}

export function problemsOf(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  const file = path.join(screenshotsDir, `${name}.png`);
  await page.screenshot({ path: file, ...options });
  return file;
}

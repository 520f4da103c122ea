import { standinCredentials, startTwilioStandin, type TwilioStandin } from '../../scripts/standins/twilio-standin';
import { freePort } from '../../scripts/standins/free-port';
import type { StartOptions } from '../../src/app';
import { startTestApp, type TestApp } from './test-app';


export interface ChannelTestApp {
  app: TestApp;
  twilio: TwilioStandin;
  /** Posts a Twilio-signed form webhook to `path` on the app, as Twilio would. */
  webhook(path: string, params: Record<string, string>): Promise<{ status: number; text: string; contentType: string | null }>;
  destroy(): Promise<void>;
}

/**
 * The app wired to a local Twilio stand-in (REST calls go there; its status callbacks come back
 * signed). PUBLIC_BASE_URL is the app's real local address, so signatures are checked for real.
 */
export async function startChannelTestApp(overrides: Record<string, string | number> = {}, options: Omit<StartOptions, 'log'> = {}): Promise<ChannelTestApp> {
  const credentials = standinCredentials();
  const twilio = await startTwilioStandin({ ...credentials, callbackDelayMs: 5 });
  const port = await freePort();
  const app = await startTestApp({
    PORT: port,
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    TWILIO_ACCOUNT_SID: credentials.accountSid,
    TWILIO_AUTH_TOKEN: credentials.authToken,
    TWILIO_API_BASE_URL: twilio.url,
    TWILIO_NUMBERS: '+862150000000,+862150000001',
    SMTP_PORT: await freePort(),
    ...overrides,
  }, options);
  return {
    app,
    twilio,
    webhook: async (path, params) => {
      const response = await twilio.sendWebhook(`${app.url}${path}`, params);
      return { status: response.status, text: await response.text(), contentType: response.headers.get('content-type') };
    },
    destroy: async () => {
      await twilio.close();
      await app.destroy();
    },
  };
}


import twilio from 'twilio';
import { AppError } from '../../platform/errors';
import type { Config } from '../../platform/config';
import { createTwilioClient, type TwilioClient } from '../twilio/twilio-client';
import type { CallProgress } from './call-status';

/** Twilio's CallStatus values, as they arrive in webhooks. Only this file maps them. */
export const twilioCallStatuses = ['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'] as const;
export type TwilioCallStatus = (typeof twilioCallStatuses)[number];

const progressByStatus: Record<TwilioCallStatus, CallProgress> = {
  queued: 'initiated',
  initiated: 'initiated',
  ringing: 'ringing',
  'in-progress': 'answered',
  completed: 'completed',
  busy: 'busy',
  'no-answer': 'no_answer',
  failed: 'failed',
  canceled: 'canceled',
};

export function toCallProgress(status: TwilioCallStatus): CallProgress {
  return progressByStatus[status];
}

// A softphone token lives one hour; the browser SDK asks for a new one before it expires.
const tokenTtlSeconds = 3600;

/** The Twilio REST and token operations the voice channel needs, behind one small interface. */
export class TwilioVoiceAdapter {
  private client: TwilioClient | undefined;

  constructor(private readonly config: Config) {}

  /** Fails with 503 naming the missing settings, before we record anything we could not act on. */
  assertConfigured(): void {
    this.rest();
  }

  private rest(): TwilioClient {
    if (!this.config.TWILIO_ACCOUNT_SID || !this.config.TWILIO_AUTH_TOKEN) {
      throw new AppError('unavailable', 'Twilio is not configured here: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN', { missing: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'].filter((name) => !this.config[name as keyof Config]) });
    }
    this.client ??= createTwilioClient({ accountSid: this.config.TWILIO_ACCOUNT_SID, authToken: this.config.TWILIO_AUTH_TOKEN, apiBaseUrl: this.config.TWILIO_API_BASE_URL });
    return this.client;
  }

  /** Places a call; Twilio runs `twiml` when the callee answers and posts progress to `statusCallback`. */
  async createCall(input: { to: string; from: string; twiml: string; statusCallback: string }): Promise<{ callSid: string }> {
    const client = this.rest();
    try {
      const call = await client.calls.create({
        to: input.to,
        from: input.from,
        twiml: input.twiml,
        statusCallback: input.statusCallback,
        statusCallbackMethod: 'POST',
        statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      });
      return { callSid: call.sid };
    } catch (error) {
      throw twilioFailure(error, 'place the call');
    }
  }

  /** Replaces what a live call is doing (e.g. takes it out of the queue and dials the agent). */
  async redirectCall(callSid: string, twiml: string): Promise<void> {
    const client = this.rest();
    try {
      await client.calls(callSid).update({ twiml });
    } catch (error) {
      throw twilioFailure(error, 'update the call');
    }
  }

  /** A Voice JS SDK access token for `identity`, or 503 naming the settings still missing. */
  issueAccessToken(identity: string): { token: string; identity: string; ttlSeconds: number } {
    const settings = {
      TWILIO_ACCOUNT_SID: this.config.TWILIO_ACCOUNT_SID,
      TWILIO_API_KEY_SID: this.config.TWILIO_API_KEY_SID,
      TWILIO_API_KEY_SECRET: this.config.TWILIO_API_KEY_SECRET,
      TWILIO_TWIML_APP_SID: this.config.TWILIO_TWIML_APP_SID,
    };
    const missing = Object.entries(settings).filter(([, value]) => !value).map(([name]) => name);
    if (missing.length) {
      throw new AppError('unavailable', `Softphone tokens are not configured here: set ${missing.join(', ')}`, { missing });
    }
    const { AccessToken } = twilio.jwt;
    const token = new AccessToken(settings.TWILIO_ACCOUNT_SID!, settings.TWILIO_API_KEY_SID!, settings.TWILIO_API_KEY_SECRET!, { identity, ttl: tokenTtlSeconds });
    token.addGrant(new AccessToken.VoiceGrant({ outgoingApplicationSid: settings.TWILIO_TWIML_APP_SID, incomingAllow: true }));
    return { token: token.toJwt(), identity, ttlSeconds: tokenTtlSeconds };
  }
}

/** Twilio's REST errors as ours: a call that no longer exists is a conflict, the rest is unavailability. */
function twilioFailure(error: unknown, action: string): AppError {
  const rest = error as { status?: number; code?: number };
  if (rest.status === 404) return new AppError('conflict', `Could not ${action}: the call is no longer live`, { twilioCode: rest.code }, true, { cause: error });
  if (typeof rest.status === 'number' && rest.status >= 400 && rest.status < 500) {
    return new AppError('validation_failed', `Twilio refused to ${action}`, { twilioStatus: rest.status, twilioCode: rest.code }, true, { cause: error });
  }
  return new AppError('unavailable', `Could not ${action}: Twilio did not answer; retry shortly`, { twilioStatus: rest.status, twilioCode: rest.code }, true, { cause: error });
}

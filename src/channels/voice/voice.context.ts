import type { Redis } from 'ioredis';
import type { CustomerService } from '../../customers';
import type { Interaction, InteractionService } from '../../interactions';
import type { Config } from '../../platform/config';
import { withLock } from '../../platform/locks';
import type { Logger } from '../../platform/logger';
import type { ContactHolds } from '../contact-access';
import type { VoiceUrls } from './twiml';
import type { TwilioVoiceAdapter } from './voice.adapter';
import type { VoiceNumbers } from './voice-numbers';

/** What the voice services share: the platform services, the numbers file and the Twilio adapter. */
export interface VoiceContext {
  config: Config;
  log: Logger;
  redis: Redis;
  customers: CustomerService;
  interactions: InteractionService;
  numbers: VoiceNumbers;
  adapter: TwilioVoiceAdapter;
  /** Whether an agent holds a contact (routing's desk); decides who may connect a queued caller. */
  holds?: ContactHolds;
}

/** Webhook paths; Twilio is given absolute URLs under PUBLIC_BASE_URL. */
export const voicePaths = {
  incoming: '/webhooks/twilio/voice',
  wait: '/webhooks/twilio/voice/wait',
  menu: '/webhooks/twilio/voice/menu',
  status: '/webhooks/twilio/voice/status',
  recording: '/webhooks/twilio/voice/recording',
} as const;

export function voiceUrls(publicBaseUrl: string): VoiceUrls & { status: string } {
  const base = publicBaseUrl.replace(/\/$/, '');
  return {
    wait: `${base}${voicePaths.wait}`,
    menu: (attempt) => `${base}${voicePaths.menu}?attempt=${attempt}`,
    recording: `${base}${voicePaths.recording}`,
    status: `${base}${voicePaths.status}`,
  };
}

/** The interaction log's external id of a call; status callbacks and recordings find the call by it. */
export const callExternalId = (callSid: string) => `twilio-call:${callSid}`;

/** The CallSid behind an inbound call's interaction, if it has one. */
export function callSidOf(interaction: Interaction): string | undefined {
  return interaction.externalIds.find((id) => id.startsWith('twilio-call:'))?.slice('twilio-call:'.length);
}

/**
 * Serializes everything that reads a call's interaction and then writes it (status callbacks,
 * connecting an agent), across processes: Twilio sends a call's callbacks concurrently.
 * With Redis down the work runs unlocked: an incoming call is still recorded exactly once (the
 * durable claim of recordInboundEvent), status changes are conditional writes, and Twilio does not
 * retry status callbacks, so refusing a hang-up would leave a gone caller "queued" for good.
 */
export function withCallLock<T>(context: VoiceContext, callSid: string, work: () => Promise<T>): Promise<T> {
  return withLock(context.redis, `${context.config.REDIS_KEY_PREFIX}lock:voice-call:${callSid}`, { ttlMs: 15_000, waitMs: 10_000, whenRedisDown: 'proceed' }, () => work());
}

import type { ChannelDeps, ChannelModule } from '../channel';
import { durationMs } from '../../platform/duration';
import { TwilioSmsProvider } from './sms.adapter';
import path from 'node:path';
import { AttachmentStore } from '../email/attachment-store';
import { enqueueSmsMedia, startOutboundSmsWorker, startSmsMediaWorker } from './sms.jobs';
import { SmsMediaDownloader } from './sms-media-download';
import { SmsRepository } from './sms.repository';
import { smsWebhooks } from './sms.webhooks';
import { InboundSmsService, type SmsReplyClaimer } from './sms-inbound.service';
import { OutboundSmsService } from './sms-outbound.service';
import { outboundSmsRepair } from './sms-repair';

export type { SendSmsInput } from './sms-outbound.service';
export type { SmsReplyClaim, SmsReplyClaimer } from './sms-inbound.service';
export { OutboundSmsService } from './sms-outbound.service';

/** The Twilio SMS channel: inbound texts and keywords, agent replies and notifications, delivery status. */
export interface SmsChannel extends ChannelModule {
  outbound: OutboundSmsService;
  /** Lets surveys and task verification take the customer's answers (see SmsReplyClaimer). */
  addReplyClaimer(claimer: SmsReplyClaimer): void;
}

export function createSmsChannel(deps: ChannelDeps): SmsChannel {
  const { config } = deps;
  const log = deps.log.child({ module: 'sms' });
  const repository = new SmsRepository(deps.mongo);
  const conversationWindowMs = durationMs(config.SMS_CONVERSATION_WINDOW);
  const provider =
    config.TWILIO_ACCOUNT_SID && config.TWILIO_AUTH_TOKEN
      ? new TwilioSmsProvider({ accountSid: config.TWILIO_ACCOUNT_SID, authToken: config.TWILIO_AUTH_TOKEN, apiBaseUrl: config.TWILIO_API_BASE_URL })
      : undefined;
  const publicBaseUrl = config.PUBLIC_BASE_URL.replace(/\/$/, '');

  // MMS media goes into the same content-addressed store as email attachments.
  const media = new SmsMediaDownloader(
    deps.interactions,
    new AttachmentStore(path.resolve(config.ATTACHMENTS_DIR)),
    { accountSid: config.TWILIO_ACCOUNT_SID, authToken: config.TWILIO_AUTH_TOKEN, apiBaseUrl: config.TWILIO_API_BASE_URL, maxBytes: config.SMS_MEDIA_MAX_BYTES, timeoutMs: 30_000 },
    log,
  );
  const inbound = new InboundSmsService(
    deps.customers,
    deps.interactions,
    repository,
    deps.redis,
    { defaultRegion: config.DEFAULT_PHONE_REGION, conversationWindowMs, apiBaseUrl: config.TWILIO_API_BASE_URL, redisKeyPrefix: config.REDIS_KEY_PREFIX },
    log,
    media.enabled
      ? async ({ indexes, ...target }) => {
          for (const index of indexes) await enqueueSmsMedia(deps.queues, { ...target, index });
        }
      : undefined,
  );
  const outbound = new OutboundSmsService(
    deps.customers,
    deps.interactions,
    repository,
    deps.queues,
    provider,
    deps.redis,
    {
      defaultRegion: config.DEFAULT_PHONE_REGION,
      conversationWindowMs,
      fromNumber: config.TWILIO_NUMBERS.split(',').map((number) => number.trim()).find(Boolean),
      statusCallbackUrl: `${publicBaseUrl}/webhooks/twilio/sms/status`,
      redisKeyPrefix: config.REDIS_KEY_PREFIX,
    },
    log,
  );
  const webhookSettings = { authToken: config.TWILIO_AUTH_TOKEN, publicBaseUrl, skipSignatureCheck: config.UNSAFE_SKIP_TWILIO_SIGNATURE };

  return {
    name: 'sms',
    routers: [smsWebhooks(webhookSettings, inbound, outbound)],
    outbound,
    repairs: [outboundSmsRepair({ sms: repository, queues: deps.queues, log })],
    addReplyClaimer: (claimer) => inbound.addReplyClaimer(claimer),
    reply: (input) => outbound.reply(input),
    start: async () => {
      startOutboundSmsWorker(deps.queues, (job, attempt) => outbound.deliver(job, attempt));
      startSmsMediaWorker(deps.queues, (job, attempt) => media.download(job, attempt));
      if (!media.enabled) log.warn('TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN not set: inbound MMS media is kept as links only');
    },
    // The worker and queue belong to the shared QueueFactory, which the composition root closes.
    close: async () => undefined,
  };
}

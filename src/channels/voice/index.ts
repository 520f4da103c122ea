import path from 'node:path';
import { projectRoot } from '../../platform/config';
import type { ChannelDeps, ChannelModule } from '../channel';
import { CallControlService } from './call-control.service';
import { TwilioVoiceAdapter } from './voice.adapter';
import { voiceRoutes } from './voice.routes';
import { VoiceService } from './voice.service';
import { voiceWebhooks } from './voice.webhooks';
import { loadVoiceNumbers } from './voice-numbers';

export { CallControlService, agentIdentity } from './call-control.service';
export { VoiceService } from './voice.service';

/**
 * Where the dialled numbers are configured. A constant until the lead adds a setting for it
 * (e.g. VOICE_NUMBERS_FILE); the file is validated at start, so a bad one stops the start.
 */
const voiceNumbersFile = path.join(projectRoot(), 'config', 'voice-numbers.json');

/** The Twilio Voice channel: incoming calls, IVR, queue, voicemail, call progress, click-to-call. */
export function createVoiceChannel(deps: ChannelDeps): ChannelModule & { calls: CallControlService } {
  const { config, log } = deps;
  const context = {
    config,
    log: log.child({ module: 'voice' }),
    redis: deps.redis,
    customers: deps.customers,
    interactions: deps.interactions,
    numbers: loadVoiceNumbers(voiceNumbersFile),
    adapter: new TwilioVoiceAdapter(config),
    holds: deps.holds,
  };
  const voice = new VoiceService(context);
  const calls = new CallControlService(context);
  const webhookSettings = { authToken: config.TWILIO_AUTH_TOKEN, publicBaseUrl: config.PUBLIC_BASE_URL, skipSignatureCheck: config.UNSAFE_SKIP_TWILIO_SIGNATURE };
  return {
    name: 'voice',
    routers: [voiceWebhooks(webhookSettings, voice, calls), voiceRoutes(deps.registry, calls)],
    // The routing module calls `calls.connectCallToAgent` when an agent accepts a call.
    calls,
    start: async () => undefined,
    close: async () => undefined,
  };
}

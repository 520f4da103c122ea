import type { Entry } from '../../interactions';
import { AppError } from '../../platform/errors';
import { classifyCaller, withheldCallerIdentity } from './caller-id';
import { callbackTwiml, enqueueTwiml, goodbyeTwiml, menuTwiml, voicemailTwiml, waitTwiml } from './twiml';
import { callExternalId, voiceUrls, withCallLock, type VoiceContext } from './voice.context';
import { isOpenNow, settingsFor } from './voice-numbers';

/** Where an incoming call was sent; stored on its first entry so a replayed webhook gets the same TwiML. */
type CallRoute = 'queue' | 'menu' | 'voicemail' | 'callback';

// A caller gets the menu twice; after a second invalid or missing choice they go to the default queue.
const menuAttempts = 2;

/** Incoming calls: the caller's record, the menu, the queue, voicemail. */
export class VoiceService {
  private readonly urls;

  constructor(private readonly context: VoiceContext) {
    this.urls = voiceUrls(context.config.PUBLIC_BASE_URL);
  }

  /**
   * Logs an incoming call on the caller's customer (a withheld caller id goes to the shared
   * "Withheld" customer, flagged) and decides its route from the dialled number's settings.
   * Idempotent on the CallSid: a replay returns the TwiML of the first decision.
   */
  async answerIncomingCall(call: { callSid: string; from: string; to: string }): Promise<{ interactionId: string; twiml: string }> {
    const { interactions, customers, config, log } = this.context;
    return withCallLock(this.context, call.callSid, async () => {
      // No "seen this CallSid?" read first: recordInboundEvent answers that itself, and a retry
      // (rare) only repeats the customer lookup. One store round trip less on every new call.
      const caller = classifyCaller(call.from, config.DEFAULT_PHONE_REGION);
      const { customer } = await customers.resolveCustomer(
        caller.kind === 'phone' ? { phone: caller.phone } : { phone: withheldCallerIdentity, name: 'Withheld caller ID' },
      );
      const settings = settingsFor(this.context.numbers, call.to);
      const open = isOpenNow(settings, new Date());
      const route: CallRoute = open
        ? settings.menu ? 'menu' : 'queue'
        : settings.afterHours.action === 'callback' && caller.kind === 'phone' ? 'callback' : 'voicemail';
      const flags = [
        ...(caller.kind === 'withheld' ? ['caller_withheld'] : []),
        ...(open ? [] : ['after_hours']),
        ...(route === 'voicemail' ? ['voicemail'] : []),
        ...(route === 'callback' ? ['callback_requested'] : []),
      ];
      const queue = route === 'queue' ? settings.defaultQueue : undefined;
      const recorded = await interactions.recordInboundEvent({
        externalId: callExternalId(call.callSid),
        customerId: customer.id,
        channel: 'voice',
        direction: 'inbound',
        status: route === 'queue' ? 'queued' : 'open',
        queue,
        entry: {
          kind: 'call_event',
          direction: 'inbound',
          // The caller id is kept exactly as given, even when it cannot be dialled back.
          data: { event: 'incoming', callSid: call.callSid, from: call.from, to: call.to, route, ...(queue ? { queue } : {}) },
          ...(flags.length ? { flags } : {}),
        },
      });
      const entry = recorded.interaction.entries?.find((candidate) => candidate.id === recorded.entryId);
      if (recorded.duplicate) {
        // A replay answers with the first delivery's decision, and finishes one that died between
        // recording the call and flagging it.
        const missing = (entry?.flags ?? []).filter((flag) => !recorded.interaction.flags.includes(flag));
        if (missing.length) await interactions.updateInteraction(recorded.interaction.id, {}, missing);
        return { interactionId: recorded.interaction.id, twiml: this.routeTwiml(entry, call.to) };
      }
      if (flags.length) await interactions.updateInteraction(recorded.interaction.id, {}, flags);
      log.info({ interactionId: recorded.interaction.id, customerId: customer.id, callSid: call.callSid, route, queue }, 'incoming call answered');
      return { interactionId: recorded.interaction.id, twiml: this.routeTwiml(entry, call.to) };
    });
  }

  /**
   * Records the caller's menu choice and enqueues them in the chosen queue; an invalid or missing
   * digit repeats the menu once, then sends the caller to the number's default queue.
   */
  async chooseFromMenu(choice: { callSid: string; to: string; digits: string; attempt: number }): Promise<{ interactionId: string; twiml: string }> {
    const { interactions, log } = this.context;
    return withCallLock(this.context, choice.callSid, async () => {
      const known = await interactions.findByExternalId(callExternalId(choice.callSid));
      if (!known) throw AppError.notFound('Call', choice.callSid);
      const interaction = await interactions.getInteraction(known.interactionId);
      const settings = settingsFor(this.context.numbers, choice.to);
      const option = settings.menu?.options[choice.digits];
      const retry = !option && settings.menu !== undefined && choice.attempt < menuAttempts;
      const queue = option?.queue ?? settings.defaultQueue;
      await interactions.recordInboundEvent({
        externalId: `twilio-call-menu:${choice.callSid}:${choice.attempt}`,
        customerId: interaction.customerId,
        channel: 'voice',
        direction: 'inbound',
        appendTo: interaction.id,
        entry: {
          kind: 'call_event',
          direction: 'inbound',
          data: { event: 'menu', attempt: choice.attempt, digits: choice.digits, valid: Boolean(option), ...(option ? { choice: option.label } : {}), ...(retry ? {} : { queue }) },
        },
      });
      if (retry) return { interactionId: interaction.id, twiml: menuTwiml(settings, settings.menu!, this.urls, choice.attempt + 1) };
      // Only a call still in the menu moves to a queue; a late replay after that changes nothing.
      if (interaction.status === 'open') {
        await interactions.updateInteraction(interaction.id, { status: 'queued', queue, queuedAt: new Date() }, option ? [] : ['ivr_no_choice']);
      }
      log.info({ interactionId: interaction.id, callSid: choice.callSid, queue, valid: Boolean(option) }, 'menu choice recorded');
      return { interactionId: interaction.id, twiml: enqueueTwiml(settings, queue, this.urls, { greet: false }) };
    });
  }

  /** What a queued caller hears on each loop: position, expected wait, hold music. */
  waitInQueue(wait: { position?: number; averageWaitSeconds?: number }): string {
    return waitTwiml(wait, this.context.numbers.holdMusicUrl);
  }

  /**
   * Stores a recording (voicemail, or a recorded call) on the call's interaction. Twilio reports it
   * twice (the Record action and the recording status callback): idempotent on the RecordingSid.
   */
  async storeRecording(recording: { callSid: string; recordingSid: string; recordingUrl?: string; durationSeconds?: number; status?: string }): Promise<{ twiml: string }> {
    const { interactions, log } = this.context;
    const known = await interactions.findByExternalId(callExternalId(recording.callSid));
    if (!known) {
      log.warn({ callSid: recording.callSid, recordingSid: recording.recordingSid }, 'recording for an unknown call ignored');
      return { twiml: goodbyeTwiml() };
    }
    const interaction = await interactions.getInteraction(known.interactionId);
    const voicemail = interaction.flags.includes('voicemail');
    const recorded = await interactions.recordInboundEvent({
      externalId: `twilio-recording:${recording.recordingSid}`,
      customerId: interaction.customerId,
      channel: 'voice',
      direction: 'inbound',
      appendTo: interaction.id,
      entry: {
        kind: 'attachment',
        direction: 'inbound',
        data: {
          event: voicemail ? 'voicemail' : 'recording',
          recordingSid: recording.recordingSid,
          ...(recording.recordingUrl ? { recordingUrl: recording.recordingUrl } : {}),
          ...(recording.durationSeconds !== undefined ? { durationSeconds: recording.durationSeconds } : {}),
          ...(recording.status ? { recordingStatus: recording.status } : {}),
        },
        ...(recording.recordingUrl ? { attachments: [{ name: `${recording.recordingSid}.wav`, contentType: 'audio/wav', url: recording.recordingUrl }] } : {}),
      },
    });
    if (voicemail && !recorded.duplicate) await interactions.updateInteraction(interaction.id, {}, ['voicemail_left']);
    log.info({ interactionId: interaction.id, recordingSid: recording.recordingSid, duplicate: recorded.duplicate }, 'call recording stored');
    return { twiml: goodbyeTwiml() };
  }

  private routeTwiml(entry: Entry | undefined, dialled: string): string {
    const data = entry?.data ?? {};
    const settings = settingsFor(this.context.numbers, typeof data.to === 'string' ? data.to : dialled);
    switch (data.route as CallRoute | undefined) {
      case 'menu':
        return settings.menu ? menuTwiml(settings, settings.menu, this.urls, 1) : enqueueTwiml(settings, settings.defaultQueue, this.urls, { greet: true });
      case 'voicemail':
        return voicemailTwiml(settings, this.urls);
      case 'callback':
        return callbackTwiml(settings);
      default:
        return enqueueTwiml(settings, typeof data.queue === 'string' ? data.queue : settings.defaultQueue, this.urls, { greet: true });
    }
  }
}

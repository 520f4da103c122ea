import VoiceResponse from 'twilio/lib/twiml/VoiceResponse';
import type { IvrMenu, NumberSettings } from './voice-numbers';

/** TwiML builders: pure functions from our decisions to the XML Twilio executes (the SDK escapes it). */

export interface VoiceUrls {
  wait: string;
  menu: (attempt: number) => string;
  recording: string;
}

const sayAttributes = (settings: Pick<NumberSettings, 'language'>) => (settings.language ? { language: settings.language as NonNullable<VoiceResponse.SayAttributes['language']> } : {});

/** Greets the caller and holds them in `queue` with our wait announcements. */
export function enqueueTwiml(settings: NumberSettings, queue: string, urls: VoiceUrls, options: { greet: boolean }): string {
  const response = new VoiceResponse();
  if (options.greet) response.say(sayAttributes(settings), settings.greeting);
  response.enqueue({ waitUrl: urls.wait, waitUrlMethod: 'POST' }, queue);
  return response.toString();
}

/** Greets (first attempt only) and asks for one digit; an empty timeout still posts to the action. */
export function menuTwiml(settings: NumberSettings, menu: IvrMenu, urls: VoiceUrls, attempt: number): string {
  const response = new VoiceResponse();
  const gather = response.gather({ numDigits: 1, timeout: 6, action: urls.menu(attempt), method: 'POST', actionOnEmptyResult: true });
  if (attempt === 1) gather.say(sayAttributes(settings), settings.greeting);
  else gather.say(sayAttributes(settings), 'Sorry, that is not an option.');
  gather.say(sayAttributes(settings), menu.prompt);
  return response.toString();
}

/** After hours: the message, then a recording whose result (action and callback) we store. */
export function voicemailTwiml(settings: NumberSettings, urls: VoiceUrls): string {
  const response = new VoiceResponse();
  response.say(sayAttributes(settings), settings.afterHours.message);
  response.record({
    action: urls.recording,
    method: 'POST',
    maxLength: settings.afterHours.maxRecordingSeconds,
    playBeep: true,
    finishOnKey: '#',
    recordingStatusCallback: urls.recording,
    recordingStatusCallbackMethod: 'POST',
    recordingStatusCallbackEvent: ['completed'],
  });
  // Reached only when nothing was recorded (silence): Twilio skips the action then.
  response.say(sayAttributes(settings), 'We did not receive a message. Goodbye.');
  response.hangup();
  return response.toString();
}

/** After hours with a callback offer: we already have the caller's number, so we say so and end. */
export function callbackTwiml(settings: NumberSettings): string {
  const response = new VoiceResponse();
  response.say(sayAttributes(settings), settings.afterHours.message);
  response.hangup();
  return response.toString();
}

/**
 * What a waiting caller hears on each loop of the wait URL: their position, the expected wait when
 * Twilio knows it, then hold music or a pause (Twilio requests the wait URL again when it ends).
 */
export function waitTwiml(wait: { position?: number; averageWaitSeconds?: number }, holdMusicUrl?: string): string {
  const response = new VoiceResponse();
  if (wait.position && wait.position > 0) {
    response.say(wait.position === 1 ? 'You are next in line.' : `You are number ${wait.position} in line.`);
  }
  if (wait.averageWaitSeconds && wait.averageWaitSeconds > 0) {
    const minutes = Math.max(1, Math.round(wait.averageWaitSeconds / 60));
    response.say(`The expected wait is about ${minutes} minute${minutes === 1 ? '' : 's'}.`);
  }
  if (holdMusicUrl) response.play(holdMusicUrl);
  else response.pause({ length: 20 });
  return response.toString();
}

export function goodbyeTwiml(): string {
  const response = new VoiceResponse();
  response.say('Thank you. Goodbye.');
  response.hangup();
  return response.toString();
}

/** Bridges the live call to the agent's browser softphone (identity `agent-<userId>`). */
export function dialAgentTwiml(agentIdentity: string): string {
  const response = new VoiceResponse();
  response.dial().client(agentIdentity);
  return response.toString();
}

/** An empty answer for webhooks whose response Twilio ignores (status callbacks). */
export function emptyTwiml(): string {
  return new VoiceResponse().toString();
}

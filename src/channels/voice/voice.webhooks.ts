import { Router, type Response } from 'express';
import { z } from 'zod';
import { AppError } from '../../platform/errors';
import { objectIdSchema, parseOrThrow } from '../../platform/validation';
import { verifyTwilioSignature, type TwilioWebhookSettings } from '../twilio/twilio-webhook';
import type { CallControlService } from './call-control.service';
import { emptyTwiml } from './twiml';
import { twilioCallStatuses } from './voice.adapter';
import { voicePaths } from './voice.context';
import type { VoiceService } from './voice.service';

// Twilio's form parameters; unknown ones (ApiVersion, CallerCity, …) are ignored.
const callSid = z.string().regex(/^CA[0-9a-fA-F]{32}$/, 'must be a Twilio CallSid (CA + 32 hex digits)');
const seconds = z.coerce.number().int().min(0);

const incomingCall = z.object({ CallSid: callSid, From: z.string().default(''), To: z.string().min(1) });
const menuChoice = z.object({ CallSid: callSid, To: z.string().default(''), Digits: z.string().max(20).default('') });
const menuQuery = z.object({ attempt: z.coerce.number().int().min(1).max(10).default(1) });
const waitParams = z.object({ QueuePosition: seconds.optional(), AvgQueueTime: seconds.optional() });
const statusCallback = z.object({
  CallSid: callSid,
  CallStatus: z.enum(twilioCallStatuses),
  SequenceNumber: z.string().regex(/^\d+$/).optional(),
  Timestamp: z.string().optional(),
  CallDuration: seconds.optional(),
});
const statusQuery = z.object({ interactionId: objectIdSchema.optional() });
const recordingCallback = z.object({
  CallSid: callSid,
  RecordingSid: z.string().regex(/^RE[0-9a-fA-F]{32}$/, 'must be a Twilio RecordingSid').optional(),
  RecordingUrl: z.url().optional(),
  RecordingDuration: z.coerce.number().int().min(-1).optional(),
  RecordingStatus: z.string().max(40).optional(),
});

const twiml = (res: Response, xml: string) => res.type('text/xml').send(xml);

/** The Twilio Voice webhooks: every route is signature-verified, validated, and calls one service function. */
export function voiceWebhooks(settings: TwilioWebhookSettings, voice: VoiceService, calls: CallControlService): Router {
  const router = Router();
  const verified = verifyTwilioSignature(settings);

  router.post(voicePaths.incoming, verified, async (req, res, next) => {
    try {
      const params = parseOrThrow(incomingCall, req.body, 'body');
      const answer = await voice.answerIncomingCall({ callSid: params.CallSid, from: params.From, to: params.To });
      twiml(res, answer.twiml);
    } catch (error) {
      next(error);
    }
  });

  router.post(voicePaths.menu, verified, async (req, res, next) => {
    try {
      const params = parseOrThrow(menuChoice, req.body, 'body');
      const query = parseOrThrow(menuQuery, req.query, 'query');
      const answer = await voice.chooseFromMenu({ callSid: params.CallSid, to: params.To, digits: params.Digits, attempt: query.attempt });
      twiml(res, answer.twiml);
    } catch (error) {
      next(error);
    }
  });

  router.post(voicePaths.wait, verified, (req, res, next) => {
    try {
      const params = parseOrThrow(waitParams, req.body, 'body');
      twiml(res, voice.waitInQueue({ position: params.QueuePosition, averageWaitSeconds: params.AvgQueueTime }));
    } catch (error) {
      next(error);
    }
  });

  router.post(voicePaths.status, verified, async (req, res, next) => {
    try {
      const params = parseOrThrow(statusCallback, req.body, 'body');
      const query = parseOrThrow(statusQuery, req.query, 'query');
      await calls.recordCallProgress({
        callSid: params.CallSid,
        status: params.CallStatus,
        sequenceNumber: params.SequenceNumber,
        timestamp: params.Timestamp,
        durationSeconds: params.CallDuration,
        interactionId: query.interactionId,
      });
      twiml(res, emptyTwiml());
    } catch (error) {
      next(error);
    }
  });

  // Both the <Record> action (answered with TwiML) and the recording status callback land here.
  router.post(voicePaths.recording, verified, async (req, res, next) => {
    try {
      const params = parseOrThrow(recordingCallback, req.body, 'body');
      const recordingSid = params.RecordingSid ?? /\/Recordings\/(RE[0-9a-fA-F]{32})/.exec(params.RecordingUrl ?? '')?.[1];
      if (!recordingSid) throw AppError.validation([{ field: 'body.RecordingSid', message: 'is required (or a RecordingUrl naming it)' }]);
      const answer = await voice.storeRecording({
        callSid: params.CallSid,
        recordingSid,
        recordingUrl: params.RecordingUrl,
        durationSeconds: params.RecordingDuration,
        status: params.RecordingStatus,
      });
      twiml(res, answer.twiml);
    } catch (error) {
      next(error);
    }
  });

  return router;
}

import { Router } from 'express';
import { verifyTwilioSignature, type TwilioWebhookSettings } from '../twilio/twilio-webhook';
import { parseOrThrow } from '../../platform/validation';
import type { InboundSmsService } from './sms-inbound.service';
import type { OutboundSmsService } from './sms-outbound.service';
import { inboundSmsSchema, smsStatusSchema } from './sms.schemas';

/** Twilio's SMS webhooks: verify the signature, validate, one domain call, answer. */
export function smsWebhooks(settings: TwilioWebhookSettings, inbound: InboundSmsService, outbound: OutboundSmsService): Router {
  const router = Router();
  const verify = verifyTwilioSignature(settings);

  router.post('/webhooks/twilio/sms', verify, async (req, res, next) => {
    try {
      const sms = parseOrThrow(inboundSmsSchema, req.body, 'body');
      const result = await inbound.recordInboundSms(sms);
      res.type('text/xml').send(result.twiml);
    } catch (error) {
      next(error);
    }
  });

  // Always 2xx once valid, even for a sid we do not know: Twilio would otherwise retry it forever.
  router.post('/webhooks/twilio/sms/status', verify, async (req, res, next) => {
    try {
      const report = parseOrThrow(smsStatusSchema, req.body, 'body');
      await outbound.recordStatus(report);
      res.status(200).end();
    } catch (error) {
      next(error);
    }
  });

  return router;
}

import type { RequestHandler } from 'express';
import twilio from 'twilio';
import { AppError } from '../../platform/errors';

export interface TwilioWebhookSettings {
  authToken?: string;
  /** The URL Twilio was given (PUBLIC_BASE_URL). Never the Host header: proxies rewrite it. */
  publicBaseUrl: string;
  /** Development-only escape hatch; config refuses it in production and start-up warns about it. */
  skipSignatureCheck: boolean;
}

/** The full URL Twilio signed for this request. */
export function signedUrl(publicBaseUrl: string, originalUrl: string): string {
  return `${publicBaseUrl.replace(/\/$/, '')}${originalUrl}`;
}

/**
 * Verifies `X-Twilio-Signature` with the SDK's own validation (HMAC-SHA1 with the auth token, or the
 * algorithm named in `X-Twilio-Webhooks-Signature-Settings`). A forged or unsigned request is
 * answered 403 before any handler runs, so nothing is stored.
 */
export function verifyTwilioSignature(settings: TwilioWebhookSettings): RequestHandler {
  return (req, _res, next) => {
    if (settings.skipSignatureCheck) return next();
    if (!settings.authToken) {
      return next(new AppError('unavailable', 'Twilio is not configured here: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN'));
    }
    const signature = req.header('x-twilio-signature');
    const algorithm = twilio.getSignatureAlgorithm(req.header('x-twilio-webhooks-signature-settings'));
    const params = (req.body ?? {}) as Record<string, string>;
    if (!signature || !twilio.validateRequest(settings.authToken, signature, signedUrl(settings.publicBaseUrl, req.originalUrl), params, algorithm)) {
      return next(new AppError('forbidden', 'Twilio signature is missing or invalid; check TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL'));
    }
    next();
  };
}

/** Signs webhook parameters exactly as Twilio does (used by the stand-in, the simulator and tests). */
export function signTwilioWebhook(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

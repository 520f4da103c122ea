import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Outbound webhook signatures, Stripe-style. Each request carries
 *   X-Switchboard-Timestamp: <unix seconds>
 *   X-Switchboard-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 * A receiver recomputes the HMAC over the raw bytes it received (before any JSON parsing), compares
 * in constant time, and refuses timestamps older (or further in the future) than a tolerance, so a
 * captured request cannot be replayed later. `verifyWebhookSignature` is that check.
 */
export const signatureHeader = 'X-Switchboard-Signature';
export const timestampHeader = 'X-Switchboard-Timestamp';
export const eventHeader = 'X-Switchboard-Event';
export const deliveryHeader = 'X-Switchboard-Delivery';

/** Default replay window for receivers: five minutes, as Stripe does. */
export const defaultToleranceSeconds = 300;

/** A new signing secret; shown to the admin once. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** The value of `X-Switchboard-Signature` for this timestamp and body. */
export function signWebhook(secret: string, timestamp: number, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

export type SignatureCheck = { valid: true } | { valid: false; reason: 'malformed' | 'mismatch' | 'too_old' | 'in_future' };

/**
 * Checks a received webhook: the signature must match the raw body and timestamp, and the timestamp
 * must lie within `toleranceSeconds` of now. Pass the headers exactly as received.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number | undefined,
  rawBody: string | Buffer,
  signature: string | undefined,
  toleranceSeconds = defaultToleranceSeconds,
  nowMs = Date.now(),
): SignatureCheck {
  const seconds = typeof timestamp === 'number' ? timestamp : /^\d{1,12}$/.test(timestamp ?? '') ? Number(timestamp) : NaN;
  if (!Number.isSafeInteger(seconds) || !signature || !/^sha256=[0-9a-f]{64}$/.test(signature)) return { valid: false, reason: 'malformed' };
  const expected = Buffer.from(signWebhook(secret, seconds, Buffer.isBuffer(rawBody) ? rawBody.toString('utf8') : rawBody));
  const given = Buffer.from(signature);
  // Check the signature before the clock, so a forger learns nothing from the answer.
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { valid: false, reason: 'mismatch' };
  const age = Math.floor(nowMs / 1000) - seconds;
  if (age > toleranceSeconds) return { valid: false, reason: 'too_old' };
  if (age < -toleranceSeconds) return { valid: false, reason: 'in_future' };
  return { valid: true };
}

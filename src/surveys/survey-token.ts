import { createHmac, timingSafeEqual } from 'node:crypto';

/** The link key for survey tokens, derived so a leaked link key does not sign login tokens. */
export function surveyLinkKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('switchboard/csat-survey-link/v1').digest();
}

function signature(surveyId: string, key: Buffer): string {
  // 128 bits: plenty against guessing, and keeps the link short enough for any mail client.
  return createHmac('sha256', key).update(surveyId).digest().subarray(0, 16).toString('base64url');
}

/** `<surveyId>.<signature>`: proves the link was made by us for that survey. */
export function signSurveyToken(surveyId: string, key: Buffer): string {
  return `${surveyId}.${signature(surveyId, key)}`;
}

/** The survey id a token was signed for, or null when it is malformed or forged. */
export function verifySurveyToken(token: string, key: Buffer): string | null {
  const match = /^([0-9a-f]{24})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) return null;
  const expected = Buffer.from(signature(match[1], key));
  const given = Buffer.from(match[2]);
  return expected.length === given.length && timingSafeEqual(expected, given) ? match[1] : null;
}

import type { CountryCode } from 'libphonenumber-js';
import { normalizePhone } from '../../customers';

/**
 * All callers without a usable caller id share one customer, found through this sender id (an
 * alphanumeric identity), so their calls are still logged, routed and searchable as a group.
 */
export const withheldCallerIdentity = 'Withheld';

// What carriers and Twilio put in `From` when the caller id is hidden or missing.
const withheldValues = new Set(['', 'anonymous', 'restricted', 'unknown', 'unavailable', 'blocked', 'private', 'withheld', '+266696687', '+86282452253', '+7378742833', '+2562533']);

export type CallerId = { kind: 'phone'; phone: string } | { kind: 'withheld'; raw: string };

/** Whether `From` can be called back; anything else is kept as given and treated as withheld. */
export function classifyCaller(from: string, defaultRegion: CountryCode): CallerId {
  const raw = from.trim();
  if (withheldValues.has(raw.toLowerCase())) return { kind: 'withheld', raw };
  // Browser softphones (client:…) and SIP addresses are not customers' phones.
  if (/^(client|sip):/i.test(raw)) return { kind: 'withheld', raw };
  const phone = normalizePhone(raw, defaultRegion);
  return phone?.kind === 'e164' ? { kind: 'phone', phone: phone.value } : { kind: 'withheld', raw };
}

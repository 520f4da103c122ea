import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

/**
 * How a phone-like address was understood. Only `e164` numbers can be dialled back reliably;
 * short codes and alphanumeric sender ids are kept verbatim so the contact is not lost, and flagged.
 */
export type PhoneKind = 'e164' | 'short_code' | 'alphanumeric';

export interface NormalizedPhone {
  value: string;
  kind: PhoneKind;
}

export type Identity = { kind: 'phone'; value: string } | { kind: 'email'; value: string };

const shortCodePattern = /^\d{3,8}$/;
// Twilio alphanumeric sender ids: 1-11 characters, letters, digits and spaces, at least one letter.
const alphanumericSenderPattern = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;

/**
 * Normalizes a phone number or sender id; returns null when it is none of the kinds we keep.
 * National numbers are read in `defaultRegion` (e.g. CN: 138 0013 8000 → +8613800138000).
 */
export function normalizePhone(raw: string, defaultRegion: CountryCode): NormalizedPhone | null {
  const trimmed = raw.trim();
  if (!trimmed) return null;
  const compact = trimmed.replace(/[\s().-]/g, '');
  if (shortCodePattern.test(compact)) return { value: compact, kind: 'short_code' };
  if (/[A-Za-z]/.test(trimmed) && !trimmed.toLowerCase().startsWith('tel:')) {
    return alphanumericSenderPattern.test(trimmed) ? { value: trimmed, kind: 'alphanumeric' } : null;
  }
  const withoutScheme = trimmed.replace(/^tel:/i, '').replace(/^00/, '+');
  const parsed = parsePhoneNumberFromString(withoutScheme, defaultRegion);
  if (!parsed || !parsed.isPossible()) return null;
  return { value: parsed.number, kind: 'e164' };
}

const emailPattern = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:"]+$/;

/** Lower-cases and trims an email address; returns null if it does not look like one. */
export function normalizeEmail(raw: string): string | null {
  const value = raw.trim().toLowerCase();
  return emailPattern.test(value) && value.length <= 254 ? value : null;
}

/**
 * The primary key of an identity document. Lookups by phone or email become primary-key reads,
 * which every MongoDB-compatible server serves from its index (FerretDB's SQLite backend pushes
 * down nothing else), and the unique `_id` makes "create if absent" atomic.
 */
export function identityKey(identity: Identity): string {
  return `${identity.kind}:${identity.value}`;
}

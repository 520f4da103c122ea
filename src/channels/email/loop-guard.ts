import { isOurAddress } from './threading';

/**
 * Decides whether an incoming email may get an automatic acknowledgement. Answering machines
 * (autoresponders, mailing lists, bounces, ourselves) would otherwise answer each other forever.
 * Follows RFC 3834 (Auto-Submitted) and the de-facto Precedence/List-* conventions.
 */
export type AcknowledgeVerdict =
  | { acknowledge: true }
  | { acknowledge: false; reason: 'auto_submitted' | 'bulk_precedence' | 'mailing_list' | 'delivery_report' | 'system_sender' | 'own_address' | 'no_sender' | 'autoresponder' };

/** Lower-cased header name → raw value (the first occurrence is enough for every rule here). */
export type HeaderRecord = Readonly<Record<string, string | undefined>>;

const systemLocalParts = /^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|auto-?reply|autoresponder)([+.-].*)?$/i;

export function shouldAcknowledge(headers: HeaderRecord, from: string | null | undefined, ourAddress: string): AcknowledgeVerdict {
  const header = (name: string) => headers[name]?.trim() ?? '';
  const autoSubmitted = header('auto-submitted').toLowerCase();
  if (autoSubmitted && !/^no\b/.test(autoSubmitted)) return { acknowledge: false, reason: 'auto_submitted' };
  if (/^(bulk|junk|list|auto_reply)\b/i.test(header('precedence'))) return { acknowledge: false, reason: 'bulk_precedence' };
  if (header('list-id') || header('list-unsubscribe')) return { acknowledge: false, reason: 'mailing_list' };
  // Microsoft Exchange and several autoresponders mark themselves this way instead of Auto-Submitted.
  if (header('x-autoreply') || header('x-autorespond') || /^(oof|autoreply|all)\b/i.test(header('x-auto-response-suppress'))) {
    return { acknowledge: false, reason: 'autoresponder' };
  }
  const contentType = header('content-type').toLowerCase();
  if (/^multipart\/report\b/.test(contentType) || /^message\/(delivery-status|disposition-notification)\b/.test(contentType) || /\breport-type\s*=/.test(contentType)) {
    return { acknowledge: false, reason: 'delivery_report' };
  }
  const sender = from?.trim().toLowerCase() ?? '';
  if (!sender || !sender.includes('@')) return { acknowledge: false, reason: 'no_sender' };
  if (isOurAddress(sender, ourAddress)) return { acknowledge: false, reason: 'own_address' };
  if (systemLocalParts.test(sender.slice(0, sender.lastIndexOf('@')))) return { acknowledge: false, reason: 'system_sender' };
  return { acknowledge: true };
}

/** Builds the lookup `shouldAcknowledge` reads from raw header lines (`Key: value`, maybe folded). */
export function headerRecord(lines: ReadonlyArray<{ key: string; line: string }>): HeaderRecord {
  // No prototype: a hostile header named `__proto__` or `constructor` is just a name here.
  const record: Record<string, string> = Object.create(null);
  for (const { key, line } of lines) {
    const name = key.toLowerCase();
    if (name in record) continue;
    const colon = line.indexOf(':');
    record[name] = (colon >= 0 ? line.slice(colon + 1) : '').replace(/\r?\n[ \t]+/g, ' ').trim();
  }
  return record;
}

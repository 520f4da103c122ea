/**
 * Pure helpers that decide which conversation an email belongs to. An email can name its thread in
 * three ways, tried in this order by the inbound service: Message-IDs in In-Reply-To/References
 * (ours or the customer's earlier mail), a reply token in a plus-addressed recipient
 * (`support+<token>@domain`), and a `[#SB-7F3A2C]` tag in the subject.
 */

// Longer ids are hashed by the caller rather than stored as keys; real ones are far shorter.
export const maxMessageIdLength = 250;
// A References header can list hundreds of ids in a long thread; the newest few are enough.
const maxReferenceCandidates = 20;
// In-Reply-To names one message (a few clients list two or three).
const maxInReplyToCandidates = 5;
// Tokens and subject tags looked up per email; a real reply carries one.
const maxTokensOrRefs = 5;

const messageIdPattern = /<([^<>\s]+)>/g;

/** `<abc@host>` from ` <abc@host> ` or `abc@host`; null when it is not a plausible Message-ID. */
export function normalizeMessageId(raw: string | undefined | null): string | null {
  if (!raw) return null;
  const trimmed = raw.trim();
  const bracketed = /^<([^<>\s]+)>$/.exec(trimmed);
  const inner = bracketed ? bracketed[1] : /^[^<>\s]+$/.test(trimmed) ? trimmed : null;
  if (!inner || !inner.includes('@') || inner.length + 2 > maxMessageIdLength) return null;
  // Control characters (NUL, CR, LF) never belong in an id and would poison keys built from it.
  if (/[\u0000-\u001f\u007f]/.test(inner)) return null;
  return `<${inner}>`;
}

/**
 * Message-IDs to look up, most specific first: In-Reply-To, then References newest to oldest
 * (References lists the thread oldest first). Duplicates and garbage are dropped.
 */
export function extractMessageIdCandidates(inReplyTo: string | undefined, references: string | string[] | undefined): string[] {
  const found: string[] = [];
  // Each candidate costs a lookup: a header stuffed with thousands of ids must not cost thousands.
  const add = (value: string | undefined, limit: number) => {
    for (const match of (value ?? '').matchAll(messageIdPattern)) {
      if (found.length >= limit) return;
      const id = normalizeMessageId(match[0]);
      if (id && !found.includes(id)) found.push(id);
    }
  };
  add(inReplyTo, maxInReplyToCandidates);
  const referenceList = (Array.isArray(references) ? references : [references ?? '']).flatMap((value) => [...value.matchAll(messageIdPattern)].map((match) => match[0]));
  for (const reference of referenceList.reverse().slice(0, maxReferenceCandidates)) add(reference, maxInReplyToCandidates + maxReferenceCandidates);
  return found;
}

/** Local part and domain of our support address, lower-cased (`support`, `example.com`). */
export function splitAddress(address: string): { local: string; domain: string } | null {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  return { local: address.slice(0, at).toLowerCase(), domain: address.slice(at + 1).toLowerCase() };
}

// Tokens we mint are lower-case base32 (see newReplyToken); anything else is not ours.
const replyTokenPattern = /^[a-z2-7]{16}$/;

/** Reply tokens found in recipients addressed `support+<token>@<our domain>`, in recipient order. */
export function extractReplyTokens(recipients: readonly string[], supportAddress: string): string[] {
  const support = splitAddress(supportAddress);
  if (!support) return [];
  const tokens: string[] = [];
  for (const recipient of recipients) {
    const parts = splitAddress(recipient.trim());
    if (!parts || parts.domain !== support.domain) continue;
    const [local, ...tags] = parts.local.split('+');
    const token = tags.join('+');
    if (local === support.local && replyTokenPattern.test(token) && !tokens.includes(token)) tokens.push(token);
    if (tokens.length >= maxTokensOrRefs) break;
  }
  return tokens;
}

/** `support+<token>@domain` from the configured support address. */
export function plusAddress(supportAddress: string, token: string): string {
  const parts = splitAddress(supportAddress);
  if (!parts) throw new Error('support address has no domain');
  return `${parts.local}+${token}@${parts.domain}`;
}

/** True for our support address and any of its plus variants. */
export function isOurAddress(address: string, supportAddress: string): boolean {
  const parts = splitAddress(address.trim());
  const support = splitAddress(supportAddress);
  if (!parts || !support) return false;
  return parts.domain === support.domain && parts.local.split('+')[0] === support.local;
}

const subjectRefPattern = /\[#(SB-[0-9A-F]{6})\]/gi;

/** Case references tagged `[#SB-7F3A2C]` in a subject, upper-cased, first tag first. */
export function extractSubjectRefs(subject: string | undefined): string[] {
  const refs: string[] = [];
  for (const match of (subject ?? '').matchAll(subjectRefPattern)) {
    const ref = match[1].toUpperCase();
    if (!refs.includes(ref)) refs.push(ref);
    if (refs.length >= maxTokensOrRefs) break;
  }
  return refs;
}

/** `Re: <subject>` for a reply in the thread, without stacking `Re: Re:`. */
export function replySubject(subject: string | undefined): string {
  const base = (subject ?? '').replace(/[\r\n]+/g, ' ').trim() || 'Your message';
  return /^(re|aw|sv|回复|答复)\s*[:：]/i.test(base) ? base : `Re: ${base}`;
}

/** Adds ` [#ref]` unless the subject already carries that tag. */
export function tagSubject(subject: string, ref: string): string {
  return extractSubjectRefs(subject).includes(ref.toUpperCase()) ? subject : `${subject} [#${ref}]`;
}

/**
 * The References header of a reply: the thread's ids oldest first, ending with the one replied to,
 * trimmed to the most recent few so the header stays short.
 */
export function buildReferences(threadIds: readonly string[], limit = maxReferenceCandidates): string[] {
  const unique = threadIds.filter((id, index) => threadIds.indexOf(id) === index);
  return unique.slice(-limit);
}

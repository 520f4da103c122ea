import { simpleParser, type ParsedMail } from 'mailparser';
import sanitizeHtml from 'sanitize-html';
import { truncate } from './attachment-plan';
import { addresses, cleanText } from './email-content';
import { stripQuotedReply } from './quoted-text';
import { checkRawLimits, defaultRawLimits, type RawLimits } from './raw-limits';
import { sanitizeEmailHtml } from './sanitize';

/**
 * Everything CPU-heavy about one inbound email, as a pure function of its bytes: the structure caps,
 * the MIME parse, HTML sanitizing and quote stripping. Its result is plain data (structured-clone
 * safe), so it runs the same on the main thread or in a worker of the parse pool.
 */
export interface DigestedEmail {
  messageId?: string;
  inReplyTo?: string;
  references?: string | string[];
  subject?: string;
  /** The From header's entries; undefined when there is no From header at all. */
  from?: Array<{ address?: string; name: string }>;
  to: string[];
  cc: string[];
  deliveredTo?: string;
  headerLines: Array<{ key: string; line: string }>;
  /** Display text (quoted history cut), full text, sanitized HTML. */
  text: string;
  textFull: string;
  html?: string;
  remoteImagesBlocked?: number;
  attachments: Array<{ content: Uint8Array; filename?: string; contentType: string; cid?: string; inline: boolean }>;
  flags: string[];
}

/** A message parsed, or why it was not (it is then kept raw only). */
export type DigestOutcome = { mail: DigestedEmail } | { mail: null; flags: string[] };

export interface DigestLimits extends RawLimits {
  /** Raw HTML characters sanitized; the rest is cut (the raw .eml keeps it) and the entry flagged. */
  maxHtmlChars: number;
}

export const defaultDigestLimits: DigestLimits = { ...defaultRawLimits, maxHtmlChars: 1_000_000 };

// An interaction is one document (16 MB on MongoDB) holding every entry of the thread; bodies
// beyond these sizes stay readable in the raw .eml, and the entry is flagged `body_truncated`.
const maxTextChars = 100_000;
const maxStoredHtmlChars = 300_000;

export async function digestEmail(raw: Buffer | Uint8Array, limits: DigestLimits = defaultDigestLimits): Promise<DigestOutcome> {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const over = checkRawLimits(bytes, limits);
  if (over.length) return { mail: null, flags: ['unparseable', 'over_limits', ...over] };
  const mail = await parseEmail(bytes);
  if (!mail) return { mail: null, flags: ['unparseable'] };
  return { mail: digestParsed(mail, limits) };
}

/** Parses leniently; null when the parser gives up (the caller flags and keeps the raw). */
async function parseEmail(raw: Buffer): Promise<ParsedMail | null> {
  try {
    return await simpleParser(raw, {
      // cid: images stay references to our stored attachments instead of inlined data: URIs.
      keepCidLinks: true,
      skipImageLinks: true,
      // html → text conversion is done on the sanitized HTML below, bounded; the parser's own is not.
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      checksumAlgo: 'sha256',
    });
  } catch {
    return null;
  }
}

function digestParsed(mail: ParsedMail, limits: DigestLimits): DigestedEmail {
  const flags = new Set<string>();
  const fullHtml = typeof mail.html === 'string' ? mail.html : '';
  const rawHtml = fullHtml.length > limits.maxHtmlChars ? fullHtml.slice(0, limits.maxHtmlChars) : fullHtml;
  if (rawHtml.length < fullHtml.length) flags.add('html_over_cap').add('body_truncated');
  const sanitized = rawHtml ? sanitizeEmailHtml(rawHtml) : undefined;
  if (sanitized?.remoteImagesBlocked) flags.add('remote_content_blocked');
  if (/[\u0000]/.test(mail.text ?? '') || /[\u0000]/.test(rawHtml) || /[\u0000]/.test(mail.subject ?? '')) flags.add('nul_bytes');

  const fullText = cleanText(mail.text ?? (sanitized ? htmlToText(sanitized.html) : ''));
  const full = truncate(fullText, maxTextChars);
  const display = truncate(stripQuotedReply(full.text), maxTextChars);
  const html = sanitized ? truncate(sanitized.html, maxStoredHtmlChars) : undefined;
  if (full.truncated || html?.truncated) flags.add('body_truncated');
  const deliveredTo = mail.headers.get('delivered-to');

  return {
    ...(mail.messageId ? { messageId: mail.messageId } : {}),
    ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo } : {}),
    ...(mail.references ? { references: mail.references } : {}),
    ...(mail.subject !== undefined ? { subject: mail.subject } : {}),
    ...(mail.from ? { from: mail.from.value.map((entry) => ({ ...(entry.address ? { address: entry.address } : {}), name: entry.name ?? '' })) } : {}),
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    ...(typeof deliveredTo === 'string' ? { deliveredTo } : {}),
    headerLines: mail.headerLines.map(({ key, line }) => ({ key, line })),
    text: display.text,
    textFull: full.text,
    ...(html ? { html: html.text } : {}),
    ...(sanitized ? { remoteImagesBlocked: sanitized.remoteImagesBlocked } : {}),
    attachments: mail.attachments.map((attachment) => ({
      content: attachment.content,
      ...(attachment.filename ? { filename: attachment.filename } : {}),
      contentType: attachment.contentType || 'application/octet-stream',
      ...(attachment.cid ? { cid: attachment.cid } : {}),
      inline: attachment.contentDisposition === 'inline' || attachment.related === true,
    })),
    flags: [...flags],
  };
}

/** Plain text of sanitized HTML, for emails that have no text part. */
function htmlToText(html: string): string {
  const withBreaks = html.replace(/<(br|\/p|\/div|\/tr|\/li|\/h[1-6])\b[^>]*>/gi, '\n');
  const text = sanitizeHtml(withBreaks, { allowedTags: [], allowedAttributes: {} });
  return text
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    // Last, so `&amp;lt;` becomes the text `&lt;` rather than `<`.
    .replace(/&amp;/g, '&')
    .split('\n')
    .map(trimTrailingBlanks)
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

// By hand: the regex `[ \t]+\n` rescans every run of blanks from each of its positions (quadratic).
function trimTrailingBlanks(line: string): string {
  let end = line.length;
  while (end > 0 && (line[end - 1] === ' ' || line[end - 1] === '\t')) end -= 1;
  return line.slice(0, end);
}

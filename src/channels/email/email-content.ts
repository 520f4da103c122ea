import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import sanitizeHtml from 'sanitize-html';
import type { AttachmentMeta } from '../../interactions/interaction.model';
import { displayFilename, planAttachments, truncate, type AttachmentCaps } from './attachment-plan';
import type { AttachmentStore } from './attachment-store';
import { stripQuotedReply } from './quoted-text';
import { sanitizeEmailHtml } from './sanitize';

/**
 * Turns a parsed email into what an entry stores: display text, full text, sanitized HTML and
 * attachment files with their metadata. Everything here tolerates garbage (the raw .eml is kept
 * elsewhere, so whatever cannot be understood is flagged, never fatal).
 */

// An interaction is one document (16 MB on MongoDB) holding every entry of the thread; bodies
// beyond these sizes stay readable in the raw .eml, and the entry is flagged `body_truncated`.
const maxTextChars = 100_000;
const maxHtmlChars = 300_000;

/** Parses leniently; null when the parser gives up (the caller flags and keeps the raw). */
export async function parseEmail(raw: Buffer): Promise<ParsedMail | null> {
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

export interface EmailContent {
  text: string;
  data: Record<string, unknown>;
  attachments: AttachmentMeta[];
  flags: string[];
}

/** Removes NUL and other control characters that have no place in stored text (tabs and newlines stay). */
export function cleanText(value: string): string {
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}

/** Header text for one line: control characters gone, line breaks and tabs folded to spaces (no smuggled headers). */
export function oneLine(value: string): string {
  return cleanText(value.replace(/[\r\n\t]+/g, ' ')).replace(/ {2,}/g, ' ').trim();
}

export function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = Array.isArray(field) ? field : field ? [field] : [];
  const flat = objects.flatMap((object) => object.value.flatMap((entry) => [entry, ...(entry.group ?? [])]));
  return flat.flatMap((entry) => (entry.address ? [cleanText(entry.address).slice(0, 254)] : []));
}

export async function extractContent(mail: ParsedMail, store: AttachmentStore, caps: AttachmentCaps): Promise<EmailContent> {
  const flags = new Set<string>();
  const rawHtml = typeof mail.html === 'string' ? mail.html : '';
  const sanitized = rawHtml ? sanitizeEmailHtml(rawHtml) : undefined;
  if (sanitized?.remoteImagesBlocked) flags.add('remote_content_blocked');
  if (/[\u0000]/.test(mail.text ?? '') || /[\u0000]/.test(rawHtml) || /[\u0000]/.test(mail.subject ?? '')) flags.add('nul_bytes');

  const fullText = cleanText(mail.text ?? (sanitized ? htmlToText(sanitized.html) : ''));
  const full = truncate(fullText, maxTextChars);
  const display = truncate(stripQuotedReply(full.text), maxTextChars);
  const html = sanitized ? truncate(sanitized.html, maxHtmlChars) : undefined;
  if (full.truncated || html?.truncated) flags.add('body_truncated');

  const decisions = planAttachments(
    mail.attachments.map((attachment) => attachment.content.length),
    caps,
  );
  const stored: Record<string, unknown>[] = [];
  const attachments: AttachmentMeta[] = [];
  for (const [index, attachment] of mail.attachments.entries()) {
    const decision = decisions[index];
    const name = displayFilename(attachment.filename);
    const contentType = oneLine(attachment.contentType || 'application/octet-stream').slice(0, 200);
    const size = attachment.content.length;
    const attachmentFlags: string[] = [];
    if (size === 0) attachmentFlags.push('empty');
    let file: { sha256: string; path: string } | undefined;
    if (decision === 'store') file = await store.put('files', attachment.content);
    else attachmentFlags.push(decision);
    stored.push({
      ...(name ? { name } : {}),
      contentType,
      size,
      ...(file ? { sha256: file.sha256, path: file.path } : {}),
      ...(attachment.cid ? { contentId: oneLine(attachment.cid).slice(0, 250) } : {}),
      inline: attachment.contentDisposition === 'inline' || attachment.related === true,
      ...(attachmentFlags.length ? { flags: attachmentFlags } : {}),
    });
    attachments.push({ ...(name ? { name } : {}), contentType, size, ...(file ? { url: `attachment:${file.sha256}` } : {}) });
    if (decision !== 'store') flags.add('attachment_over_cap');
    if (size === 0) flags.add('empty_attachment');
  }

  return {
    text: display.text,
    data: {
      textFull: full.text,
      ...(html ? { html: html.text } : {}),
      ...(sanitized ? { remoteImagesBlocked: sanitized.remoteImagesBlocked } : {}),
      ...(stored.length ? { attachments: stored } : {}),
    },
    attachments,
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
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

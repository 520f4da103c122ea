import type { AddressObject } from 'mailparser';
import type { AttachmentMeta } from '../../interactions/interaction.model';
import { displayFilename, planAttachments, type AttachmentCaps } from './attachment-plan';
import type { AttachmentStore } from './attachment-store';
import type { DigestedEmail } from './email-digest';

/**
 * Turns a parsed email into what an entry stores: display text, full text, sanitized HTML and
 * attachment files with their metadata. Everything here tolerates garbage (the raw .eml is kept
 * elsewhere, so whatever cannot be understood is flagged, never fatal).
 */

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

/** Stores a digested email's attachments and assembles what its entry keeps. */
export async function extractContent(mail: DigestedEmail, store: AttachmentStore, caps: AttachmentCaps): Promise<EmailContent> {
  const flags = new Set<string>(mail.flags);
  const decisions = planAttachments(
    mail.attachments.map((attachment) => attachment.content.byteLength),
    caps,
  );
  const stored: Record<string, unknown>[] = [];
  const attachments: AttachmentMeta[] = [];
  for (const [index, attachment] of mail.attachments.entries()) {
    const decision = decisions[index];
    const name = displayFilename(attachment.filename);
    const contentType = oneLine(attachment.contentType).slice(0, 200);
    const size = attachment.content.byteLength;
    const attachmentFlags: string[] = [];
    if (size === 0) attachmentFlags.push('empty');
    let file: { sha256: string; path: string } | undefined;
    if (decision === 'store') file = await store.put('files', Buffer.from(attachment.content.buffer, attachment.content.byteOffset, size));
    else attachmentFlags.push(decision);
    stored.push({
      ...(name ? { name } : {}),
      contentType,
      size,
      ...(file ? { sha256: file.sha256, path: file.path } : {}),
      ...(attachment.cid ? { contentId: oneLine(attachment.cid).slice(0, 250) } : {}),
      inline: attachment.inline,
      ...(attachmentFlags.length ? { flags: attachmentFlags } : {}),
    });
    attachments.push({ ...(name ? { name } : {}), contentType, size, ...(file ? { url: `attachment:${file.sha256}` } : {}) });
    if (decision !== 'store') flags.add('attachment_over_cap');
    if (size === 0) flags.add('empty_attachment');
  }

  return {
    text: mail.text,
    data: {
      // Only when the quote cut took something: the same text twice doubles what the thread's document carries.
      ...(mail.textFull !== mail.text ? { textFull: mail.textFull } : {}),
      ...(mail.html !== undefined ? { html: mail.html } : {}),
      ...(mail.remoteImagesBlocked !== undefined ? { remoteImagesBlocked: mail.remoteImagesBlocked } : {}),
      ...(stored.length ? { attachments: stored } : {}),
    },
    attachments,
    flags: [...flags],
  };
}

import type { Readable } from 'node:stream';
import { AppError } from '../platform/errors';
import type { Entry } from './interaction.types';
import type { InteractionService } from './interaction.service';

/** The content-addressed attachment store (channels' AttachmentStore), as downloads use it. */
export interface StoredFileReader {
  open(relative: string): Promise<{ stream: Readable; size: number } | null>;
}

export interface AttachmentDownload {
  contentType: string;
  filename: string;
  size: number;
  stream: Readable;
}

const extensions: Record<string, string> = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/gif': '.gif',
  'image/webp': '.webp',
  'image/heic': '.heic',
  'video/mp4': '.mp4',
  'video/3gpp': '.3gp',
  'audio/amr': '.amr',
  'audio/mpeg': '.mp3',
  'text/vcard': '.vcf',
  'text/x-vcard': '.vcf',
  'application/pdf': '.pdf',
};

/**
 * Where the file of attachment `index` is stored, from what the channel recorded: downloaded SMS
 * media carry `path` on the attachment itself; email attachments carry it in the entry's
 * `data.attachments` (same order), with the digest in the attachment's `attachment:<sha256>` url.
 */
export function storedPathOf(entry: Entry, index: number): string | null {
  const attachment = entry.attachments?.[index];
  if (!attachment) return null;
  if (attachment.path) return attachment.path;
  const digest = attachment.sha256 ?? /^attachment:([0-9a-f]{64})$/.exec(attachment.url ?? '')?.[1];
  const stored = (entry.data?.attachments as unknown[] | undefined)?.[index] as { sha256?: unknown; path?: unknown } | undefined;
  return digest && stored?.sha256 === digest && typeof stored.path === 'string' ? stored.path : null;
}

/** Downloads of files customers sent with a contact (email attachments, SMS/MMS media). */
export class EntryAttachments {
  constructor(
    private readonly interactions: InteractionService,
    private readonly files: StoredFileReader,
  ) {}

  async open(interactionId: string, entryId: string, index: number): Promise<AttachmentDownload> {
    const interaction = await this.interactions.getInteraction(interactionId);
    const entry = interaction.entries?.find((candidate) => candidate.id === entryId);
    if (!entry) throw AppError.notFound('Entry', entryId);
    const relative = storedPathOf(entry, index);
    const file = relative ? await this.files.open(relative) : null;
    // Metadata only (over a cap, an untrusted or not yet downloaded media URL), or a file gone from disk.
    if (!file) throw AppError.notFound('Stored attachment', `${entryId}/${index}`);
    const attachment = entry.attachments![index];
    const filename = attachment.name ?? `attachment-${index + 1}${extensions[attachment.contentType.split(';')[0].trim().toLowerCase()] ?? ''}`;
    return { contentType: attachment.contentType, filename, size: file.size, stream: file.stream };
  }
}

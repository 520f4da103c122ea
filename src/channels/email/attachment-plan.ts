/**
 * Which attachments of one email are stored as files. Each is capped and so is their total; one
 * over a cap keeps its metadata and a flag (the raw .eml still holds it, so nothing is lost).
 */
export interface AttachmentCaps {
  perAttachmentBytes: number;
  totalBytes: number;
}

export type AttachmentDecision = 'store' | 'over_attachment_cap' | 'over_total_cap';

/** Decides in message order, so the first attachments are the ones kept when the total runs out. */
export function planAttachments(sizes: readonly number[], caps: AttachmentCaps): AttachmentDecision[] {
  let total = 0;
  return sizes.map((size) => {
    if (size > caps.perAttachmentBytes) return 'over_attachment_cap';
    if (total + size > caps.totalBytes) return 'over_total_cap';
    total += size;
    return 'store';
  });
}

/**
 * A sender's filename as shown to agents: decoded already (RFC 2231/2047, by the parser), without
 * control characters or directory parts, bounded in length. Never used as a path.
 */
export function displayFilename(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const cleaned = raw
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .split(/[\\/]/)
    .pop()!
    .trim()
    .slice(0, 255);
  return cleaned || undefined;
}

/** Cuts `text` to `max` characters; says whether it did. */
export function truncate(text: string, max: number): { text: string; truncated: boolean } {
  return text.length > max ? { text: text.slice(0, max), truncated: true } : { text, truncated: false };
}

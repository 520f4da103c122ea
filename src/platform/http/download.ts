import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Response } from 'express';

const mediaTypePattern = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

/** `attachment; filename="…"; filename*=UTF-8''…`: an ASCII fallback plus the exact name (RFC 6266). */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** A media type reduced to `type/subtype` in lower case (parameters dropped); null when it is not one. */
export function parseMediaType(raw: string | undefined): string | null {
  const type = raw?.split(';')[0].trim().toLowerCase();
  return type && mediaTypePattern.test(type) ? type : null;
}

/** A sender-supplied media type reduced to `type/subtype`, or octet-stream when it is not one. */
export function safeContentType(raw: string | undefined): string {
  return parseMediaType(raw) ?? 'application/octet-stream';
}

/**
 * Streams a stored file as a download: always `attachment` and `nosniff`, so a browser never renders
 * what a customer sent (HTML, SVG) inside our origin; never cached by shared caches. Serves every
 * stored download: interaction attachments and task attachments.
 */
export async function sendDownload(res: Response, file: { contentType: string; filename: string; size: number; stream: Readable }): Promise<void> {
  res.setHeader('Content-Type', safeContentType(file.contentType));
  res.setHeader('Content-Disposition', contentDisposition(file.filename));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'private, no-store');
  res.setHeader('Content-Length', String(file.size));
  res.status(200);
  try {
    await pipeline(file.stream, res);
  } catch (error) {
    // A client that hangs up mid-download is not our error; pipeline has closed both ends already.
    if (!res.headersSent) throw error;
  }
}

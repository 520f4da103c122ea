export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSegmentCount {
  encoding: SmsEncoding;
  /** Billable parts the carrier splits the text into (0 for an empty text). */
  segments: number;
  /** Septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
}

// GSM 03.38 basic character set (one septet each) and its extension table (escape + char: two).
const gsmBasic = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const gsmExtension = new Set('\f^{}\\[~]|€');

/** Greedy split that never cuts a multi-unit character (GSM escape pair, UTF-16 surrogate pair) in two. */
function countParts(sizes: number[], single: number, perPart: number): number {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (total === 0) return 0;
  if (total <= single) return 1;
  let parts = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > perPart) {
      parts += 1;
      used = 0;
    }
    used += size;
  }
  return parts;
}

/**
 * How a text will be encoded and how many segments it costs: GSM-7 fits 160 septets in one segment
 * and 153 per segment when concatenated (the user-data header takes 7); any character outside
 * GSM-7 switches the whole text to UCS-2, 70 code units alone or 67 per concatenated segment.
 */
export function smsSegments(text: string): SmsSegmentCount {
  const chars = [...text];
  if (chars.every((char) => gsmBasic.has(char) || gsmExtension.has(char))) {
    const sizes = chars.map((char) => (gsmExtension.has(char) ? 2 : 1));
    return { encoding: 'GSM-7', segments: countParts(sizes, 160, 153), units: sizes.reduce((sum, size) => sum + size, 0) };
  }
  const sizes = chars.map((char) => char.length);
  return { encoding: 'UCS-2', segments: countParts(sizes, 70, 67), units: text.length };
}

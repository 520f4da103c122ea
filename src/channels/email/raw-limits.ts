/**
 * One linear pass over an email's bytes before any parser sees them: structure past these caps
 * (thousands of headers or MIME parts, millions of lines) is how a small message makes a parser or
 * a sanitizer work for seconds. A message over a cap is not parsed at all: it is stored raw and
 * flagged, so nothing is lost and an agent can still open the original.
 */
export interface RawLimits {
  /** Header fields in the top-level header block. */
  maxHeaders: number;
  /** Bytes of the top-level header block. */
  maxHeaderBytes: number;
  /** MIME parts (boundary delimiter lines of declared boundaries). */
  maxParts: number;
  /** Lines in the whole message (25 MB of base64 is ~340k lines). */
  maxLines: number;
}

export const defaultRawLimits: RawLimits = { maxHeaders: 1_000, maxHeaderBytes: 256_000, maxParts: 500, maxLines: 500_000 };

export type RawLimitFlag = 'too_many_headers' | 'headers_too_large' | 'too_many_parts' | 'too_many_lines';

const boundaryParameter = /boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))/i;

/** The caps this message passes, as flags (empty when it is within all of them). */
export function checkRawLimits(raw: Buffer, limits: RawLimits = defaultRawLimits): RawLimitFlag[] {
  const flags = new Set<RawLimitFlag>();
  const boundaries = new Set<string>();
  let lines = 0;
  let headers = 0;
  let inTopHeaders = true;
  let parts = 0;
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf(0x0a, start);
    if (end < 0) end = raw.length;
    lines += 1;
    if (lines > limits.maxLines) {
      flags.add('too_many_lines');
      break;
    }
    const lineEnd = end > start && raw[end - 1] === 0x0d ? end - 1 : end;
    const first = raw[start];
    if (inTopHeaders) {
      if (lineEnd === start) inTopHeaders = false;
      else if (first !== 0x20 && first !== 0x09) headers += 1;
      if (headers > limits.maxHeaders) flags.add('too_many_headers');
      if (end >= limits.maxHeaderBytes && inTopHeaders) {
        flags.add('headers_too_large');
        inTopHeaders = false;
      }
    }
    // Only lines that can matter are decoded: delimiters start with `--`, parameters mention boundary.
    if (first === 0x2d && raw[start + 1] === 0x2d && boundaries.size) {
      let candidate = raw.toString('latin1', start + 2, Math.min(lineEnd, start + 210)).trimEnd();
      if (candidate.endsWith('--') && !boundaries.has(candidate)) candidate = candidate.slice(0, -2);
      if (boundaries.has(candidate)) {
        parts += 1;
        if (parts > limits.maxParts) flags.add('too_many_parts');
      }
    } else if (lineEnd - start < 2_000 && hasBoundaryWord(raw, start, lineEnd)) {
      const match = boundaryParameter.exec(raw.toString('latin1', start, lineEnd));
      const boundary = match?.[1] ?? match?.[2];
      if (boundary) boundaries.add(boundary);
    }
    start = end + 1;
  }
  return [...flags];
}

const boundaryWord = Buffer.from('oundary');

// Searched within the line's own view: `raw.indexOf(word, start)` would scan to the end of the
// message for every line without the word (quadratic).
function hasBoundaryWord(raw: Buffer, start: number, end: number): boolean {
  return raw.subarray(start, end).indexOf(boundaryWord) >= 0;
}

/**
 * The top-level header lines (`{ key, line }`, folded lines joined), read from at most `maxBytes`
 * of the message without a parser: what a message that is never parsed still tells us (its
 * Message-ID for idempotency, its loop-guard headers).
 */
export function readTopHeaderLines(raw: Buffer, maxBytes = 64_000, maxHeaders = 200): Array<{ key: string; line: string }> {
  const text = raw.toString('latin1', 0, Math.min(raw.length, maxBytes));
  const end = text.search(/\r?\n\r?\n/);
  const block = end >= 0 ? text.slice(0, end) : text;
  const result: Array<{ key: string; line: string }> = [];
  for (const line of block.split(/\r?\n/)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && result.length) {
      result[result.length - 1].line += `\r\n${line}`;
      continue;
    }
    if (result.length >= maxHeaders) break;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    result.push({ key: line.slice(0, colon).trim().toLowerCase(), line });
  }
  return result;
}

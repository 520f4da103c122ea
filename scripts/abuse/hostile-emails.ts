/**
 * Emails built to cost a receiver as much as possible per byte: each targets one expensive step of
 * inbound mail (quoted-text stripping, MIME parsing, HTML sanitizing, header handling). Every one is
 * well under the 25 MB size limit, so a listener cannot refuse it by size alone. Used by the abuse
 * row of `npm run bench` and by the security tests; deterministic, so runs compare.
 */

export interface HostileEmail {
  /** Short id used in reports and message ids. */
  kind: string;
  /** What it attacks. */
  attacks: string;
  build(messageId: string, from: string, to: string): Buffer;
}

const crlf = '\r\n';

function headers(messageId: string, from: string, to: string, subject: string, contentType: string): string {
  return [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `Message-ID: <${messageId}>`,
    'Date: Mon, 07 Dec 2026 10:00:00 +0800',
    'MIME-Version: 1.0',
    `Content-Type: ${contentType}`,
  ].join(crlf);
}

/** The finding of issue 12: ~127 KB of alternating quoted and unquoted lines (a quadratic stripper took 26 s). */
export function quotedLinesBody(bytes = 127 * 1024): string {
  const lines: string[] = [];
  let size = 0;
  for (let index = 0; size < bytes; index += 1) {
    const line = index % 2 === 0 ? '> a' : 'a';
    lines.push(line);
    size += line.length + 2;
  }
  return lines.join(crlf);
}

function plain(messageId: string, from: string, to: string, subject: string, body: string): Buffer {
  return Buffer.from(`${headers(messageId, from, to, subject, 'text/plain; charset=utf-8')}${crlf}${crlf}${body}${crlf}`);
}

function html(messageId: string, from: string, to: string, subject: string, body: string): Buffer {
  return Buffer.from(`${headers(messageId, from, to, subject, 'text/html; charset=utf-8')}${crlf}${crlf}${body}${crlf}`);
}

export const hostileEmails: readonly HostileEmail[] = [
  {
    kind: 'quoted-lines',
    attacks: 'quoted-reply stripping (127 KB of alternating "> a" / "a" lines)',
    build: (id, from, to) => plain(id, from, to, 'Re: my car', quotedLinesBody()),
  },
  {
    kind: 'nested-html',
    attacks: 'HTML sanitizing and HTML-to-text (40,000 nested <div>s, ~440 KB)',
    build: (id, from, to) => html(id, from, to, 'Nested', `<html><body>${'<div>'.repeat(40_000)}x${'</div>'.repeat(40_000)}</body></html>`),
  },
  {
    kind: 'tag-soup',
    attacks: 'HTML sanitizing (30,000 unclosed tags with attributes and positioning styles, ~2 MB)',
    build: (id, from, to) =>
      html(id, from, to, 'Soup', Array.from({ length: 30_000 }, (_, index) => `<p class="c${index}" style="position:fixed;top:0;left:${index}px">w ${index}`).join('\n')),
  },
  {
    kind: 'many-headers',
    attacks: 'header parsing (10,000 headers)',
    build: (id, from, to) => {
      const extra = Array.from({ length: 10_000 }, (_, index) => `X-Filler-${index}: ${'v'.repeat(40)}`).join(crlf);
      return Buffer.from(`${headers(id, from, to, 'Headers', 'text/plain; charset=utf-8')}${crlf}${extra}${crlf}${crlf}hello${crlf}`);
    },
  },
  {
    kind: 'many-parts',
    attacks: 'MIME parsing and attachment handling (5,000 small attachments)',
    build: (id, from, to) => {
      const boundary = 'b0undary';
      const parts = Array.from(
        { length: 5_000 },
        (_, index) => `--${boundary}${crlf}Content-Type: application/octet-stream${crlf}Content-Disposition: attachment; filename="f${index}.bin"${crlf}Content-Transfer-Encoding: base64${crlf}${crlf}AAAA${crlf}`,
      ).join('');
      return Buffer.from(`${headers(id, from, to, 'Parts', `multipart/mixed; boundary="${boundary}"`)}${crlf}${crlf}--${boundary}${crlf}Content-Type: text/plain${crlf}${crlf}see attached${crlf}${parts}--${boundary}--${crlf}`);
    },
  },
  {
    kind: 'deep-multipart',
    attacks: 'MIME nesting (300 levels of multipart/mixed)',
    build: (id, from, to) => {
      let body = `Content-Type: text/plain${crlf}${crlf}innermost${crlf}`;
      for (let depth = 300; depth > 0; depth -= 1) {
        const boundary = `d${depth}`;
        body = `Content-Type: multipart/mixed; boundary="${boundary}"${crlf}${crlf}--${boundary}${crlf}${body}--${boundary}--${crlf}`;
      }
      return Buffer.from(`${headers(id, from, to, 'Deep', 'text/plain').replace(/Content-Type: text\/plain$/, '')}${body}`);
    },
  },
  {
    kind: 'long-line',
    attacks: 'line handling (one 2 MB line without a break)',
    build: (id, from, to) => plain(id, from, to, 'Line', 'a '.repeat(1024 * 1024)),
  },
];

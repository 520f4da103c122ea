/**
 * Cuts the quoted history off a reply so an agent reads only what is new. Heuristic on purpose:
 * the full text is always kept beside it, so a wrong cut hides nothing for good.
 */

// Lines that start the quoted part in the mail clients our customers use (English, German, French,
// Chinese Outlook/Foxmail/QQ, Gmail's "On … wrote:" that may wrap onto two lines).
const quoteHeaderPatterns: RegExp[] = [
  /^-{2,}\s*(original message|forwarded message|原始邮件|原始郵件)\s*-{2,}\s*$/i,
  /^_{10,}\s*$/,
  /^(from|von|de|发件人|寄件者)\s*[:：].+/i,
];
const wrotePattern = /^(on|am|le|在)\s.+(wrote|schrieb|a écrit|写道)\s*[:：]\s*$/i;
const wroteStartPattern = /^(on|am|le|在)\s.+/i;
const wroteEndPattern = /(wrote|schrieb|a écrit|写道)\s*[:：]\s*$/i;

/** The new part of a reply: text above the first quote header or block of `>` lines. */
export function stripQuotedReply(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const quotedShare = suffixQuotedShare(lines);
  let cut = lines.length;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index].trim();
    const twoLines = `${line} ${lines[index + 1]?.trim() ?? ''}`;
    const startsQuote =
      quoteHeaderPatterns.some((pattern) => pattern.test(line)) ||
      wrotePattern.test(line) ||
      (wroteStartPattern.test(line) && wroteEndPattern.test(twoLines)) ||
      (line.startsWith('>') && quotedShare(index));
    // A "From:" line alone is ordinary text; it is a quote header only with a header block after it.
    if (startsQuote && (!/^(from|von|de|发件人|寄件者)\s*[:：]/i.test(line) || looksLikeHeaderBlock(lines, index))) {
      cut = index;
      break;
    }
  }
  const kept = lines.slice(0, cut).join('\n').trim();
  // A message that is all quote (a bare forward) keeps its text rather than showing nothing.
  return kept || text.trim();
}

/**
 * Whether, from line `from` on, at least 60% of the non-empty lines are `>` quotes. Counted once,
 * backwards, so the whole scan stays linear (a per-line recount made 32k alternating `> a`/`a`
 * lines take 26 s).
 */
function suffixQuotedShare(lines: string[]): (from: number) => boolean {
  const nonEmpty = new Uint32Array(lines.length + 1);
  const quoted = new Uint32Array(lines.length + 1);
  for (let index = lines.length - 1; index >= 0; index -= 1) {
    const line = lines[index].trim();
    nonEmpty[index] = nonEmpty[index + 1] + (line ? 1 : 0);
    quoted[index] = quoted[index + 1] + (line.startsWith('>') ? 1 : 0);
  }
  return (from) => quoted[from] >= nonEmpty[from] * 0.6;
}

function looksLikeHeaderBlock(lines: string[], from: number): boolean {
  const next = lines.slice(from + 1, from + 5).map((line) => line.trim());
  return next.some((line) => /^(sent|date|to|subject|gesendet|envoyé|发送时间|收件人|主题|日期)\s*[:：]/i.test(line));
}

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
  let cut = lines.length;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index].trim();
    const twoLines = `${line} ${lines[index + 1]?.trim() ?? ''}`;
    const startsQuote =
      quoteHeaderPatterns.some((pattern) => pattern.test(line)) ||
      wrotePattern.test(line) ||
      (wroteStartPattern.test(line) && wroteEndPattern.test(twoLines)) ||
      (line.startsWith('>') && restIsQuoted(lines, index));
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

function restIsQuoted(lines: string[], from: number): boolean {
  const rest = lines.slice(from).map((line) => line.trim()).filter(Boolean);
  const quoted = rest.filter((line) => line.startsWith('>')).length;
  return quoted >= rest.length * 0.6;
}

function looksLikeHeaderBlock(lines: string[], from: number): boolean {
  const next = lines.slice(from + 1, from + 5).map((line) => line.trim());
  return next.some((line) => /^(sent|date|to|subject|gesendet|envoyé|发送时间|收件人|主题|日期)\s*[:：]/i.test(line));
}

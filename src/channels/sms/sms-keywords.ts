/** What a text asks for when it is one of the carrier-standard keywords (CTIA / Twilio defaults). */
export type SmsKeyword = 'opt_out' | 'opt_in' | 'help';

const optOutWords = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
const optInWords = new Set(['START', 'UNSTOP', 'YES']);
const helpWords = new Set(['HELP']);

// Letters and digits in any script; everything else around the words is punctuation or space.
const edgeNoise = /^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu;

/**
 * Classifies a text as an opt-out, opt-in or help request, or null for an ordinary message.
 *
 * Opt-out matches on the first word ("stop please", " Stop.", "QUIT!!"), because failing to honour
 * an opt-out is the costly mistake. Opt-in and HELP must be the whole message: "yes, see you
 * tomorrow" is a reply to an agent, not a request to resubscribe, and "help, my car broke down" must
 * reach an agent rather than get the canned help text.
 */
export function classifyKeyword(body: string | undefined): SmsKeyword | null {
  const cleaned = (body ?? '').normalize('NFKC').replace(edgeNoise, '').toUpperCase();
  if (!cleaned) return null;
  const words = cleaned.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  if (optOutWords.has(words[0])) return 'opt_out';
  if (words.length !== 1) return null;
  if (optInWords.has(words[0])) return 'opt_in';
  if (helpWords.has(words[0])) return 'help';
  return null;
}

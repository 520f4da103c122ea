import { BlockList, isIP } from 'node:net';

/**
 * Whether an inbound email's From address is authenticated, read from the Authentication-Results
 * header (RFC 8601) that our own receiving MTA added. Anyone can write any From and any such header,
 * so only the topmost header carrying our MTA's authserv-id counts (an MTA prepends its header, so
 * one below it came from the sender). Authenticated means: DMARC pass for the From domain, or DKIM
 * or SPF pass for a domain aligned with it (relaxed: the same domain or a parent/child of it).
 */
export interface TrustPolicy {
  /** authserv-id of the MTA whose Authentication-Results we trust; unset = none is trusted. */
  trustedAuthservId?: string;
  /** Addresses of that MTA (EMAIL_TRUSTED_RELAYS): only its sessions, or SMTP-AUTH ones, carry a header we believe. */
  trustedRelays?: BlockList;
  /** Whether unauthenticated mail is restricted (no joining by tag/token, no task changes). */
  enforce: boolean;
}

export type SenderVerdict = 'authenticated' | 'unauthenticated' | 'not_checked';

/**
 * The policy for a deployment: enforced whenever a trusted MTA is configured, and in production
 * always (then, without one, no mail is authenticated). Development, test and the demo without the
 * setting keep trusting From, as before.
 */
export function trustPolicy(nodeEnv: string, trustedAuthservId: string | undefined, trustedRelays: readonly string[] = []): TrustPolicy {
  return {
    ...(trustedAuthservId ? { trustedAuthservId } : {}),
    ...(trustedRelays.length ? { trustedRelays: blockListOf(trustedRelays) } : {}),
    enforce: Boolean(trustedAuthservId) || nodeEnv === 'production',
  };
}

/** The SMTP client that handed us the message: its address, and whether it signed in with SMTP AUTH. */
export interface SmtpClient {
  address?: string;
  authenticated?: boolean;
}

/**
 * Whether the message came from our MTA, so that the Authentication-Results it carries was written
 * there: a client that connected directly could write the same header with our authserv-id.
 */
export function fromTrustedRelay(policy: TrustPolicy, client: SmtpClient): boolean {
  if (client.authenticated) return true;
  if (!client.address || !policy.trustedRelays) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(client.address);
  const address = mapped ? mapped[1] : client.address;
  return policy.trustedRelays.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

export function senderVerdict(policy: TrustPolicy, headerLines: ReadonlyArray<{ key: string; line: string }>, fromAddress: string | null, client: SmtpClient): SenderVerdict {
  if (!policy.enforce) return 'not_checked';
  if (!policy.trustedAuthservId || !fromAddress || !fromTrustedRelay(policy, client)) return 'unauthenticated';
  const fromDomain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1).toLowerCase();
  const ours = policy.trustedAuthservId.toLowerCase();
  for (const { key, line } of headerLines) {
    if (key.toLowerCase() !== 'authentication-results') continue;
    const results = parseAuthenticationResults(line.slice(line.indexOf(':') + 1));
    if (results?.authservId !== ours) continue;
    return results.methods.some((method) => passesAligned(method, fromDomain)) ? 'authenticated' : 'unauthenticated';
  }
  return 'unauthenticated';
}

interface MethodResult {
  method: string;
  result: string;
  properties: Record<string, string>;
}

/** `authserv-id; method=result ptype.prop=value …; …`, comments removed; null when it is not one. */
export function parseAuthenticationResults(value: string): { authservId: string; methods: MethodResult[] } | null {
  // Bounded: a real header is a few hundred bytes; a giant one is not worth reading.
  let text = value.slice(0, 8_000).replace(/\r?\n[ \t]+/g, ' ');
  for (let depth = 0; depth < 4 && text.includes('('); depth += 1) text = text.replace(/\([^()]*\)/g, ' ');
  const [head, ...rest] = text.split(';');
  const authservId = head.trim().split(/\s+/)[0]?.toLowerCase();
  if (!authservId) return null;
  const methods: MethodResult[] = [];
  for (const segment of rest) {
    const tokens = segment.trim().split(/\s+/).filter(Boolean);
    const first = /^([a-z0-9-]+)=([a-z]+)$/i.exec(tokens[0] ?? '');
    if (!first) continue;
    const properties: Record<string, string> = Object.create(null);
    for (const token of tokens.slice(1)) {
      const property = /^([a-z]+\.[a-z0-9-]+)=(.+)$/i.exec(token);
      if (property) properties[property[1].toLowerCase()] = property[2].replace(/^"|"$/g, '').toLowerCase();
    }
    methods.push({ method: first[1].toLowerCase(), result: first[2].toLowerCase(), properties });
  }
  return { authservId, methods };
}

function passesAligned({ method, result, properties }: MethodResult, fromDomain: string): boolean {
  if (result !== 'pass') return false;
  const domainOf = (value: string | undefined) => (value ? value.slice(value.lastIndexOf('@') + 1) : undefined);
  if (method === 'dmarc') {
    // A DMARC pass says nothing about our From unless it names the domain it was evaluated for.
    const headerFrom = properties['header.from'];
    return Boolean(headerFrom) && aligned(domainOf(headerFrom)!, fromDomain);
  }
  if (method === 'dkim') {
    const signer = properties['header.d'] ?? domainOf(properties['header.i']);
    return Boolean(signer) && aligned(signer!, fromDomain);
  }
  if (method === 'spf') {
    const envelope = domainOf(properties['smtp.mailfrom']) ?? properties['smtp.helo'];
    return Boolean(envelope) && aligned(envelope!, fromDomain);
  }
  return false;
}

/** Relaxed alignment without a public-suffix list: equal, or one a subdomain of the other (never a bare TLD). */
function aligned(domain: string, fromDomain: string): boolean {
  const a = domain.toLowerCase().replace(/\.$/, '');
  const b = fromDomain.toLowerCase().replace(/\.$/, '');
  if (!a.includes('.') || !b.includes('.')) return false;
  return a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
}

function blockListOf(items: readonly string[]): BlockList {
  const list = new BlockList();
  for (const item of items) {
    const [address, prefix] = item.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

/**
 * Where outbound webhooks may connect. An admin (or a stolen admin key) must not turn the webhook
 * sender into a way to reach the inside: loopback, private networks, link-local (cloud metadata at
 * 169.254.169.254), CGNAT and the like are refused. The check runs on every address a name resolves
 * to, at connect time (the agent's `lookup`), so a name that resolves to a public address when the
 * webhook is configured and to 127.0.0.1 later (DNS rebinding) is refused too.
 */
export interface WebhookTargetPolicy {
  /** NODE_ENV=production: only https:// URLs. */
  httpsOnly: boolean;
  /** Tests and development machines whose receiver is on 127.0.0.1 (WEBHOOK_ALLOW_PRIVATE_TARGETS; refused in production). */
  allowPrivateTargets: boolean;
}

// [first address, prefix length] of IPv4 ranges that are not the public internet.
const forbiddenV4: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // CGNAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

const v4ToNumber = (address: string): number => address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
const forbiddenV4Ranges = forbiddenV4.map(([first, bits]) => ({ start: v4ToNumber(first), size: 2 ** (32 - bits) }));

function forbiddenV4Number(value: number): boolean {
  return forbiddenV4Ranges.some((range) => value >= range.start && value < range.start + range.size);
}

/** The 16 bytes of an IPv6 address (with `::` and a dotted IPv4 tail), or null. */
function v6Bytes(address: string): number[] | null {
  let text = address.split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    if (!net.isIPv4(dotted[1])) return null;
    const n = v4ToNumber(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${((n >>> 16) & 0xffff).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const bytes: number[] = [];
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    const value = parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return bytes;
}

function forbiddenV6(bytes: number[]): boolean {
  const embeddedV4 = ((bytes[12] << 24) >>> 0) + (bytes[13] << 16) + (bytes[14] << 8) + bytes[15];
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((byte) => byte === 0);
  if (zeros(0, 12)) return true; // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return true; // IPv4-mapped: never a webhook target
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zeros(4, 12)) return forbiddenV4Number(embeddedV4); // NAT64
  // 6to4 (2002::/16) carries an IPv4 address in bytes 2–5, which a relay would connect to.
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return forbiddenV4Number(((bytes[2] << 24) >>> 0) + (bytes[3] << 16) + (bytes[4] << 8) + bytes[5]);
  if (bytes[0] === 0x20 && bytes[1] === 0x01 && bytes[2] === 0x00 && bytes[3] === 0x00) return true; // 2001::/32 Teredo: a tunnel, never a webhook receiver
  if ((bytes[0] & 0xfe) === 0xfc) return true; // fc00::/7 unique local
  if (bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0x80) return true; // fe80::/10 link-local
  if (bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0xc0) return true; // fec0::/10 old site-local
  if (bytes[0] === 0xff) return true; // multicast
  if (bytes[0] === 0x20 && bytes[1] === 0x01 && bytes[2] === 0x0d && bytes[3] === 0xb8) return true; // 2001:db8::/32 documentation
  if (bytes[0] === 0x01 && zeros(1, 8)) return true; // 100::/64 discard
  return false;
}

/** True when a webhook must not connect to this IP address (anything that is not an IP is refused too). */
export function isForbiddenAddress(address: string): boolean {
  if (net.isIPv4(address)) return forbiddenV4Number(v4ToNumber(address));
  if (net.isIPv6(address)) {
    const bytes = v6Bytes(address);
    return bytes === null || forbiddenV6(bytes);
  }
  return true;
}

/** The host of a URL without IPv6 brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * What is wrong with a webhook URL under the policy, as a message for the `url` field, or null.
 * Checked when a webhook is configured and again at each send; names are checked at connect time.
 */
export function webhookUrlProblem(raw: string, policy: WebhookTargetPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http:// or https:// URL';
  if (policy.httpsOnly && url.protocol !== 'https:') return 'must be an https:// URL in production (the receiver must have TLS)';
  if (policy.allowPrivateTargets) return null;
  // `localhost.` is `localhost`: a trailing dot must not slip past the name check.
  const host = hostOf(url).toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'must not point at a loopback or private address (localhost)';
  if (net.isIP(host) && isForbiddenAddress(host)) return 'must not point at a loopback, private, link-local or metadata address';
  return null;
}

/** Raised when a name resolves to an address the policy refuses; the delivery fails without retries. */
export class ForbiddenTargetError extends Error {
  readonly code = 'EWEBHOOKTARGET';
  constructor() {
    super('webhook target resolves to a forbidden address');
  }
}

/**
 * A `lookup` for http(s) agents that resolves as usual and refuses the connection when any of the
 * addresses is forbidden (all are checked, so a mix of public and private does not slip through).
 */
export const guardedLookup: net.LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const list = addresses as dns.LookupAddress[];
    if (!list.length || list.some((entry) => isForbiddenAddress(entry.address))) return callback(new ForbiddenTargetError() as NodeJS.ErrnoException, '', 0);
    if ((options as dns.LookupOptions).all) return (callback as unknown as (err: null, all: dns.LookupAddress[]) => void)(null, list);
    callback(null, list[0].address, list[0].family);
  });
};

export interface WebhookPost {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** The receiver's answer is read up to this many bytes, then the connection is cut. */
  maxResponseBytes: number;
}

/**
 * POSTs a webhook under the policy: the URL checked again (it may predate the policy), IP literals
 * checked here (no lookup runs for them), names checked at connect time; no redirects followed;
 * at most `maxResponseBytes` of the answer read. Resolves with the status code.
 */
export function postWebhook(raw: string, post: WebhookPost, policy: WebhookTargetPolicy): Promise<{ statusCode: number }> {
  const problem = webhookUrlProblem(raw, policy);
  if (problem) return Promise.reject(new ForbiddenTargetError());
  const url = new URL(raw);
  const client = url.protocol === 'https:' ? https : http;
  // A fresh agent per delivery: its lookup is ours, and no pooled socket to an old address is reused.
  const agent = new client.Agent({ keepAlive: false, ...(policy.allowPrivateTargets ? {} : { lookup: guardedLookup }) });
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, statusCode?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      agent.destroy();
      if (error) reject(error);
      else resolve({ statusCode: statusCode! });
    };
    const request = client.request(url, { method: 'POST', agent, headers: { ...post.headers, 'content-length': String(Buffer.byteLength(post.body)) } }, (response) => {
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > post.maxResponseBytes) {
          // Enough: the status is what counts; the rest is never read.
          response.destroy();
          finish(null, response.statusCode ?? 0);
        }
      });
      response.on('end', () => finish(null, response.statusCode ?? 0));
      response.on('error', (error) => finish(error));
      response.on('close', () => finish(null, response.statusCode ?? 0));
    });
    const timer = setTimeout(() => {
      const timeout = new Error(`timeout after ${post.timeoutMs} ms`);
      timeout.name = 'TimeoutError';
      request.destroy(timeout);
      finish(timeout);
    }, post.timeoutMs);
    request.on('error', (error) => finish(error));
    request.end(post.body);
  });
}

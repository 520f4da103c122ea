import { isIP } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { isTimeZone } from './zoned-time';
import { redisUrlProblem } from './redis-url';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js';

/**
 * The only place that reads `process.env`. Values come from the environment first, then from
 * `config/default.json`; the merged result is validated once and frozen.
 */
const durationPattern = /^\d+(ms|s|m|h|d)$/;
/** A rate limit: `<count>/<window>`, e.g. `600/60s` or `10/15m`. */
const rateLimitPattern = /^[1-9]\d*\/[1-9]\d*(ms|s|m|h|d)$/;

const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']),
  PORT: z.coerce.number().int().min(0).max(65535),
  SMTP_PORT: z.coerce.number().int().min(0).max(65535),
  HOST: z.string().min(1),
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\/.+/, 'must be a mongodb:// or mongodb+srv:// URI'),
  /** redis://, rediss://, or redis+sentinel://host:26379[,host2…]/masterName[/db] (see redis-url.ts). */
  REDIS_URL: z.string().superRefine((url, ctx) => {
    const problem = redisUrlProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  REDIS_KEY_PREFIX: z.string().min(1).max(40),
  PUBLIC_BASE_URL: z.url({ message: 'must be an absolute URL, the address Twilio calls' }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  DEFAULT_PHONE_REGION: z
    .string()
    .refine((region) => isSupportedCountry(region), 'must be an ISO 3166-1 alpha-2 region, e.g. CN or US')
    .transform((region) => region as CountryCode),
  // Signing key for login tokens; required (no default) outside demo and test runs.
  AUTH_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  AUTH_TOKEN_TTL: z.string().regex(durationPattern, 'must look like 30m, 12h or 7d'),
  /** How long a node reuses a user it read to authenticate; changes that end sessions clear every node's copy at once (Redis), so this bounds a lost message only; 0s reads every time. */
  AUTH_USER_CACHE_TTL: z.string().regex(durationPattern, 'must look like 5s or 0s').default('5s'),
  /** Requests per signed-in user or API key on the authenticated API, e.g. `600/60s`; `off` for none. */
  API_RATE_LIMIT: z.string().regex(/^([1-9]\d*\/[1-9]\d*(ms|s|m|h|d)|off)$/, 'must look like 600/60s, or off').default('600/60s'),
  /** Failed logins allowed for one account from one address (IP) in the window. */
  AUTH_LOGIN_LIMIT_PER_ACCOUNT_IP: z.string().regex(rateLimitPattern, 'must look like 10/15m').default('10/15m'),
  /** Failed logins allowed for one account from all addresses together; larger, so one address cannot lock an agent out. */
  AUTH_LOGIN_LIMIT_PER_ACCOUNT: z.string().regex(rateLimitPattern, 'must look like 100/15m').default('100/15m'),
  /** Failed logins allowed from one address over all accounts (password spraying). */
  AUTH_LOGIN_LIMIT_PER_IP: z.string().regex(rateLimitPattern, 'must look like 100/15m').default('100/15m'),
  /**
   * Password checks (argon2) running at once in one process; past it logins answer 503 with
   * Retry-After. Each takes a thread of libuv's pool (4 by default), which file reads and DNS lookups
   * share: 2 leaves them room, and ~50 sign-ins a second per node.
   */
  AUTH_MAX_CONCURRENT_HASHES: z.coerce.number().int().min(1).max(256).default(2),
  ROLES: z
    .string()
    .transform((roles) => roles.split(',').map((role) => role.trim()))
    .pipe(z.array(z.enum(['all', 'api', 'smtp', 'worker'])).min(1)),
  DEMO: z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .transform((flag) => flag === '1' || flag === 'true'),
  DEMO_CUSTOMERS: z.coerce.number().int().min(0).max(100_000).default(1000),
  /** Simulated calls, texts and emails per minute while the demo runs; 0 turns the traffic off. */
  DEMO_TRAFFIC_PER_MINUTE: z.coerce.number().min(0).max(6000).default(12),
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits').optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16).optional(),
  /** Where the twilio SDK sends REST calls; unset means api.twilio.com. Tests and the demo point it at the stand-in. */
  TWILIO_API_BASE_URL: z.url().optional(),
  /** Development only: accept unsigned Twilio webhooks. Refused in production; warned about at start. */
  UNSAFE_SKIP_TWILIO_SIGNATURE: z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .transform((flag) => flag === '1' || flag === 'true'),
  /** For browser softphone tokens (Twilio Voice JS SDK); optional. */
  TWILIO_API_KEY_SID: z.string().regex(/^SK[0-9a-fA-F]{32}$/, 'must look like SK followed by 32 hex digits').optional(),
  TWILIO_API_KEY_SECRET: z.string().min(16).optional(),
  TWILIO_TWIML_APP_SID: z.string().regex(/^AP[0-9a-fA-F]{32}$/, 'must look like AP followed by 32 hex digits').optional(),
  /** Our Twilio numbers (E.164, comma separated); the first sends SMS and places outbound calls. */
  TWILIO_NUMBERS: z.string().default(''),
  /** Texts from one customer within this window join the open SMS conversation. */
  SMS_CONVERSATION_WINDOW: z.string().regex(durationPattern, 'must look like 30m, 12h or 7d').default('30m'),
  /** Address customers write to; replies go out from it, with plus-address reply tokens. */
  SUPPORT_EMAIL: z.email({ message: 'must be an email address' }).default('support@switchboard.local'),
  /** Largest inbound email accepted by the SMTP listener, in bytes; bigger ones get 552. */
  EMAIL_MAX_BYTES: z.coerce.number().int().min(10_000).max(100_000_000).default(25_000_000),
  /** STARTTLS on the SMTP listener: PEM key and certificate files (both or neither), read at start. */
  SMTP_TLS_KEY_FILE: z.string().min(1).optional(),
  SMTP_TLS_CERT_FILE: z.string().min(1).optional(),
  /** SMTP AUTH (PLAIN/LOGIN), required of every client when set (both or neither). */
  SMTP_AUTH_USERNAME: z.string().min(1).max(200).optional(),
  SMTP_AUTH_PASSWORD: z.string().min(12, 'must be at least 12 characters').max(200).optional(),
  /** Refuse MAIL until the client has issued STARTTLS (needs the TLS files). */
  SMTP_REQUIRE_TLS: z.enum(['0', '1', 'true', 'false']).default('false').transform((flag) => flag === '1' || flag === 'true'),
  /** Time one inbound email may spend being parsed and sanitized in a worker; past it the email is kept raw, flagged parse_timeout. */
  EMAIL_PARSE_TIMEOUT: z.string().regex(durationPattern, 'must look like 500ms, 5s or 1m').default('5s'),
  /** Worker threads that parse inbound email (started on demand). */
  EMAIL_PARSE_WORKERS: z.coerce.number().int().min(1).max(32).default(2),
  /** Emails up to this many bytes are parsed on the main thread (cheaper than the hop to a worker); 0 sends all to workers. */
  EMAIL_PARSE_INLINE_BYTES: z.coerce.number().int().min(0).max(1_000_000).default(4_096),
  /** SMTP clients connected at once (all addresses); more get 421. */
  SMTP_MAX_CLIENTS: z.coerce.number().int().min(1).max(10_000).default(100),
  /** SMTP connections at once from one IP address, across all nodes (Redis); more get 421. Raise it for your MX relays. */
  SMTP_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).max(10_000).default(20),
  /** Messages (MAIL commands) from one IP address per SMTP_MESSAGE_RATE_WINDOW, across all nodes; more get 451 (retry later). */
  SMTP_MAX_MESSAGES_PER_IP: z.coerce.number().int().min(1).max(1_000_000).default(300),
  SMTP_MESSAGE_RATE_WINDOW: z.string().regex(durationPattern, 'must look like 1m or 1h').default('1m'),
  /** An SMTP connection silent this long is closed. */
  SMTP_IDLE_TIMEOUT: z.string().regex(durationPattern, 'must look like 30s or 1m').default('60s'),
  /** Longest an SMTP connection may last, however busy (a client trickling bytes cannot hold a slot forever). */
  SMTP_SESSION_TIMEOUT: z.string().regex(durationPattern, 'must look like 5m or 10m').default('10m'),
  /** authserv-id of our receiving MTA, whose topmost Authentication-Results header decides whether From is authenticated; unauthenticated mail joins no thread by tag or reply token and changes no task. Unset: production treats all mail as unauthenticated, development/test trust From. */
  EMAIL_TRUSTED_AUTHSERV_ID: z.string().min(1).max(255).optional(),
  /**
   * Addresses (IPs or CIDR ranges, comma separated) of the MTAs that relay mail to our listener: only
   * their sessions (or SMTP-AUTH sessions) may carry an Authentication-Results header we believe;
   * anyone else connecting directly could write one.
   */
  EMAIL_TRUSTED_RELAYS: z
    .string()
    .default('')
    .transform((list) => list.split(',').map((item) => item.trim()).filter(Boolean))
    .refine((items) => items.every(isAddressOrRange), 'must be IP addresses or CIDR ranges, comma separated, e.g. 10.0.0.5,10.1.0.0/16'),
  /**
   * Which reverse proxies may set X-Forwarded-For (the client address used by the login limits):
   * `off` (no proxy: the connection's address counts), a hop count, or addresses/ranges and the names
   * loopback, linklocal, uniquelocal (comma separated). Trusting more lets clients choose their address.
   */
  TRUST_PROXY: z
    .string()
    .default('off')
    .refine((value) => value === 'off' || /^\d{1,2}$/.test(value) || value.split(',').every((item) => ['loopback', 'linklocal', 'uniquelocal'].includes(item.trim()) || isAddressOrRange(item.trim())), 'must be off, a hop count, or addresses/ranges and loopback, linklocal, uniquelocal'),
  /**
   * Caps on one stored interaction document (MongoDB refuses documents over 16 MB): past either, a
   * conversation continues in a new linked document. 4 MB leaves room for later entry updates
   * (delivery reports, prepared headers) and keeps each read of a part cheap.
   */
  INTERACTION_MAX_ENTRIES: z.coerce.number().int().min(2).max(10_000).default(200),
  INTERACTION_MAX_BYTES: z.coerce.number().int().min(16_384).max(12_000_000).default(4_194_304),
  /**
   * Most refs a customer's timeline head document holds; past it the oldest move to archive pages
   * (`customer_timeline_pages`) until half remain, so the first page, screen pop, matcher and reports
   * (100 at most) read the head alone, whose size no longer grows with the customer's history.
   * At least 40: half of it plus the 3 newest of each of the 6 channels, always kept, must fit.
   */
  TIMELINE_HEAD_ITEMS: z.coerce.number().int().min(40).max(5_000).default(200),
  /** Largest inbound MMS media file downloaded from Twilio into the attachment store; bigger ones are flagged, not stored. */
  SMS_MEDIA_MAX_BYTES: z.coerce.number().int().min(1_000).max(100_000_000).default(20_000_000),
  /** Where attachment files are kept (a folder; use shared storage when running several nodes). */
  ATTACHMENTS_DIR: z.string().min(1).default('.data/attachments'),
  EMAIL_ACKNOWLEDGE: z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .transform((flag) => flag === '1' || flag === 'true'),
  /** Outbound task webhooks: time allowed per attempt, tries in all, and the first backoff (doubled each retry). */
  WEBHOOK_TIMEOUT: z.string().regex(durationPattern, 'must look like 500ms, 10s or 1m').default('10s'),
  WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
  WEBHOOK_RETRY_DELAY: z.string().regex(durationPattern, 'must look like 500ms, 15s or 1m').default('15s'),
  /** Tests and development only: let outbound webhooks reach loopback and private addresses. Refused in production. */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .transform((flag) => flag === '1' || flag === 'true'),
  /** How long a customer's YES/NO answer to "is it solved?" is taken as the answer to that task. */
  TASK_VERIFICATION_WINDOW: z.string().regex(durationPattern, 'must look like 12h or 7d').default('7d'),
  /** The task outbox: an event not confirmed delivered after the grace is redelivered by any node's dispatcher, which looks every interval. */
  TASK_OUTBOX_GRACE: z.string().regex(durationPattern, 'must look like 30s or 1m').default('30s'),
  TASK_OUTBOX_INTERVAL: z.string().regex(durationPattern, 'must look like 10s or 500ms').default('10s'),
  /** Share of a task's SLA (business time) after which its owner is warned. */
  SLA_WARN_RATIO: z.coerce.number().gt(0).lt(1).default(0.75),
  /** Tests only: multiplies SLA job delays (0.01 fires a 1-minute SLA in 0.6 s); due times stay real. */
  SLA_TIME_SCALE: z.coerce.number().gt(0).max(1).default(1),
  SMTP_OUT_URL: z.string().regex(/^smtps?:\/\/.+/, 'must be an smtp:// or smtps:// URL').optional(),
  SMTP_FROM: z.string().min(3).optional(),
  /** CSAT surveys after agent-handled contacts (SMS "reply 1-5", email links). */
  CSAT_ENABLED: z.enum(['0', '1', 'true', 'false']).default('true').transform((flag) => flag === '1' || flag === 'true'),
  /** Wait after the contact is completed before the survey goes out. */
  CSAT_DELAY: z.string().regex(durationPattern, 'must look like 200ms, 5m or 1h').default('5m'),
  /** How long after sending an answer still counts. */
  CSAT_WINDOW: z.string().regex(durationPattern, 'must look like 12h or 3d').default('3d'),
  /** No surveys go out in this local span (in CSAT_TIMEZONE); `off` or empty for none. */
  CSAT_QUIET_HOURS: z.string().regex(/^(off|([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)?$/, 'must look like 21:00-09:00, or off').default('21:00-09:00'),
  CSAT_TIMEZONE: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone, e.g. Asia/Shanghai')
    .default('Asia/Shanghai'),
  // Read only by `npm run admin:create` (and setup), never by the server.
  ADMIN_EMAIL: z.email({ message: 'must be an email address' }).optional(),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  ADMIN_NAME: z.string().min(1).max(120).optional(),
  /** IANA zone whose calendar days and hours the reports and the wallboard's "today" use. */
  REPORTS_TIME_ZONE: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone, e.g. Asia/Shanghai')
    .default('Asia/Shanghai'),
  /** Callers who hang up within this many seconds are short abandons: counted apart, outside SL and abandonment. */
  REPORTS_SHORT_ABANDON_SECONDS: z.coerce.number().int().min(0).max(600).default(5),
  /** A repeat contact within this many days means the first contact did not resolve the matter (FCR). */
  REPORTS_FCR_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  /**
   * Port of the Prometheus `/metrics` listener, apart from the public API so a load balancer never
   * routes to it and smtp/worker-only processes have one too; `off` serves none, 0 picks a free port.
   */
  METRICS_PORT: z.union([z.literal('off'), z.coerce.number().int().min(0).max(65535)]).default(9464),
  /** Bind address of the metrics listener: loopback unless the scraper reaches this host over the network. */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** When set, a scrape must send `Authorization: Bearer <token>` (Prometheus: `authorization.credentials`). */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** How often the reconciler makes Redis agree with MongoDB anyway (it also runs at start and after a Redis reset). */
  RECONCILE_INTERVAL: z.string().regex(durationPattern, 'must look like 30s, 5m or 1h').default('5m'),
});

export type Config = Readonly<z.infer<typeof configSchema>>;

/** An IPv4/IPv6 address, or one with a /prefix of the right length. */
function isAddressOrRange(item: string): boolean {
  const [address, prefix, ...rest] = item.split('/');
  const version = isIP(address);
  if (!version || rest.length) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

/** Thrown at start when configuration is invalid; lists every bad variable at once. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      'Invalid configuration:\n' +
        problems.map((problem) => `  - ${problem.variable}: ${problem.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** The folder holding package.json, found from this file whether it runs from src/ or dist/. */
export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

function readDefaults(configDir: string): Record<string, unknown> {
  const file = path.join(configDir, 'default.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
}

/**
 * Builds the configuration from `env` over the defaults file. Pass `overrides` in tests instead of
 * mutating `process.env`.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Record<string, string | number | undefined> = {},
  configDir = path.join(projectRoot(), 'config'),
): Config {
  const defaults = readDefaults(configDir);
  const raw: Record<string, unknown> = { ...defaults };
  for (const key of Object.keys(configSchema.shape)) {
    const fromEnv = env[key];
    if (fromEnv !== undefined && fromEnv !== '') raw[key] = fromEnv;
    if (overrides[key] !== undefined) raw[key] = overrides[key];
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(root)'),
        message: issue.code === 'invalid_type' && raw[String(issue.path[0])] === undefined ? 'is required' : issue.message,
      })),
    );
  }
  const config = parsed.data;
  if (config.NODE_ENV === 'production' && config.DEMO) {
    throw new ConfigError([{ variable: 'DEMO', message: 'demo mode (fixed demo passwords) cannot run with NODE_ENV=production' }]);
  }
  if (config.NODE_ENV === 'production' && config.UNSAFE_SKIP_TWILIO_SIGNATURE) {
    throw new ConfigError([{ variable: 'UNSAFE_SKIP_TWILIO_SIGNATURE', message: 'cannot be on with NODE_ENV=production: webhooks must be verified' }]);
  }
  if (config.NODE_ENV === 'production' && config.WEBHOOK_ALLOW_PRIVATE_TARGETS) {
    throw new ConfigError([{ variable: 'WEBHOOK_ALLOW_PRIVATE_TARGETS', message: 'cannot be on with NODE_ENV=production: webhooks must not reach loopback or private addresses' }]);
  }
  if (!config.AUTH_TOKEN_SECRET && !config.DEMO && config.NODE_ENV !== 'test') {
    throw new ConfigError([
      { variable: 'AUTH_TOKEN_SECRET', message: 'is required: set it to a random string of 32+ characters (e.g. `openssl rand -hex 32`)' },
    ]);
  }
  const smtpProblems = smtpSecurityProblems(config);
  if (smtpProblems.length) throw new ConfigError(smtpProblems);
  return Object.freeze(config);
}

/** SMTP security settings come in pairs, and the TLS files must be readable now rather than at the first STARTTLS. */
function smtpSecurityProblems(config: z.infer<typeof configSchema>): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  const pairs = [['SMTP_TLS_KEY_FILE', 'SMTP_TLS_CERT_FILE'], ['SMTP_AUTH_USERNAME', 'SMTP_AUTH_PASSWORD']] as const;
  for (const [first, second] of pairs) {
    if (config[first] && !config[second]) problems.push({ variable: second, message: `is required when ${first} is set` });
    if (config[second] && !config[first]) problems.push({ variable: first, message: `is required when ${second} is set` });
  }
  for (const variable of ['SMTP_TLS_KEY_FILE', 'SMTP_TLS_CERT_FILE'] as const) {
    const file = config[variable];
    if (!file) continue;
    try {
      if (!fs.readFileSync(file, 'utf8').includes('-----BEGIN ')) problems.push({ variable, message: `${file} is not a PEM file` });
    } catch (error) {
      problems.push({ variable, message: `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})` });
    }
  }
  if (config.EMAIL_TRUSTED_AUTHSERV_ID && config.EMAIL_TRUSTED_RELAYS.length === 0 && !config.SMTP_AUTH_USERNAME) {
    problems.push({ variable: 'EMAIL_TRUSTED_AUTHSERV_ID', message: "needs EMAIL_TRUSTED_RELAYS (your MX's addresses) or SMTP_AUTH_*, so that a header written by a client connecting directly is not believed" });
  }
  if (config.SMTP_REQUIRE_TLS && !config.SMTP_TLS_KEY_FILE) problems.push({ variable: 'SMTP_REQUIRE_TLS', message: 'needs SMTP_TLS_KEY_FILE and SMTP_TLS_CERT_FILE' });
  return problems;
}

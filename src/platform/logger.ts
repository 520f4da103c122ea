import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Paths that may carry customer data or secrets. Logs carry ids; when a payload slips in anyway,
 * these fields are censored rather than written out.
 */
const redactedPaths = [
  'password',
  'token',
  'authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-twilio-signature"]',
  'phone',
  'email',
  'body',
  'from',
  'to',
  '*.password',
  '*.phone',
  '*.email',
  '*.body',
];

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'switchboard', ...base },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

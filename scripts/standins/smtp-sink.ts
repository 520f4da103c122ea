/**
 * A local SMTP server that receives what Switchboard sends with nodemailer, for tests and the demo
 * (real mail servers are unreachable here). Point SMTP_OUT_URL at `sink.url`. Every message is kept
 * raw and parsed; `rejectNext` makes the next deliveries fail with a chosen SMTP code.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SinkMessage {
  envelope: { mailFrom: string; rcptTo: string[] };
  raw: Buffer;
  parsed: ParsedMail;
  /** A header by lower-case name, as text (address headers as their original text). */
  header(name: string): string | undefined;
  receivedAt: Date;
}

export interface SmtpSink {
  port: number;
  /** `smtp://127.0.0.1:<port>`, for SMTP_OUT_URL. */
  url: string;
  messages: SinkMessage[];
  /** Answers the next `count` messages with `code` (e.g. 451 to test retries, 550 to test failure). */
  rejectNext(count: number, code?: number): void;
  /** Resolves with the first message (already received or arriving) that matches, or rejects after `timeoutMs`. */
  waitFor(match: (message: SinkMessage) => boolean, timeoutMs?: number): Promise<SinkMessage>;
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  port?: number;
  host?: string;
  /** Awaited after a message is kept and before it is answered 250: a test's fault at that instant (e.g. kill the database). */
  beforeAnswer?: (message: SinkMessage) => Promise<void> | void;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const waiters: { match: (message: SinkMessage) => boolean; resolve: (message: SinkMessage) => void }[] = [];
  let rejections = { count: 0, code: 451 };

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    // Accept any login, so SMTP_OUT_URL with credentials works against the sink too.
    onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.once('end', () => {
        if (rejections.count > 0) {
          rejections.count -= 1;
          const error = Object.assign(new Error(`Sink rejects this message (${rejections.code})`), { responseCode: rejections.code });
          return callback(error);
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then(async (parsed) => {
            const message: SinkMessage = {
              envelope: { mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address) },
              raw,
              parsed,
              header: (name) => {
                const line = parsed.headerLines.find((candidate) => candidate.key === name.toLowerCase())?.line;
                return line?.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
              },
              receivedAt: new Date(),
            };
            messages.push(message);
            for (const waiter of [...waiters]) {
              if (waiter.match(message)) {
                waiters.splice(waiters.indexOf(waiter), 1);
                waiter.resolve(message);
              }
            }
            const count = messages.length;
            await options.beforeAnswer?.(message);
            callback(null, `Sink accepted ${count}`);
          })
          .catch((error: Error) => callback(error));
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    port,
    url: `smtp://${options.host ?? '127.0.0.1'}:${port}`,
    messages,
    rejectNext: (count, code = 451) => {
      rejections = { count, code };
    },
    waitFor: (match, timeoutMs = 10_000) => {
      const found = messages.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (message: SinkMessage) => {
            clearTimeout(timer);
            resolve(message);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`smtp sink: no matching message within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// `node dist/scripts/standins/smtp-sink.js [port]`: a sink for the demo that prints what arrives.
if (require.main === module) {
  startSmtpSink({ port: Number(process.argv[2] ?? 2526) }).then((sink) => {
    process.stdout.write(`smtp sink listening on ${sink.url}\n`);
    setInterval(() => {
      while (sink.messages.length) {
        const message = sink.messages.shift()!;
        process.stdout.write(`received: ${message.header('message-id')} → ${message.envelope.rcptTo.join(', ')} "${message.parsed.subject ?? ''}"\n`);
      }
    }, 500);
  });
}

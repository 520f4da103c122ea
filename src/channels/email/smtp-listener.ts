import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { Logger } from '../../platform/logger';
import type { SmtpRejection } from '../../platform/metrics';
import { errorFacts } from './error-facts';
import type { SmtpClientLimits } from './smtp-limits';
import type { InboundEnvelope, ReceivedEmail } from './inbound-email.service';

/**
 * The SMTP edge: accepts mail from our MX (or any client in development), reads the message within
 * the size limit and hands the bytes to one domain call. Answers: 250 once the email is recorded
 * (also for garbage, which is stored raw and flagged), 552 for an oversized message, 451 when our
 * stores are down so the sending server retries later instead of bouncing.
 *
 * AUTH and STARTTLS are off by default: the listener is meant to sit behind the organisation's MX on
 * a private network. To expose it, pass `tls` (key/cert: STARTTLS is then offered, and AUTH is then
 * accepted only after it), `onAuth` (AUTH is then offered and required of every client) and
 * `requireTls` (MAIL is refused with 530 until the client has issued STARTTLS).
 */
export interface SmtpListenerOptions {
  port: number;
  host: string;
  maxBytes: number;
  receive(raw: Buffer, envelope: InboundEnvelope): Promise<ReceivedEmail>;
  log: Logger;
  tls?: { key: Buffer | string; cert: Buffer | string };
  onAuth?: (username: string, password: string) => Promise<boolean>;
  requireTls?: boolean;
  /** Connections at once, all clients (smtp-server answers 421 past it). */
  maxClients: number;
  /** Per-address connection and message limits (shared across nodes); 421/451 past them, so real MTAs retry. */
  clientLimits?: SmtpClientLimits;
  /** Inactivity after which a connection is closed. */
  idleTimeoutMs: number;
  /** Longest a connection may last, however active. */
  sessionTimeoutMs: number;
  /** Told of every command this listener refuses (metrics); smtp-server's own refusals (maxClients, size, AUTH required) are not seen. */
  onRejected?: (rejection: SmtpRejection) => void;
}

export interface SmtpListener {
  port: number;
  close(): Promise<void>;
}

class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startSmtpListener(options: SmtpListenerOptions): Promise<SmtpListener> {
  const { log } = options;
  const disabledCommands = [...(options.onAuth ? [] : ['AUTH']), ...(options.tls ? [] : ['STARTTLS'])];
  if (options.requireTls && !options.tls) throw new Error('requireTls needs tls (a key and certificate)');
  const limits = options.clientLimits;
  const server = new SMTPServer(observeRejections(options.onRejected, {
    size: options.maxBytes,
    // With onAuth, MAIL/RCPT/DATA before a successful AUTH get 530 from smtp-server itself.
    authOptional: !options.onAuth,
    disabledCommands,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    disableReverseLookup: true,
    maxClients: options.maxClients,
    socketTimeout: options.idleTimeoutMs,
    logger: false,
    banner: 'Switchboard',
    ...(options.onAuth
      ? {
          onAuth: (auth, session, callback) => {
            options
              .onAuth!(auth.username ?? '', auth.password ?? '')
              .then((ok) => {
                if (ok) return callback(null, { user: auth.username });
                log.info({ smtpSession: session.id }, 'smtp authentication failed');
                callback(new SmtpReply(535, 'Authentication failed'));
              })
              .catch(() => callback(new SmtpReply(454, 'Temporary authentication failure')));
          },
        }
      : {}),
    onConnect: (session, callback) => {
      if (!limits) return callback();
      limits
        .acquireConnection(session.remoteAddress, session.id)
        .then((taken) => {
          if (taken) return callback();
          log.info({ smtpSession: session.id }, 'smtp connection refused: too many from one address');
          callback(new SmtpReply(421, 'Too many connections from your address, try again later'));
        })
        .catch(() => callback(new SmtpReply(421, 'Temporary local problem, try again later')));
    },
    onClose: (session) => {
      limits?.releaseConnection(session.remoteAddress, session.id).catch((error: unknown) => log.warn({ smtpSession: session.id, ...errorFacts(error) }, 'smtp connection slot not released'));
    },
    onMailFrom: (_address, session, callback) => {
      if (options.requireTls && !session.secure) {
        log.info({ smtpSession: session.id }, 'email refused: MAIL before STARTTLS');
        return callback(new SmtpReply(530, 'Must issue a STARTTLS command first'));
      }
      if (!limits) return callback();
      limits
        .takeMessage(session.remoteAddress)
        .then((allowed) => {
          if (allowed) return callback();
          log.info({ smtpSession: session.id }, 'email deferred: message rate of one address');
          callback(new SmtpReply(451, 'Too many messages from your address, try again later'));
        })
        .catch(() => callback(new SmtpReply(451, 'Temporary local problem, please try again later')));
    },
    onData: (stream, session, callback) => {
      readLimited(stream, options.maxBytes)
        .then(async (raw) => {
          if (!raw) {
            log.info({ smtpSession: session.id, maxBytes: options.maxBytes }, 'email rejected: too large');
            return callback(new SmtpReply(552, `Message exceeds the maximum size of ${options.maxBytes} bytes`));
          }
          const received = await options.receive(raw, envelopeOf(session));
          callback(null, `Queued as ${received.entryId}`);
        })
        .catch((error: unknown) => {
          log.error({ smtpSession: session.id, ...errorFacts(error) }, 'email could not be recorded');
          callback(new SmtpReply(451, 'Temporary local problem, please try again later'));
        });
    },
  }));
  server.on('error', (error) => log.warn({ err: error }, 'smtp listener error'));
  // The idle timeout does not stop a client that trickles a byte now and then; this cap does.
  server.server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => socket.destroy(), options.sessionTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  log.info({ port }, 'smtp listening');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Reads the whole message, or drains it and answers null once it passes `maxBytes` (never buffering past it). */
function readLimited(stream: SMTPServerDataStream, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let exceeded = false;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        exceeded = true;
        chunks.length = 0;
        return;
      }
      if (!exceeded) chunks.push(chunk);
    });
    stream.once('error', reject);
    stream.once('end', () => resolve(exceeded || stream.sizeExceeded ? null : Buffer.concat(chunks, bytes)));
  });
}

function envelopeOf(session: SMTPServerSession): InboundEnvelope {
  const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  return { mailFrom, rcptTo: session.envelope.rcptTo.map((recipient) => recipient.address), clientAddress: session.remoteAddress, clientAuthenticated: Boolean(session.user) };
}

/** Wraps the command handlers so that each refusal they answer (an SmtpReply) is also told to `onRejected`. */
function observeRejections(onRejected: SmtpListenerOptions['onRejected'], handlers: SMTPServerOptions): SMTPServerOptions {
  if (!onRejected) return handlers;
  const told = (stage: SmtpRejection['stage'], error: Error | null | undefined) => {
    if (error instanceof SmtpReply) onRejected({ stage, code: error.responseCode });
  };
  const { onConnect, onAuth, onMailFrom, onData } = handlers;
  return {
    ...handlers,
    ...(onConnect ? { onConnect: (session, callback) => onConnect(session, (error) => (told('connect', error), callback(error))) } : {}),
    ...(onAuth ? { onAuth: (auth, session, callback) => onAuth(auth, session, (error, response) => (told('auth', error), callback(error, response))) } : {}),
    ...(onMailFrom ? { onMailFrom: (address, session, callback) => onMailFrom(address, session, (error) => (told('mail', error), callback(error))) } : {}),
    ...(onData ? { onData: (stream, session, callback) => onData(stream, session, (error, message) => (told('data', error), callback(error, message))) } : {}),
  };
}

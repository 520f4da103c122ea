import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';

/**
 * The only file that talks to nodemailer. The rest of the channel speaks in `OutboundEmail` and
 * `SendResult`; SMTP errors come out as `EmailSendError` with a permanent/temporary verdict.
 */
export interface OutboundEmail {
  /** Envelope sender (bounces go here) and header From may differ. */
  envelopeFrom: string;
  from: { name?: string; address: string };
  replyTo: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  messageId: string;
  inReplyTo?: string;
  references?: string[];
  automatic: boolean;
}

export interface SendResult {
  accepted: string[];
  rejected: string[];
  response: string;
  messageId: string;
}

/** A send that failed; `permanent` means retrying cannot help (5xx, no server configured). */
export class EmailSendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly responseCode?: number,
    /** The server's answer, for the entry an agent reads; may name addresses, so never logged. */
    readonly response?: string,
  ) {
    super(message);
    this.name = 'EmailSendError';
  }
}

export interface EmailSender {
  send(email: OutboundEmail): Promise<SendResult>;
  close(): void;
}

/** Sends through the SMTP server at `url` (`smtp://user:pass@host:587`, `smtps://…`), or fails clearly when unset. */
export function createEmailSender(url: string | undefined): EmailSender {
  if (!url) {
    return {
      send: async () => {
        throw new EmailSendError('SMTP_OUT_URL is not set: outbound email cannot be sent', true);
      },
      close: () => undefined,
    };
  }
  // One pooled transport per process: connections are reused across jobs.
  const transport: Transporter<SMTPTransport.SentMessageInfo> = nodemailer.createTransport(url, { pool: true, maxConnections: 4 } as never);
  return {
    async send(email) {
      try {
        const info = await transport.sendMail({
          envelope: { from: email.envelopeFrom, to: [email.to] },
          from: email.from,
          replyTo: email.replyTo,
          to: email.to,
          subject: email.subject,
          text: email.text,
          ...(email.html ? { html: email.html } : {}),
          messageId: email.messageId,
          ...(email.inReplyTo ? { inReplyTo: email.inReplyTo } : {}),
          ...(email.references?.length ? { references: email.references } : {}),
          headers: email.automatic ? { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' } : {},
          // Never let nodemailer fetch a URL or read a file named in content we pass along.
          disableFileAccess: true,
          disableUrlAccess: true,
        });
        const addresses = (list: unknown[] | undefined) => (list ?? []).map((entry) => (typeof entry === 'string' ? entry : (entry as { address: string }).address));
        return { accepted: addresses(info.accepted), rejected: addresses(info.rejected), response: info.response, messageId: info.messageId };
      } catch (error) {
        const smtp = error as { responseCode?: number; code?: string; response?: string };
        const code = smtp.responseCode;
        // 5xx is a final answer from the server; connection problems and 4xx are worth a retry.
        throw new EmailSendError(`SMTP send failed${code ? ` (${code})` : smtp.code ? ` (${smtp.code})` : ''}`, code !== undefined && code >= 500, code, smtp.response);
      }
    },
    close: () => transport.close(),
  };
}

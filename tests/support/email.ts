import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { startSmtpSink, type SmtpSink } from '../../scripts/standins/smtp-sink';
import type { EmailChannel } from '../../src/channels/email';
import type { Interaction } from '../../src/interactions';
import { startChannelTestApp, type ChannelTestApp } from './channel-app';

export { startSmtpSink, type SmtpSink };

export type SmtpOutcome = { accepted: true; response: string } | { accepted: false; responseCode?: number; response?: string };

function transportTo(port: number) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 5_000 });
}

/** Sends a composed email to the SMTP server on `port`, as a customer's mail server would. */
export async function sendEmail(port: number, message: Mail.Options): Promise<SmtpOutcome> {
  const transport = transportTo(port);
  try {
    const info = await transport.sendMail(message);
    return { accepted: true, response: info.response };
  } catch (error) {
    const smtp = error as { responseCode?: number; response?: string };
    return { accepted: false, responseCode: smtp.responseCode, response: smtp.response };
  } finally {
    transport.close();
  }
}

/** Sends bytes exactly as given (a fixture .eml), with an explicit envelope. */
export function sendRawEmail(port: number, raw: string | Buffer, envelope: { from: string; to: string[] } = { from: 'sender@example.net', to: ['support@switchboard.test'] }): Promise<SmtpOutcome> {
  return sendEmail(port, { envelope, raw });
}

/**
 * A bare SMTP conversation over a socket, for what nodemailer will not do (e.g. send DATA without
 * declaring SIZE first). Returns every reply line the server sent.
 */
export async function smtpConversation(port: number, commands: string[], data?: Buffer): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1');
  const replies: string[] = [];
  let buffer = '';
  let notify: (() => void) | undefined;
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1');
    let newline: number;
    while ((newline = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 2);
      replies.push(line);
      // The last line of a reply has a space after the code (`250 OK`, not `250-SIZE`).
      if (/^\d{3} /.test(line)) notify?.();
    }
  });
  const nextReply = () => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`smtp: no reply; got ${replies.join(' | ')}`)), 10_000);
    notify = () => {
      clearTimeout(timer);
      notify = undefined;
      resolve();
    };
  });
  await nextReply();
  for (const command of commands) {
    const reply = nextReply();
    socket.write(`${command}\r\n`);
    await reply;
    if (command === 'DATA' && data) {
      const done = nextReply();
      socket.write(data);
      socket.write('\r\n.\r\n');
      await done;
    }
  }
  socket.end();
  return replies;
}

/** Polls `probe` until it returns a value that is not undefined/null/false, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 5_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface EmailTestApp extends ChannelTestApp {
  sink: SmtpSink;
  smtpPort: number;
  supportEmail: string;
  attachmentsDir: string;
  /** The customer's email interactions, newest first, with entries. */
  emailInteractions(address: string): Promise<Interaction[]>;
}

/** The app with its SMTP listener on a free port, outbound mail going to a local sink, files in a temp folder. */
export async function startEmailTestApp(overrides: Record<string, string | number> = {}): Promise<EmailTestApp> {
  const sink = await startSmtpSink();
  const attachmentsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sb-email-'));
  const supportEmail = 'support@switchboard.test';
  const channelApp = await startChannelTestApp({ SMTP_OUT_URL: sink.url, ATTACHMENTS_DIR: attachmentsDir, SUPPORT_EMAIL: supportEmail, ...overrides });
  const { app } = channelApp;
  return {
    ...channelApp,
    sink,
    // The bound port, not the setting: SMTP_PORT may be 0 (any free port).
    smtpPort: (app.channels.find((channel) => channel.name === 'email') as EmailChannel).smtpPort() ?? app.config.SMTP_PORT,
    supportEmail,
    attachmentsDir,
    emailInteractions: async (address) => {
      const customer = await app.services.customers.findByIdentity({ email: address });
      if (!customer) return [];
      const { items } = await app.services.interactions.getTimeline(customer.id, { limit: 50, channel: 'email' });
      return Promise.all(items.map((item) => app.services.interactions.getInteraction(item.id)));
    },
    destroy: async () => {
      await channelApp.destroy();
      await sink.close();
      await fs.rm(attachmentsDir, { recursive: true, force: true });
    },
  };
}

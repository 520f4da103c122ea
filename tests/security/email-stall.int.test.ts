import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { request } from '../support/test-app';
import { eventually, sendRawEmail, smtpConversation, startEmailTestApp, type EmailTestApp } from '../support/email';
import type { Entry } from '../../src/interactions';

/** A plain-text email of alternating `> a` / `a` lines: ~127 KB, ~32k lines (issue 12, finding 1). */
function quotedLinesEmail(from: string, messageId: string): Buffer {
  const lines: string[] = [];
  for (let index = 0; index < 32_000; index += 1) lines.push(index % 2 === 0 ? '> a' : 'a');
  return Buffer.from(
    [`From: ${from}`, 'To: support@switchboard.test', 'Subject: hello', `Message-ID: ${messageId}`, 'Content-Type: text/plain; charset=utf-8', '', ...lines, ''].join('\r\n'),
  );
}

const newAddress = (label: string) => `${label}.${randomBytes(4).toString('hex')}@attacker.example`;
const newMessageId = () => `<${randomBytes(8).toString('hex')}@attacker.example>`;

async function inboundEntry(env: EmailTestApp, address: string): Promise<Entry> {
  return eventually(async () => {
    const [interaction] = await env.emailInteractions(address);
    return interaction?.entries?.find((entry) => entry.direction === 'inbound');
  }, 10_000, 'the inbound entry');
}

describe('an email cannot stall the node', () => {
  let env: EmailTestApp;

  beforeAll(async () => {
    env = await startEmailTestApp({ EMAIL_MAX_BYTES: 2_000_000 });
  });
  afterAll(() => env.destroy());

  it('when the quoted-line email arrives, then it is answered 250 within 1 s, the event loop never waits > 100 ms and /healthz stays quick', async () => {
    const from = newAddress('quotes');
    const raw = quotedLinesEmail(from, newMessageId());
    expect(raw.length).toBeGreaterThan(120_000);
    // Warm the path (first worker start, first parse) with a harmless mail big enough for the pool.
    await sendRawEmail(env.smtpPort, `From: warm@attacker.example\r\nSubject: warm\r\n\r\n${'hello\r\n'.repeat(2_000)}`);

    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    const healthTimes: number[] = [];
    let sending = true;
    const probe = (async () => {
      while (sending) {
        const started = performance.now();
        const response = await request(env.app, 'GET', '/healthz');
        healthTimes.push(performance.now() - started);
        expect(response.status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const started = performance.now();
    const outcome = await sendRawEmail(env.smtpPort, raw, { from, to: ['support@switchboard.test'] });
    const elapsed = performance.now() - started;
    const entry = await inboundEntry(env, from);
    sending = false;
    await probe;
    histogram.disable();

    expect(outcome).toMatchObject({ accepted: true });
    expect(elapsed).toBeLessThan(1_000);
    expect(histogram.max / 1e6).toBeLessThan(100);
    expect(Math.max(...healthTimes)).toBeLessThan(100);
    expect(entry.flags ?? []).not.toContain('parse_timeout');
    expect(entry.text).toContain('> a');
  });

  it('when an email has more MIME parts than the cap, then it is answered 250, never parsed, and kept raw flagged too_many_parts', async () => {
    const from = newAddress('parts');
    const parts = Array.from({ length: 600 }, (_, index) => `--p\r\nContent-Type: text/plain\r\n\r\npart ${index}\r\n`).join('');
    const raw = Buffer.from(`From: ${from}\r\nSubject: many parts\r\nMessage-ID: ${newMessageId()}\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n${parts}--p--\r\n`);
    expect(await sendRawEmail(env.smtpPort, raw, { from, to: ['support@switchboard.test'] })).toMatchObject({ accepted: true });
    const entry = await inboundEntry(env, from);
    expect(entry.flags).toEqual(expect.arrayContaining(['unparseable', 'over_limits', 'too_many_parts']));
    expect(entry.data).toMatchObject({ raw: { size: raw.length } });
  });
});

describe('an email past the parse budget', () => {
  let env: EmailTestApp;

  beforeAll(async () => {
    // A budget no real parse fits in, and every message sent to the worker pool.
    env = await startEmailTestApp({ EMAIL_MAX_BYTES: 2_000_000, EMAIL_PARSE_TIMEOUT: '1ms', EMAIL_PARSE_INLINE_BYTES: 0 });
  });
  afterAll(() => env.destroy());

  it('when parsing takes longer than EMAIL_PARSE_TIMEOUT, then the email is stored raw, flagged parse_timeout, and is still idempotent on its Message-ID', async () => {
    const from = newAddress('slow');
    const messageId = newMessageId();
    const raw = quotedLinesEmail(from, messageId);
    const outcome = await sendRawEmail(env.smtpPort, raw, { from, to: ['support@switchboard.test'] });
    expect(outcome).toMatchObject({ accepted: true });
    const entry = await inboundEntry(env, from);
    expect(entry.flags).toEqual(expect.arrayContaining(['parse_timeout']));
    expect(entry.data).toMatchObject({ messageId, raw: { size: raw.length } });

    const again = await sendRawEmail(env.smtpPort, raw, { from, to: ['support@switchboard.test'] });
    expect(again).toMatchObject({ accepted: true });
    const [interaction] = await env.emailInteractions(from);
    expect((await env.emailInteractions(from))).toHaveLength(1);
    expect(interaction.entries?.filter((candidate) => candidate.direction === 'inbound')).toHaveLength(1);
  });
});

describe('the SMTP listener limits each client address', () => {
  let env: EmailTestApp;

  beforeAll(async () => {
    env = await startEmailTestApp({ SMTP_MAX_CONNECTIONS_PER_IP: 2, SMTP_MAX_MESSAGES_PER_IP: 3, SMTP_MESSAGE_RATE_WINDOW: '1m' });
  });
  afterAll(() => env.destroy());

  it('when one address sends more messages than the limit within the window, then the next MAIL gets 451 (retry later)', async () => {
    const answers: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      const replies = await smtpConversation(env.smtpPort, ['EHLO client.example', 'MAIL FROM:<rate@attacker.example>']);
      answers.push(replies.at(-1)!);
    }
    expect(answers.slice(0, 3).every((answer) => answer.startsWith('250'))).toBe(true);
    expect(answers[3]).toMatch(/^451 /);
  });

  it('when one address holds more connections than the limit, then the next connection gets 421', async () => {
    const net = await import('node:net');
    const open = () =>
      new Promise<{ socket: import('node:net').Socket; greeting: string }>((resolve, reject) => {
        const socket = net.connect(env.smtpPort, '127.0.0.1');
        socket.once('error', reject);
        socket.once('data', (chunk) => resolve({ socket, greeting: chunk.toString('latin1') }));
      });
    const first = await open();
    const second = await open();
    const third = await open();
    try {
      expect(first.greeting).toMatch(/^220 /);
      expect(second.greeting).toMatch(/^220 /);
      expect(third.greeting).toMatch(/^421 /);
    } finally {
      for (const { socket } of [first, second, third]) socket.destroy();
    }
    // A slot frees once a connection closes.
    await eventually(async () => {
      const next = await open();
      next.socket.destroy();
      return next.greeting.startsWith('220');
    }, 3_000, 'a free connection slot');
  });
});

describe('the SMTP listener closes idle and overlong sessions', () => {
  let env: EmailTestApp;

  beforeAll(async () => {
    env = await startEmailTestApp({ SMTP_IDLE_TIMEOUT: '1s', SMTP_SESSION_TIMEOUT: '2s' });
  });
  afterAll(() => env.destroy());

  const connect = async () => {
    const net = await import('node:net');
    const socket = net.connect(env.smtpPort, '127.0.0.1');
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    return { socket, closed, opened: performance.now() };
  };

  it('when a client says nothing, then it is disconnected after the idle timeout', async () => {
    const { closed, opened } = await connect();
    const elapsed = (await closed) - opened;
    expect(elapsed).toBeGreaterThan(900);
    expect(elapsed).toBeLessThan(1_900);
  });

  it('when a client keeps the session alive with a byte now and then, then it is still disconnected at the session timeout', async () => {
    const { socket, closed, opened } = await connect();
    const keepAlive = setInterval(() => socket.writable && socket.write('NOOP\r\n'), 300);
    try {
      const elapsed = (await closed) - opened;
      expect(elapsed).toBeGreaterThan(1_900);
      expect(elapsed).toBeLessThan(3_500);
    } finally {
      clearInterval(keepAlive);
    }
  });
});

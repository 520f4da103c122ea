import nodemailer from 'nodemailer';
import { hostileEmails } from '../scripts/abuse/hostile-emails';

/**
 * The abuse row's attackers and its health probe, in processes of their own (forked by
 * bench/abuse.ts), as attackers are other machines: their CPU still shares this machine's cores,
 * but not the app's event loop, whose delay is what the row measures. One role per process:
 * `attack` runs the mail and login loops, `probe` times GET /healthz.
 */

export type AbuseRequest =
  | { type: 'attack'; seconds: number; smtpPort: number; baseUrl: string; mailClients: number; loginClients: number; loginEmails: string[]; run: string }
  | { type: 'probe'; seconds: number; baseUrl: string; intervalMs: number };

export interface AttackResult {
  mails: { sent: number; accepted: number; refused: Record<string, number>; durationsMs: number[] };
  logins: { sent: number; byStatus: Record<string, number>; durationsMs: number[] };
}

export interface ProbeResult {
  durationsMs: number[];
  failures: number;
}

export type AbuseReply = { type: 'result'; result: AttackResult | ProbeResult } | { type: 'error'; message: string };

const now = () => performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (into: Record<string, number>, key: string) => (into[key] = (into[key] ?? 0) + 1);

async function attack(request: Extract<AbuseRequest, { type: 'attack' }>): Promise<AttackResult> {
  const deadline = now() + request.seconds * 1000;
  const result: AttackResult = { mails: { sent: 0, accepted: 0, refused: {}, durationsMs: [] }, logins: { sent: 0, byStatus: {}, durationsMs: [] } };
  // Built once: the attacker's CPU should go into sending, not into making the corpus.
  const corpus = hostileEmails.map((email) => ({ kind: email.kind, template: email.build('__ID__', 'mallory@attacker.example', 'support@switchboard.local') }));
  let sequence = 0;

  const mailLoop = async (client: number) => {
    // One connection per client, no pool: like a spammer's MTA that keeps a session open.
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: request.smtpPort, secure: false, ignoreTLS: true, pool: false, connectionTimeout: 10_000, socketTimeout: 60_000 });
    try {
      for (let index = client; now() < deadline; index += request.mailClients) {
        const { template } = corpus[index % corpus.length];
        const raw = Buffer.from(template.toString('latin1').replace('__ID__', `abuse-${request.run}-${sequence++}@attacker.example`), 'latin1');
        const started = now();
        result.mails.sent += 1;
        try {
          await transport.sendMail({ envelope: { from: 'mallory@attacker.example', to: ['support@switchboard.local'] }, raw });
          result.mails.accepted += 1;
        } catch (error) {
          const code = (error as { responseCode?: number }).responseCode;
          count(result.mails.refused, code ? String(code) : 'connection');
          // A refused sender backs off a little, as a real MTA would, instead of spinning.
          await sleep(50);
        }
        result.mails.durationsMs.push(now() - started);
      }
    } finally {
      transport.close();
    }
  };

  const loginLoop = async (client: number) => {
    for (let index = client; now() < deadline; index += request.loginClients) {
      const email = request.loginEmails[index % request.loginEmails.length];
      const started = now();
      result.logins.sent += 1;
      try {
        const response = await fetch(`${request.baseUrl}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password: `wrong-password-${index}` }),
        });
        await response.arrayBuffer();
        count(result.logins.byStatus, String(response.status));
      } catch {
        count(result.logins.byStatus, 'error');
      }
      result.logins.durationsMs.push(now() - started);
    }
  };

  await Promise.all([
    ...Array.from({ length: request.mailClients }, (_, client) => mailLoop(client)),
    ...Array.from({ length: request.loginClients }, (_, client) => loginLoop(client)),
  ]);
  return result;
}

async function probe(request: Extract<AbuseRequest, { type: 'probe' }>): Promise<ProbeResult> {
  const deadline = now() + request.seconds * 1000;
  const result: ProbeResult = { durationsMs: [], failures: 0 };
  while (now() < deadline) {
    const started = now();
    try {
      const response = await fetch(`${request.baseUrl}/healthz`);
      await response.arrayBuffer();
      if (response.status === 200) result.durationsMs.push(now() - started);
      else result.failures += 1;
    } catch {
      result.failures += 1;
    }
    await sleep(request.intervalMs);
  }
  return result;
}

process.once('message', (message: AbuseRequest) => {
  const work = message.type === 'attack' ? attack(message) : probe(message);
  work
    .then((result) => process.send?.({ type: 'result', result } satisfies AbuseReply))
    .catch((error: unknown) => process.send?.({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies AbuseReply))
    .finally(() => process.disconnect?.());
});

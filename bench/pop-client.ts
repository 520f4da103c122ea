import { io as connectClient, type Socket } from 'socket.io-client';
import { postSignedWebhook } from '../scripts/simulate';

/**
 * The screen-pop bench's callers and agents, in a process of their own (forked by bench/realtime.ts
 * with an IPC channel): 200 agent sockets and the webhook sender would otherwise share the app's
 * event loop, and a pop would wait behind the bench parsing other agents' frames — in a call
 * center they sit on other machines. Both ends of every latency are measured here, on this
 * process's clock: just before the webhook POST, and the agent socket's `offer`.
 */

export type ClientRequest =
  | { type: 'connect'; url: string; agents: { id: string; token: string }[] }
  | { type: 'run'; perSecond: number; seconds: number; webhook: { baseUrl: string; publicBaseUrl: string; authToken: string; accountSid: string } }
  | { type: 'close' };

export interface RunResult {
  /** CallSid → ms from just before the POST until the webhook answered, with the answer's status. */
  calls: { callSid: string; sentAt: number; answeredMs: number; ok: boolean; failure?: string }[];
  /** interactionId → when its first offer arrived (same clock as sentAt) and how many offers it got. */
  offers: { interactionId: string; at: number; count: number }[];
  wallSeconds: number;
}

export type ClientReply = { type: 'ready' } | { type: 'result'; result: RunResult } | { type: 'error'; message: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();
const ourNumber = '+862159999999';

const sockets: Socket[] = [];
// First offer time and offer count per interaction, for the run in progress.
let offers = new Map<string, { at: number; count: number }>();
let callIndex = 0;

function send(reply: ClientReply): void {
  process.send?.(reply);
}

async function connect(url: string, agents: { id: string; token: string }[]): Promise<void> {
  for (let start = 0; start < agents.length; start += 20) {
    await Promise.all(
      agents.slice(start, start + 20).map(async ({ token }) => {
        const socket = connectClient(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        });
        socket.on('offer', (event: { data: { reservation: { id: string; interactionId: string } } }) => {
          const { id: reservationId, interactionId } = event.data.reservation;
          const seen = offers.get(interactionId);
          offers.set(interactionId, { at: seen?.at ?? now(), count: (seen?.count ?? 0) + 1 });
          // Accept and complete at once: capacity frees for the next call, as on a busy floor.
          void (async () => {
            const accepted = (await socket.timeout(30_000).emitWithAck('offer:accept', { reservationId })) as { ok: boolean };
            if (accepted.ok) await socket.timeout(30_000).emitWithAck('work:complete', { interactionId });
          })().catch(() => undefined);
        });
        const answer = (await socket.timeout(10_000).emitWithAck('state:set', { state: 'available' })) as { ok: boolean };
        if (!answer.ok) throw new Error(`bench agent could not go available: ${JSON.stringify(answer)}`);
        sockets.push(socket);
      }),
    );
  }
}

/** Open loop: call i is sent at start + i / rate, whether or not earlier ones were answered. */
async function run(request: Extract<ClientRequest, { type: 'run' }>): Promise<RunResult> {
  offers = new Map();
  const calls: RunResult['calls'] = [];
  const total = Math.round(request.perSecond * request.seconds);
  const began = now();
  const inflight: Promise<void>[] = [];
  for (let index = 0; index < total; index += 1) {
    const due = began + (index * 1000) / request.perSecond;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    callIndex += 1;
    const callSid = `CA${Date.now().toString(16).padStart(16, '0')}${callIndex.toString(16).padStart(16, '0')}`;
    const phone = `+86138${String(10_000_000 + callIndex).slice(-8)}`;
    const sentAt = now();
    inflight.push(
      (async () => {
        try {
          const response = await postSignedWebhook(request.webhook, '/webhooks/twilio/voice', {
            CallSid: callSid, AccountSid: request.webhook.accountSid, From: phone, To: ourNumber, CallStatus: 'ringing', Direction: 'inbound',
          });
          const text = await response.text();
          const ok = response.status === 200 && text.includes('<Enqueue');
          calls.push({ callSid, sentAt, answeredMs: now() - sentAt, ok, ...(ok ? {} : { failure: `HTTP ${response.status}` }) });
        } catch (error) {
          calls.push({ callSid, sentAt, answeredMs: now() - sentAt, ok: false, failure: (error as Error).message });
        }
      })(),
    );
  }
  await Promise.all(inflight);
  // Offers still on their way get a moment; a call never offered counts as missing, not as fast.
  const deadline = now() + 20_000;
  while (offers.size < total && now() < deadline) await sleep(50);
  return { calls, offers: [...offers].map(([interactionId, { at, count }]) => ({ interactionId, at, count })), wallSeconds: (now() - began) / 1000 };
}

process.on('message', (request: ClientRequest) => {
  const handle = async (): Promise<ClientReply | undefined> => {
    if (request.type === 'connect') {
      await connect(request.url, request.agents);
      return { type: 'ready' };
    }
    if (request.type === 'run') return { type: 'result', result: await run(request) };
    for (const socket of sockets) socket.disconnect();
    process.exit(0);
  };
  handle().then(
    (reply) => reply && send(reply),
    (error: Error) => send({ type: 'error', message: error.message }),
  );
});

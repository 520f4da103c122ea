import { io, type Socket } from 'socket.io-client';
import { ApiError } from './api';
import type { UserEvent } from './types';

export type ConnectionStatus = 'connecting' | 'online' | 'reconnecting' | 'offline';

type Listener = (payload: any) => void;

/** Events logged per user on the server: they carry ordered ids and come back in a replay. */
const userEvents = new Set(['offer', 'offer_ended', 'assigned', 'state', 'task_created', 'task_updated', 'interaction_updated']);

/** Stream ids are `<ms>-<seq>`: compare numerically, part by part. */
export function eventIdAfter(candidate: string, last: string | null): boolean {
  if (!last) return true;
  const [ms, seq] = candidate.split('-').map(Number);
  const [lastMs, lastSeq] = last.split('-').map(Number);
  return ms > lastMs || (ms === lastMs && seq > lastSeq);
}

/**
 * One Socket.IO connection per signed-in tab. It remembers the last user event it applied and
 * names it on every reconnect, so the server replays what was missed (or sends a snapshot when its
 * log no longer reaches back); events already applied are dropped, so nothing is applied twice.
 * Screens subscribe with `on`; `resync` fires after every reconnect so they can refetch REST views.
 */
export class Realtime {
  private readonly socket: Socket;
  private readonly listeners = new Map<string, Set<Listener>>();
  private lastEventId: string | null = null;
  private everConnected = false;
  private statusValue: ConnectionStatus = 'connecting';

  constructor(token: string, private readonly onUnauthenticated: () => void) {
    this.socket = io({
      // The websocket transport only: nodes behind a balancer need no sticky sessions then.
      transports: ['websocket'],
      // Read on every (re)connect, so the server always learns where this tab stopped.
      auth: (send) => send({ token, ...(this.lastEventId ? { lastEventId: this.lastEventId } : {}) }),
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
      timeout: 8_000,
    });
    this.socket.on('connect', () => {
      const reconnect = this.everConnected;
      this.everConnected = true;
      this.setStatus('online');
      if (reconnect) this.fire('resync', null);
    });
    this.socket.on('disconnect', (reason) => {
      // The server dropped us (e.g. a disabled account): socket.io will not retry by itself.
      if (reason === 'io server disconnect') this.socket.connect();
      this.setStatus(navigator.onLine ? 'reconnecting' : 'offline');
    });
    this.socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
      if (error.data?.code === 'unauthenticated') {
        this.close();
        this.onUnauthenticated();
        return;
      }
      // A refusal by the server's handshake (it could not check the sign-in) is not retried by
      // socket.io itself, unlike a network failure.
      if (error.data?.code && !this.socket.active) setTimeout(() => this.socket.connect(), 2_000);
      this.setStatus(navigator.onLine ? 'reconnecting' : 'offline');
    });
    window.addEventListener('offline', this.browserOffline);
    window.addEventListener('online', this.browserOnline);

    this.socket.on('replay', (replay: { events: (UserEvent & { event: string })[]; complete: boolean }) => {
      for (const event of replay.events) this.applyUserEvent(event.event, event);
      // With a gap the snapshot that follows rebuilds the desk; other views refetch.
      if (!replay.complete) this.fire('resync', null);
    });
    this.socket.on('snapshot', (snapshot: UserEvent) => {
      if (snapshot.id && eventIdAfter(snapshot.id, this.lastEventId)) this.lastEventId = snapshot.id;
      this.fire('snapshot', snapshot);
    });
    this.socket.onAny((event: string, payload: unknown) => {
      if (event === 'replay' || event === 'snapshot') return;
      if (userEvents.has(event)) this.applyUserEvent(event, payload as UserEvent);
      else this.fire(event, payload);
    });
  }

  private readonly browserOffline = () => this.setStatus('offline');
  private readonly browserOnline = () => {
    if (this.socket.connected) {
      this.setStatus('online');
      return;
    }
    this.setStatus('reconnecting');
    this.socket.connect();
  };

  private applyUserEvent(event: string, payload: UserEvent): void {
    if (payload?.id) {
      if (!eventIdAfter(payload.id, this.lastEventId)) return;
      this.lastEventId = payload.id;
    }
    this.fire(event, payload);
  }

  private fire(event: string, payload: unknown): void {
    for (const listener of this.listeners.get(event) ?? []) listener(payload);
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.statusValue) return;
    this.statusValue = status;
    this.fire('status', status);
  }

  get status(): ConnectionStatus {
    return this.statusValue;
  }

  on(event: string, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Sends an action and resolves with the server's data; rejects with an ApiError saying why. */
  async act<T = unknown>(action: string, payload: Record<string, unknown> = {}): Promise<T> {
    if (!this.socket.connected) throw new ApiError('offline', 'You are not connected right now', 0);
    let answer: { ok: true; data: T } | { ok: false; error: { code: string; message: string; details?: unknown } };
    try {
      answer = await this.socket.timeout(8_000).emitWithAck(action, payload);
    } catch {
      throw new ApiError('timeout', 'The server did not confirm in time', 0);
    }
    if (!answer.ok) throw new ApiError(answer.error.code, answer.error.message, 0, answer.error.details);
    return answer.data;
  }

  close(): void {
    window.removeEventListener('offline', this.browserOffline);
    window.removeEventListener('online', this.browserOnline);
    this.socket.disconnect();
    this.listeners.clear();
  }
}

import { io, type Socket } from 'socket.io-client';

export interface ReceivedEvent {
  event: string;
  payload: any;
}

export interface TestSocket {
  socket: Socket;
  /** Every event the server sent, in arrival order, recorded from before the connection opened. */
  received: ReceivedEvent[];
  /** Resolves with the payload of the first recorded (or next) `event` matching `predicate`. */
  waitFor(event: string, predicate?: (payload: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Emits an action and resolves with the server's acknowledgement. */
  act(event: string, payload?: unknown): Promise<any>;
  close(): void;
}

/**
 * A real socket.io-client on the websocket transport (what a multi-node deployment without sticky
 * sessions needs), with the API token in the handshake, as the agent desktop connects.
 */
export function openSocket(url: string, auth: { token?: string; lastEventId?: string } = {}): TestSocket {
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth, timeout: 5_000 });
  const received: ReceivedEvent[] = [];
  const waiters = new Set<() => void>();
  socket.onAny((event: string, payload: unknown) => {
    received.push({ event, payload });
    for (const check of [...waiters]) check();
  });
  return {
    socket,
    received,
    waitFor(event, predicate = () => true, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find((item) => item.event === event && predicate(item.payload));
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found.payload);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no '${event}' within ${timeoutMs} ms; received: ${received.map((item) => item.event).join(', ') || 'nothing'}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    act: (event, payload) => socket.timeout(5_000).emitWithAck(event, payload),
    close: () => socket.disconnect(),
  };
}

/** Opens a socket and waits until the server accepted the handshake. */
export async function connectSocket(url: string, auth: { token?: string; lastEventId?: string } = {}): Promise<TestSocket> {
  const client = openSocket(url, auth);
  await new Promise<void>((resolve, reject) => {
    client.socket.once('connect', () => resolve());
    client.socket.once('connect_error', (error) => reject(error));
  });
  return client;
}

/** Opens a socket expected to be refused; resolves with the `connect_error`. */
export async function connectError(url: string, auth: { token?: string } = {}): Promise<Error & { data?: any }> {
  const client = openSocket(url, auth);
  try {
    return await new Promise((resolve, reject) => {
      client.socket.once('connect', () => reject(new Error('the server accepted the connection')));
      client.socket.once('connect_error', (error) => resolve(error));
    });
  } finally {
    client.close();
  }
}

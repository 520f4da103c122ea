import { useCallback, useEffect, useRef, useState } from 'react';
import type { Call, Device } from '@twilio/voice-sdk';
import { api, ApiError } from './api';
import type { AgentWorkItem } from './types';

export type SoftphoneStatus = 'checking' | 'unconfigured' | 'loading' | 'registering' | 'ready' | 'error';

export interface SoftphoneCall {
  /** Ringing and waiting for Answer/Decline, or connected. */
  phase: 'ringing' | 'connected';
  from: string;
  muted: boolean;
  /** When the call was connected (ms since epoch), for the timer. */
  since: number | null;
}

export interface Softphone {
  status: SoftphoneStatus;
  /** The server's or the SDK's message when status is `unconfigured` or `error`. */
  message: string | null;
  call: SoftphoneCall | null;
  answer(): void;
  decline(): void;
  hangUp(): void;
  toggleMute(): void;
}

interface TokenResponse {
  token: string;
  identity: string;
  ttlSeconds: number;
}

/**
 * The agent's browser softphone. The Twilio Voice SDK is loaded only once the server hands out a
 * token (it answers 503 where no API key is configured), so desks without voice never download it.
 * A call for a voice contact the agent has accepted is answered at once: routing bridged the caller
 * to this agent because of that accept. Any other call rings with Answer/Decline.
 */
export function useSoftphone(work: AgentWorkItem[]): Softphone {
  const [status, setStatus] = useState<SoftphoneStatus>('checking');
  const [message, setMessage] = useState<string | null>(null);
  const [call, setCall] = useState<SoftphoneCall | null>(null);
  const current = useRef<Call | null>(null);
  const workRef = useRef(work);
  workRef.current = work;
  // Voice contacts whose call this tab already answered: a second call for the same one rings.
  const answered = useRef(new Set<string>());

  useEffect(() => {
    let device: Device | null = null;
    let stopped = false;

    const track = (incoming: Call) => {
      current.current = incoming;
      const from = incoming.parameters?.From ?? '';
      const update = (next: Partial<SoftphoneCall>) => setCall((shown) => (shown ? { ...shown, ...next } : shown));
      setCall({ phase: 'ringing', from, muted: false, since: null });
      incoming.on('accept', () => update({ phase: 'connected', since: Date.now() }));
      incoming.on('mute', (muted: boolean) => update({ muted }));
      const end = () => {
        if (current.current !== incoming) return;
        current.current = null;
        setCall(null);
      };
      for (const event of ['disconnect', 'cancel', 'reject', 'error']) incoming.on(event, end);
      const pending = workRef.current.find((item) => item.channel === 'voice' && item.phase === 'active' && !answered.current.has(item.interactionId));
      if (pending) {
        answered.current.add(pending.interactionId);
        incoming.accept();
      }
    };

    const start = async () => {
      let grant: TokenResponse;
      try {
        grant = await api<TokenResponse>('GET', '/api/voice/token');
      } catch (error) {
        if (stopped) return;
        if (error instanceof ApiError && error.status === 503) {
          setStatus('unconfigured');
          setMessage(error.message);
        } else {
          setStatus('error');
          setMessage(error instanceof Error ? error.message : String(error));
        }
        return;
      }
      if (stopped) return;
      setStatus('loading');
      try {
        // A separate chunk: only desks with voice configured fetch it.
        const { Device: DeviceClass } = await import('@twilio/voice-sdk');
        if (stopped) return;
        device = new DeviceClass(grant.token, { closeProtection: true });
        device.on('registering', () => setStatus('registering'));
        device.on('registered', () => {
          setStatus('ready');
          setMessage(null);
        });
        device.on('unregistered', () => !stopped && setStatus('registering'));
        device.on('error', (error: { message?: string }) => {
          setStatus('error');
          setMessage(error?.message ?? 'Softphone error');
        });
        device.on('incoming', track);
        device.on('tokenWillExpire', () => {
          api<TokenResponse>('GET', '/api/voice/token')
            .then((next) => device?.updateToken(next.token))
            .catch((error: unknown) => {
              setStatus('error');
              setMessage(error instanceof Error ? error.message : String(error));
            });
        });
        setStatus('registering');
        await device.register();
      } catch (error) {
        if (stopped) return;
        setStatus('error');
        setMessage(error instanceof Error ? error.message : String(error));
      }
    };
    void start();
    return () => {
      stopped = true;
      current.current = null;
      device?.destroy();
    };
  }, []);

  const answer = useCallback(() => current.current?.accept(), []);
  const decline = useCallback(() => current.current?.reject(), []);
  const hangUp = useCallback(() => current.current?.disconnect(), []);
  const toggleMute = useCallback(() => {
    const active = current.current;
    if (active) active.mute(!active.isMuted());
  }, []);

  return { status, message, call, answer, decline, hangUp, toggleMute };
}

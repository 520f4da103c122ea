import { useState } from 'react';
import { useI18n, type MessageKey } from '../../i18n';
import { clock, secondsSince } from '../../lib/format';
import type { AgentSnapshot, RequestedAgentState } from '../../lib/types';
import { useNow } from '../../lib/use-now';

export const awayReasons = ['break', 'lunch', 'meeting', 'training', 'coaching', 'other'] as const;

// Reasons the server itself writes (routing.routes.ts, routing.store.ts).
const serverReasons: Record<string, MessageKey> = { 'set by supervisor': 'away.bySupervisor', 'missed offers': 'away.missedOffers' };

/** Reason codes are stored as codes and shown in the reader's language; anything else as typed. */
export function reasonLabel(reason: string | undefined, t: (key: MessageKey) => string): string {
  if (!reason) return '';
  if (serverReasons[reason]) return t(serverReasons[reason]);
  return (awayReasons as readonly string[]).includes(reason) ? t(`away.${reason as (typeof awayReasons)[number]}`) : reason;
}

export function PresenceControl({ snapshot, onSet }: { snapshot: AgentSnapshot | null; onSet: (state: RequestedAgentState, reason?: string) => Promise<void> }) {
  const { t } = useI18n();
  const now = useNow();
  const [reason, setReason] = useState<string>('break');
  const [busy, setBusy] = useState(false);
  const state = snapshot?.state ?? 'offline';

  const set = async (next: RequestedAgentState, nextReason?: string) => {
    setBusy(true);
    await onSet(next, nextReason);
    setBusy(false);
  };

  return (
    <section className="presence" aria-label={t('presence.title')}>
      <div className="presence-state">
        <span className={`state-badge state-${state}`} data-testid="agent-state" data-state={state}>
          {t(`state.${state}`)}
        </span>
        {snapshot?.stateReason && <span className="muted">{reasonLabel(snapshot.stateReason, t)}</span>}
        <span className="timer" data-testid="state-timer" title={t('presence.timeInState')}>
          {snapshot ? clock(secondsSince(snapshot.stateSince, now)) : '—'}
        </span>
        {snapshot && snapshot.load > 0 && <span className="muted">{t('presence.load', { load: snapshot.load })}</span>}
      </div>
      <div className="presence-actions">
        <button type="button" className={state === 'available' || state === 'busy' || state === 'wrap_up' ? 'primary pressed' : 'primary'} disabled={busy} onClick={() => void set('available')}>
          {t('presence.goAvailable')}
        </button>
        <span className="away-group">
          <select aria-label={t('presence.awayReason')} value={reason} onChange={(event) => setReason(event.target.value)}>
            {awayReasons.map((code) => (
              <option key={code} value={code}>
                {t(`away.${code}`)}
              </option>
            ))}
          </select>
          <button type="button" className={state === 'away' ? 'secondary pressed' : 'secondary'} disabled={busy} onClick={() => void set('away', reason)}>
            {t('presence.goAway')}
          </button>
        </span>
        <button type="button" className={state === 'offline' ? 'secondary pressed' : 'secondary'} disabled={busy} onClick={() => void set('offline')}>
          {t('presence.goOffline')}
        </button>
      </div>
    </section>
  );
}

import { useI18n } from '../../i18n';
import { clock } from '../../lib/format';
import type { Softphone } from '../../lib/softphone';
import { useNow } from '../../lib/use-now';

/** The softphone's state and, during a call, its controls; a calm note where voice is not set up. */
export function SoftphonePanel({ phone }: { phone: Softphone }) {
  const { t } = useI18n();
  const now = useNow();
  const { status, message, call } = phone;
  return (
    <section className="card softphone" data-testid="softphone" data-status={status} aria-label={t('softphone.title')}>
      <h2>{t('softphone.title')}</h2>
      {status === 'unconfigured' ? (
        <p className="muted small" data-testid="softphone-unconfigured">
          {t('softphone.unconfigured')}
        </p>
      ) : (
        <p className={status === 'error' ? 'field-error' : 'muted small'} role={status === 'error' ? 'alert' : undefined} data-testid="softphone-state">
          {t(`softphone.${status}`)}
          {status === 'error' && message ? ` — ${message}` : ''}
        </p>
      )}
      {call?.phase === 'ringing' && (
        <div className="row" data-testid="softphone-ringing">
          <span className="grow">{t('softphone.incoming', { from: call.from || t('customer.unknown') })}</span>
          <button type="button" className="primary" onClick={phone.answer}>
            {t('softphone.answer')}
          </button>
          <button type="button" className="secondary" onClick={phone.decline}>
            {t('softphone.decline')}
          </button>
        </div>
      )}
      {call?.phase === 'connected' && (
        <div className="row" data-testid="softphone-call">
          <span className="timer">{clock(call.since ? Math.max(0, Math.floor((now - call.since) / 1000)) : 0)}</span>
          <span className="spacer" />
          <button type="button" className="secondary" aria-pressed={call.muted} onClick={phone.toggleMute}>
            {call.muted ? t('softphone.unmute') : t('softphone.mute')}
          </button>
          <button type="button" className="danger" onClick={phone.hangUp}>
            {t('softphone.hangUp')}
          </button>
        </div>
      )}
    </section>
  );
}

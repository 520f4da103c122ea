import { useEffect, useState } from 'react';
import { useI18n } from '../i18n';
import type { ConnectionStatus, Realtime } from '../lib/realtime';

/** Online / reconnecting / offline, always visible in the header: a stale screen must say so. */
export function ConnectionIndicator({ realtime }: { realtime: Realtime }) {
  const { t } = useI18n();
  const [status, setStatus] = useState<ConnectionStatus>(realtime.status);
  useEffect(() => {
    setStatus(realtime.status);
    return realtime.on('status', setStatus);
  }, [realtime]);
  return (
    <span className={`connection connection-${status}`} data-testid="connection" data-status={status} title={t(`connection.${status}Hint`)}>
      <span className="dot" aria-hidden="true" />
      {t(`connection.${status}`)}
    </span>
  );
}

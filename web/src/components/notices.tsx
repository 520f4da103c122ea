import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { useI18n, type MessageKey, type Translate } from '../i18n';
import { ApiError } from '../lib/api';

interface Notice {
  id: number;
  kind: 'error' | 'info';
  title: string;
  detail?: string;
}

interface Notices {
  /** Shows why `action` failed and what to do; it stays until dismissed, so no failure goes unseen. */
  failed(action: string, error: unknown): void;
  /** A problem the screen explains itself (e.g. "already taken by …"); stays until dismissed. */
  problem(title: string, detail?: string): void;
  info(text: string): void;
}

const NoticesContext = createContext<Notices>({ failed: () => undefined, problem: () => undefined, info: () => undefined });

const hints: Record<string, MessageKey> = {
  network: 'hint.network',
  offline: 'hint.network',
  timeout: 'hint.timeout',
  unauthenticated: 'hint.unauthenticated',
  forbidden: 'hint.forbidden',
  validation_failed: 'hint.validation',
  conflict: 'hint.conflict',
  not_found: 'hint.notFound',
  rate_limited: 'hint.busy',
  unavailable: 'hint.busy',
};

/** The server's message plus what the user can do about it. */
export function describeError(error: unknown, t: Translate): string {
  if (!(error instanceof ApiError)) return t('hint.internal');
  const hint = t(hints[error.code] ?? 'hint.internal');
  const fields = Array.isArray(error.details)
    ? (error.details as { field?: string; message?: string }[]).filter((problem) => problem.field).map((problem) => `${problem.field}: ${problem.message}`)
    : [];
  return [error.message, fields.join('; '), hint].filter(Boolean).join(' — ');
}

let nextId = 1;

export function NoticesProvider({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const [notices, setNotices] = useState<Notice[]>([]);
  const dismiss = useCallback((id: number) => setNotices((current) => current.filter((notice) => notice.id !== id)), []);
  const value = useMemo<Notices>(
    () => ({
      failed: (action, error) => {
        const notice: Notice = { id: nextId++, kind: 'error', title: t('error.failed', { action }), detail: describeError(error, t) };
        setNotices((current) => [...current.slice(-3), notice]);
      },
      problem: (title, detail) => {
        const notice: Notice = { id: nextId++, kind: 'error', title, detail };
        setNotices((current) => [...current.slice(-3), notice]);
      },
      info: (text) => {
        const notice: Notice = { id: nextId++, kind: 'info', title: text };
        setNotices((current) => [...current.slice(-3), notice]);
        window.setTimeout(() => dismiss(notice.id), 6_000);
      },
    }),
    [t, dismiss],
  );
  return (
    <NoticesContext.Provider value={value}>
      {children}
      <div className="notices" aria-live="assertive">
        {notices.map((notice) => (
          <div key={notice.id} className={`notice notice-${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
            <div>
              <strong>{notice.title}</strong>
              {notice.detail && <p>{notice.detail}</p>}
            </div>
            <button type="button" className="link" onClick={() => dismiss(notice.id)} aria-label={t('common.dismiss')}>
              ×
            </button>
          </div>
        ))}
      </div>
    </NoticesContext.Provider>
  );
}

export function useNotices(): Notices {
  return useContext(NoticesContext);
}

import { useCallback, useEffect, useState } from 'react';
import { ConnectionIndicator } from './components/connection-indicator';
import { NoticesProvider, useNotices } from './components/notices';
import { I18nProvider, locales, useI18n, type MessageKey } from './i18n';
import { api, setApiSession } from './lib/api';
import { Realtime } from './lib/realtime';
import { usePath } from './lib/router';
import { loadSession, saveSession, type StoredSession } from './lib/session';
import type { Locale, Role, User } from './lib/types';
import { AdminScreen } from './screens/admin/admin-screen';
import { AgentDesktop } from './screens/agent/agent-desktop';
import { DepartmentBoard } from './screens/department/department-board';
import { LoginScreen } from './screens/login-screen';
import { Wallboard } from './screens/wallboard/wallboard';

interface Screen {
  path: string;
  label: MessageKey;
}

const screens: Record<string, Screen> = {
  agent: { path: '/agent', label: 'nav.desk' },
  wallboard: { path: '/wallboard', label: 'nav.wallboard' },
  admin: { path: '/admin', label: 'nav.admin' },
  department: { path: '/department', label: 'nav.department' },
};

/** What each role may open, the first one being where it lands after signing in. */
const screensByRole: Record<Role, Screen[]> = {
  agent: [screens.agent],
  supervisor: [screens.wallboard, screens.agent],
  admin: [screens.admin, screens.wallboard],
  department: [screens.department],
  integration: [],
};

const loginLocaleKey = 'switchboard.loginLocale';

function initialLoginLocale(): Locale {
  const saved = localStorage.getItem(loginLocaleKey);
  if (saved === 'en' || saved === 'zh-CN') return saved;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function App() {
  const [session, setSession] = useState<StoredSession | null>(() => loadSession());
  const [loginLocale, setLoginLocale] = useState<Locale>(initialLoginLocale);
  const [signedOutReason, setSignedOutReason] = useState<MessageKey | null>(null);

  const signOut = useCallback((reason: MessageKey | null = null) => {
    saveSession(null);
    setApiSession(null, null);
    setSession(null);
    setSignedOutReason(reason);
  }, []);

  const signIn = useCallback((next: StoredSession) => {
    saveSession(next);
    setSignedOutReason(null);
    setSession(next);
  }, []);

  if (!session) {
    return (
      <I18nProvider locale={loginLocale}>
        <LoginScreen
          reason={signedOutReason}
          onSignedIn={signIn}
          onLocale={(locale) => {
            localStorage.setItem(loginLocaleKey, locale);
            setLoginLocale(locale);
          }}
        />
      </I18nProvider>
    );
  }
  return (
    <I18nProvider locale={session.user.locale}>
      <NoticesProvider>
        <SignedIn key={session.token} session={session} onSession={signIn} onSignOut={signOut} />
      </NoticesProvider>
    </I18nProvider>
  );
}

function SignedIn({ session, onSession, onSignOut }: { session: StoredSession; onSession: (next: StoredSession) => void; onSignOut: (reason: MessageKey | null) => void }) {
  const { t } = useI18n();
  const notices = useNotices();
  const [path, navigate] = usePath();
  const expired = useCallback(() => onSignOut('login.expired'), [onSignOut]);
  // Set during render, before any screen's first request, so every request carries the token.
  setApiSession(session.token, expired);
  const [realtime, setRealtime] = useState<Realtime | null>(null);
  useEffect(() => {
    const connection = new Realtime(session.token, expired);
    setRealtime(connection);
    return () => connection.close();
  }, [session.token, expired]);

  const allowed = screensByRole[session.user.role] ?? [];
  const current = allowed.find((screen) => path === screen.path) ?? allowed[0];
  useEffect(() => {
    if (current && path !== current.path) window.history.replaceState(null, '', current.path);
  }, [current, path]);

  const changeLocale = async (locale: Locale) => {
    const previous = session.user;
    onSession({ ...session, user: { ...previous, locale } });
    try {
      const user = await api<User>('PATCH', '/api/auth/me', { locale });
      onSession({ ...session, user });
    } catch (error) {
      notices.failed(t('action.saveLanguage'), error);
    }
  };

  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Switchboard</span>
        <nav>
          {allowed.map((screen) => (
            <a
              key={screen.path}
              href={screen.path}
              className={screen === current ? 'active' : ''}
              aria-current={screen === current ? 'page' : undefined}
              onClick={(event) => {
                event.preventDefault();
                navigate(screen.path);
              }}
            >
              {t(screen.label)}
            </a>
          ))}
        </nav>
        <span className="spacer" />
        {realtime && <ConnectionIndicator realtime={realtime} />}
        <label className="locale">
          <span className="sr-only">{t('common.language')}</span>
          <select data-testid="locale" value={session.user.locale} onChange={(event) => void changeLocale(event.target.value as Locale)}>
            {locales.map((locale) => (
              <option key={locale.value} value={locale.value}>
                {locale.label}
              </option>
            ))}
          </select>
        </label>
        <span className="who" title={session.user.email}>
          {session.user.name} · {t(`role.${session.user.role}`)}
        </span>
        <button type="button" className="secondary" onClick={() => onSignOut(null)}>
          {t('common.signOut')}
        </button>
      </header>
      <main className="screen">
        {!realtime ? null : current === screens.agent ? (
          <AgentDesktop realtime={realtime} user={session.user} />
        ) : current === screens.wallboard ? (
          <Wallboard realtime={realtime} />
        ) : current === screens.admin ? (
          <AdminScreen />
        ) : current === screens.department ? (
          <DepartmentBoard realtime={realtime} user={session.user} />
        ) : (
          <p className="empty">{t('nav.noScreen')}</p>
        )}
      </main>
    </div>
  );
}

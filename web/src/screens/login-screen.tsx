import { useState, type FormEvent } from 'react';
import { describeError } from '../components/notices';
import { locales, useI18n, type MessageKey } from '../i18n';
import { api } from '../lib/api';
import type { StoredSession } from '../lib/session';
import type { Locale } from '../lib/types';

export function LoginScreen({ reason, onSignedIn, onLocale }: { reason: MessageKey | null; onSignedIn: (session: StoredSession) => void; onLocale: (locale: Locale) => void }) {
  const { t, locale } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api<StoredSession>('POST', '/api/auth/login', { email: email.trim(), password }));
    } catch (failure) {
      setError(describeError(failure, t));
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Switchboard</h1>
        <p className="muted">{t('login.subtitle')}</p>
        {reason && <p className="banner banner-warn">{t(reason)}</p>}
        <label>
          {t('login.email')}
          <input name="email" type="email" autoComplete="username" required value={email} onChange={(event) => setEmail(event.target.value)} autoFocus />
        </label>
        <label>
          {t('login.password')}
          <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(event) => setPassword(event.target.value)} />
        </label>
        {error && (
          <p className="banner banner-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('login.signingIn') : t('login.signIn')}
        </button>
        <label className="inline">
          {t('common.language')}
          <select value={locale} onChange={(event) => onLocale(event.target.value as Locale)}>
            {locales.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
      </form>
    </div>
  );
}

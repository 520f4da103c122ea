import type { User } from './types';

/** The sign-in lives for the browser tab (sessionStorage): a shared desk PC forgets it when the tab closes. */
const storageKey = 'switchboard.session';

export interface StoredSession {
  token: string;
  user: User;
}

export function loadSession(): StoredSession | null {
  try {
    const raw = sessionStorage.getItem(storageKey);
    const parsed = raw ? (JSON.parse(raw) as StoredSession) : null;
    return parsed?.token && parsed.user?.id ? parsed : null;
  } catch {
    return null;
  }
}

export function saveSession(session: StoredSession | null): void {
  if (session) sessionStorage.setItem(storageKey, JSON.stringify(session));
  else sessionStorage.removeItem(storageKey);
}

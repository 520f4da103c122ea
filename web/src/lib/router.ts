import { useEffect, useState } from 'react';

/** The few screens there are; a full router would be more code than the screens' own switch. */
export function usePath(): [string, (path: string) => void] {
  const [path, setPath] = useState(() => window.location.pathname);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = (next: string) => {
    if (next !== window.location.pathname) window.history.pushState(null, '', next);
    setPath(next);
  };
  return [path, navigate];
}

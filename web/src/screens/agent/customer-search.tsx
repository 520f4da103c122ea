import { useState, type FormEvent } from 'react';
import { useNotices } from '../../components/notices';
import { useI18n } from '../../i18n';
import { api, query } from '../../lib/api';
import type { Customer } from '../../lib/types';

/** Find a customer by phone, email or name (the server decides which the text looks like). */
export function CustomerSearch({ onSelect }: { onSelect: (customer: Customer) => void }) {
  const { t } = useI18n();
  const notices = useNotices();
  const [text, setText] = useState('');
  const [results, setResults] = useState<Customer[] | null>(null);
  const [busy, setBusy] = useState(false);

  const search = async (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    try {
      setResults((await api<{ items: Customer[] }>('GET', `/api/customers${query({ q: text.trim(), limit: 10 })}`)).items);
    } catch (error) {
      notices.failed(t('action.search'), error);
    }
    setBusy(false);
  };

  return (
    <section className="card search" aria-labelledby="search-title">
      <h2 id="search-title">{t('search.title')}</h2>
      <form className="row" onSubmit={search} role="search">
        <input aria-label={t('search.placeholder')} placeholder={t('search.placeholder')} value={text} onChange={(event) => setText(event.target.value)} />
        <button type="submit" className="secondary" disabled={busy}>
          {t('search.go')}
        </button>
      </form>
      {results && results.length === 0 && <p className="muted small">{t('search.none')}</p>}
      {results && results.length > 0 && (
        <ul className="results">
          {results.map((customer) => (
            <li key={customer.id}>
              <button type="button" className="link" onClick={() => onSelect(customer)}>
                {customer.name || t('customer.unknown')}
              </button>
              <span className="muted small"> {[customer.phones[0]?.value, customer.emails[0]].filter(Boolean).join(' · ')}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

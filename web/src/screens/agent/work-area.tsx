import { useCallback, useEffect, useState, type FormEvent, type MutableRefObject } from 'react';
import { ChannelIcon } from '../../components/icons';
import { useNotices } from '../../components/notices';
import { useI18n } from '../../i18n';
import { api } from '../../lib/api';
import { clock, secondsSince } from '../../lib/format';
import type { AgentWorkItem, Entry, Interaction, ScreenPop } from '../../lib/types';
import { useNow } from '../../lib/use-now';
import { EntryView } from './entry-view';
import { dispositions } from './timeline';

// No socket event carries a customer's new message to the agent yet; the open thread is re-read
// (by id, cheap) while it is on screen.
const threadRefreshMs = 5_000;

/** The contact being worked: its thread with a reply box, notes, and the disposition that completes it. */
export function WorkArea({
  item,
  pop,
  onComplete,
  completeShortcut,
}: {
  item: AgentWorkItem;
  pop: ScreenPop | undefined;
  onComplete: (outcome: { disposition?: string; notes?: string }) => Promise<boolean>;
  /** Set to this contact's "complete" action, so the W key reaches it. */
  completeShortcut: MutableRefObject<(() => void) | null>;
}) {
  const { t } = useI18n();
  const notices = useNotices();
  const now = useNow();
  const [interaction, setInteraction] = useState<Interaction | null>(null);
  const [reply, setReply] = useState('');
  const [note, setNote] = useState('');
  const [disposition, setDisposition] = useState('');
  const [wrapNotes, setWrapNotes] = useState('');
  const [sending, setSending] = useState(false);
  const canReply = item.channel === 'sms' || item.channel === 'email';
  const optedOut = item.channel === 'sms' && pop?.smsOptedOut === true;

  const load = useCallback(async () => {
    try {
      setInteraction(await api<Interaction>('GET', `/api/interactions/${item.interactionId}`));
    } catch (error) {
      notices.failed(t('action.loadThread'), error);
    }
  }, [item.interactionId, notices, t]);

  useEffect(() => {
    void load();
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, threadRefreshMs);
    return () => window.clearInterval(timer);
  }, [load]);

  const sendReply = async (event: FormEvent) => {
    event.preventDefault();
    if (!reply.trim()) return;
    setSending(true);
    try {
      await api('POST', `/api/interactions/${item.interactionId}/replies`, { text: reply });
      setReply('');
      await load();
    } catch (error) {
      notices.failed(t('action.sendReply'), error);
    }
    setSending(false);
  };

  const addNote = async (event: FormEvent) => {
    event.preventDefault();
    if (!note.trim()) return;
    try {
      await api<Entry>('POST', `/api/interactions/${item.interactionId}/notes`, { text: note });
      setNote('');
      await load();
    } catch (error) {
      notices.failed(t('action.addNote'), error);
    }
  };

  const complete = useCallback(async () => {
    const done = await onComplete({ ...(disposition ? { disposition } : {}), ...(wrapNotes.trim() ? { notes: wrapNotes.trim() } : {}) });
    if (done) setWrapNotes('');
  }, [onComplete, disposition, wrapNotes]);

  useEffect(() => {
    if (item.phase !== 'active') return;
    completeShortcut.current = () => void complete();
    return () => {
      completeShortcut.current = null;
    };
  }, [complete, completeShortcut, item.phase]);

  return (
    <section className="card work" data-testid="work-area" aria-labelledby="work-title">
      <header className="work-head">
        <ChannelIcon channel={item.channel} />
        <h2 id="work-title">
          {pop?.customer.name || t('customer.unknown')} · {interaction?.subject || t(`channel.${item.channel}`)}
        </h2>
        <span className={`state-badge state-${item.phase === 'active' ? 'busy' : 'wrap_up'}`}>{item.phase === 'active' ? t('work.active') : t('work.wrapUp')}</span>
        <span className="timer">{clock(secondsSince(item.since, now))}</span>
      </header>
      {item.channel === 'voice' && item.phase === 'active' && <p className="banner banner-info">{t('work.voiceConnected')}</p>}
      {item.phase === 'wrap_up' && <p className="banner banner-info">{t('work.wrapUpHint')}</p>}

      <ol className="thread" aria-label={t('work.thread')} data-testid="thread">
        {!interaction && <li className="muted">{t('common.loading')}</li>}
        {(interaction?.entries ?? []).map((entry) => (
          <EntryView key={entry.id} entry={entry} />
        ))}
      </ol>

      {canReply && item.phase === 'active' && (
        <form className="reply" onSubmit={sendReply}>
          {optedOut && <p className="flag flag-stop">{t('work.optedOutNoSms')}</p>}
          <label className="sr-only" htmlFor="reply-text">
            {t('work.reply')}
          </label>
          <textarea
            id="reply-text"
            rows={3}
            placeholder={item.channel === 'sms' ? t('work.replySmsPlaceholder') : t('work.replyEmailPlaceholder')}
            value={reply}
            disabled={optedOut}
            onChange={(event) => setReply(event.target.value)}
          />
          <div className="row">
            {item.channel === 'sms' && <span className="muted small">{t('work.characters', { count: reply.length })}</span>}
            <span className="spacer" />
            <button type="submit" className="primary" disabled={sending || optedOut || !reply.trim()}>
              {sending ? t('work.sending') : t('work.send')}
            </button>
          </div>
        </form>
      )}

      <form className="note-form" onSubmit={addNote}>
        <label htmlFor="note-text">{t('work.addNote')}</label>
        <div className="row">
          <input id="note-text" value={note} onChange={(event) => setNote(event.target.value)} placeholder={t('work.notePlaceholder')} />
          <button type="submit" className="secondary" disabled={!note.trim()}>
            {t('work.saveNote')}
          </button>
        </div>
      </form>

      {item.phase === 'active' && (
        <form
          className="wrap"
          onSubmit={(event) => {
            event.preventDefault();
            void complete();
          }}
        >
          <div className="row">
            <label>
              {t('work.disposition')}
              <select value={disposition} onChange={(event) => setDisposition(event.target.value)} data-testid="disposition">
                <option value="">{t('work.noDisposition')}</option>
                {dispositions.map((code) => (
                  <option key={code} value={code}>
                    {t(`disposition.${code}`)}
                  </option>
                ))}
              </select>
            </label>
            <label className="grow">
              {t('work.wrapNotes')}
              <input value={wrapNotes} onChange={(event) => setWrapNotes(event.target.value)} />
            </label>
            <button type="submit" className="primary" aria-keyshortcuts="W">
              {t('work.complete')} <kbd>W</kbd>
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

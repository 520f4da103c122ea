import { useCallback, useEffect, useRef, useState, type FormEvent, type MutableRefObject } from 'react';
import { ChannelIcon } from '../../components/icons';
import { useNotices } from '../../components/notices';
import { useI18n } from '../../i18n';
import { api } from '../../lib/api';
import { clock, secondsSince } from '../../lib/format';
import type { Realtime } from '../../lib/realtime';
import type { AgentWorkItem, Entry, Interaction, InteractionStatus, ScreenPop, UserEvent } from '../../lib/types';
import { useNow } from '../../lib/use-now';
import { EntryView } from './entry-view';
import { dispositions } from './timeline';
import { TransferForm } from './transfer-form';

/** What the server sends the agent when a contact they hold changes: the new or changed entries. */
export interface InteractionUpdate {
  interactionId: string;
  entry: Entry[];
  status: InteractionStatus;
}

/** The thread with the update's entries in it: a changed entry (a delivery status) replaces its old self. */
export function mergeEntries(entries: Entry[], updates: Entry[]): Entry[] {
  if (!updates.length) return entries;
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  for (const entry of updates) byId.set(entry.id, entry);
  return [...byId.values()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** The contact being worked: its thread with a reply box, notes, and the disposition that completes it. */
export function WorkArea({
  realtime,
  item,
  pop,
  onComplete,
  onTransfer,
  completeShortcut,
}: {
  realtime: Realtime;
  item: AgentWorkItem;
  pop: ScreenPop | undefined;
  onTransfer: (target: { toAgentId: string } | { toQueue: string }, note: string) => Promise<void>;
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
  const [transferring, setTransferring] = useState(false);
  // Updates that arrive while the first read is on its way: the read may predate them.
  const early = useRef<Entry[]>([]);
  const canReply = item.channel === 'sms' || item.channel === 'email';
  const optedOut = item.channel === 'sms' && pop?.smsOptedOut === true;

  const load = useCallback(async () => {
    try {
      const read = await api<Interaction>('GET', `/api/interactions/${item.interactionId}`);
      setInteraction({ ...read, entries: mergeEntries(read.entries ?? [], early.current) });
      early.current = [];
    } catch (error) {
      notices.failed(t('action.loadThread'), error);
    }
  }, [item.interactionId, notices, t]);

  // One read when the contact opens and one after each reconnect (the replay covers short gaps, a
  // resync the rest); in between, the server's `interaction_updated` events carry what is new.
  useEffect(() => {
    void load();
    const stops = [
      realtime.on('interaction_updated', (event: UserEvent<InteractionUpdate>) => {
        const update = event.data;
        if (update?.interactionId !== item.interactionId) return;
        setInteraction((current) => {
          if (!current) {
            early.current = mergeEntries(early.current, update.entry);
            return current;
          }
          return { ...current, status: update.status, entries: mergeEntries(current.entries ?? [], update.entry) };
        });
      }),
      realtime.on('resync', () => void load()),
    ];
    return () => stops.forEach((stop) => stop());
  }, [load, realtime, item.interactionId]);

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
      {item.phase === 'active' &&
        (transferring ? (
          <TransferForm
            currentQueue={interaction?.queue ?? pop?.interaction.queue ?? undefined}
            onTransfer={async (target, text) => {
              await onTransfer(target, text);
              setTransferring(false);
            }}
            onCancel={() => setTransferring(false)}
          />
        ) : (
          <div className="row">
            <span className="spacer" />
            <button type="button" className="secondary" data-testid="transfer-open" onClick={() => setTransferring(true)}>
              {t('transfer.open')}
            </button>
          </div>
        ))}
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

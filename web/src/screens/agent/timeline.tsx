import { useState } from 'react';
import { ChannelIcon } from '../../components/icons';
import { useNotices } from '../../components/notices';
import { useI18n, type MessageKey } from '../../i18n';
import { api } from '../../lib/api';
import { dateTime } from '../../lib/format';
import type { Interaction, ScreenPopHistoryItem } from '../../lib/types';
import { EntryView } from './entry-view';

export const dispositions = ['resolved', 'info_given', 'follow_up', 'callback', 'complaint', 'wrong_number', 'other'] as const;

export function outcomeLabel(outcome: string, t: (key: MessageKey) => string): string {
  return (dispositions as readonly string[]).includes(outcome) ? t(`disposition.${outcome as (typeof dispositions)[number]}`) : outcome;
}

/** The customer's contacts on every channel, newest first; each opens to its full thread. */
export function Timeline({ items, currentId }: { items: ScreenPopHistoryItem[]; currentId?: string }) {
  const { t } = useI18n();
  return (
    <section className="card timeline" aria-labelledby="timeline-title" data-testid="timeline">
      <h2 id="timeline-title">{t('timeline.title')}</h2>
      {items.length === 0 && <p className="muted">{t('timeline.empty')}</p>}
      <ol>
        {items.map((item) => (
          <TimelineItem key={item.id} item={item} current={item.id === currentId} />
        ))}
      </ol>
    </section>
  );
}

function TimelineItem({ item, current }: { item: ScreenPopHistoryItem; current: boolean }) {
  const { t, locale } = useI18n();
  const notices = useNotices();
  const [open, setOpen] = useState(false);
  const [full, setFull] = useState<Interaction | null>(null);

  const toggle = async () => {
    const next = !open;
    setOpen(next);
    if (next && !full) {
      try {
        setFull(await api<Interaction>('GET', `/api/interactions/${item.id}`));
      } catch (error) {
        notices.failed(t('action.loadHistory'), error);
        setOpen(false);
      }
    }
  };

  return (
    <li className={`timeline-item ${current ? 'current' : ''}`} data-testid="timeline-item" data-channel={item.channel}>
      <button type="button" className="timeline-head" aria-expanded={open} onClick={() => void toggle()}>
        <ChannelIcon channel={item.channel} />
        <span className="timeline-title">
          {item.subject || item.preview || t(`channel.${item.channel}`)}
          {current && <span className="pill">{t('timeline.now')}</span>}
        </span>
        <span className="timeline-when small muted">{dateTime(item.createdAt, locale)}</span>
        <span className="small">
          <span className={`status status-${item.status}`}>{t(`status.${item.status}`)}</span>
          {item.outcome && <span className="outcome"> · {outcomeLabel(item.outcome, t)}</span>}
          <span className="muted"> · {t(`direction.${item.direction}`)}</span>
        </span>
      </button>
      {open && (
        <div className="timeline-body">
          {!full ? (
            <p className="muted small">{t('common.loading')}</p>
          ) : (
            <ol className="thread">
              {(full.entries ?? []).map((entry) => (
                <EntryView key={entry.id} entry={entry} />
              ))}
            </ol>
          )}
        </div>
      )}
    </li>
  );
}

import { useI18n } from '../../i18n';
import { dateTime } from '../../lib/format';
import type { Entry } from '../../lib/types';

/**
 * One entry of an interaction. Text is rendered as text; an email's HTML only in the form the
 * server stored after sanitize-html (scripts, handlers and remote images removed), and the page's
 * CSP forbids inline script on top, so a hostile email cannot run code here.
 */
export function EntryView({ entry }: { entry: Entry }) {
  const { t, locale } = useI18n();
  const html = typeof entry.data?.html === 'string' ? entry.data.html : null;
  const blocked = typeof entry.data?.remoteImagesBlocked === 'number' ? entry.data.remoteImagesBlocked : 0;
  const side = entry.kind === 'note' ? 'note' : entry.direction === 'outbound' ? 'out' : entry.direction === 'inbound' ? 'in' : 'system';

  if (entry.kind !== 'message' && entry.kind !== 'note') {
    const event = typeof entry.data?.event === 'string' ? entry.data.event : typeof entry.data?.status === 'string' ? entry.data.status : entry.kind;
    return (
      <li className="entry entry-system">
        <span className="muted small">
          {dateTime(entry.at, locale)} · {entry.text || event}
          {typeof entry.data?.disposition === 'string' && <> · {t('timeline.outcome', { outcome: entry.data.disposition })}</>}
        </span>
      </li>
    );
  }
  return (
    <li className={`entry entry-${side}`}>
      <div className="entry-meta small muted">
        {entry.kind === 'note' ? t('thread.note') : side === 'out' ? t('thread.outbound') : t('thread.inbound')} · {dateTime(entry.at, locale)}
        {entry.flags?.includes('sms_refused_opted_out') && <strong className="flag flag-stop"> {t('thread.refused')}</strong>}
      </div>
      {html ? (
        // Server-sanitized HTML only (see above); never anything the browser built from raw input.
        <div className="email-html" dangerouslySetInnerHTML={{ __html: html }} />
      ) : (
        <div className="entry-text">{entry.text}</div>
      )}
      {blocked > 0 && <div className="small muted">{t('thread.imagesBlocked', { count: blocked })}</div>}
      {entry.attachments && entry.attachments.length > 0 && (
        <div className="small muted">
          {t('thread.attachments')}: {entry.attachments.map((attachment) => attachment.name ?? attachment.contentType).join(', ')}
        </div>
      )}
    </li>
  );
}

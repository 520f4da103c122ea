import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { useNotices } from '../../components/notices';
import { useI18n, type MessageKey } from '../../i18n';
import { api, apiDownload, apiUpload, query } from '../../lib/api';
import { dateTime } from '../../lib/format';
import type { Realtime } from '../../lib/realtime';
import type { Customer, DepartmentWithTypes, Interaction, RoomEvent, ScreenPopHistoryItem, Task, TaskUpdate, UserEvent } from '../../lib/types';
import { CustomerCard } from '../agent/customer-card';
import { Timeline } from '../agent/timeline';
import { DueLabel, PriorityBadge, TaskStatusBadge, useAcceptTask } from './task-bits';

export interface Colleague {
  id: string;
  name: string;
}

type Form = 'resolve' | 'reject' | 'forward' | 'assign' | null;
type Simple = 'start' | 'verify' | 'close' | 'reopen';

const actionLabels: Record<string, MessageKey> = {
  created: 'taskAction.created',
  accepted: 'taskAction.accepted',
  started: 'taskAction.started',
  resolved: 'taskAction.resolved',
  rejected: 'taskAction.rejected',
  verified: 'taskAction.verified',
  closed: 'taskAction.closed',
  reopened: 'taskAction.reopened',
  assigned: 'taskAction.assigned',
  forwarded: 'taskAction.forwarded',
  commented: 'taskAction.commented',
  attachment_added: 'taskAction.attachment_added',
  watchers_changed: 'taskAction.watchers_changed',
  priority_raised: 'taskAction.priority_raised',
  sla_warned: 'taskAction.sla_warned',
  sla_breached: 'taskAction.sla_breached',
  customer_notified: 'taskAction.customer_notified',
  customer_merged: 'taskAction.customer_merged',
  updated_by_integration: 'taskAction.updated_by_integration',
};

/**
 * One task in full: fields, checklist, history, attachments and the actions the viewer's side may
 * take. `department` is the board's view (with the customer's context); `filer` is the agent's,
 * who closes the loop (verify, close, reopen). Re-read whenever an event names the task.
 */
export function TaskDetail({
  taskId,
  realtime,
  mode,
  userId,
  departments,
  colleagues = [],
  isHead = false,
  onClose,
  onChanged,
}: {
  taskId: string;
  realtime: Realtime;
  mode: 'department' | 'filer';
  userId: string;
  departments: DepartmentWithTypes[];
  colleagues?: Colleague[];
  isHead?: boolean;
  onClose: () => void;
  onChanged?: (task: Task) => void;
}) {
  const { t, locale } = useI18n();
  const notices = useNotices();
  const acceptTask = useAcceptTask();
  const [task, setTask] = useState<Task | null>(null);
  const [customer, setCustomer] = useState<Customer | null>(null);
  const [timeline, setTimeline] = useState<ScreenPopHistoryItem[]>([]);
  const [form, setForm] = useState<Form>(null);
  const [text, setText] = useState('');
  const [target, setTarget] = useState({ departmentId: '', typeCode: '', assigneeId: '' });
  const [comment, setComment] = useState('');
  const [visibility, setVisibility] = useState<'internal' | 'customer'>('internal');
  const [busy, setBusy] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  const load = useCallback(async () => {
    try {
      setTask(await api<Task>('GET', `/api/tasks/${taskId}`));
    } catch (error) {
      notices.failed(t('action.loadTask'), error);
    }
  }, [taskId, notices, t]);

  useEffect(() => {
    const changed = (event: UserEvent<TaskUpdate> | RoomEvent<TaskUpdate>) => {
      if (event.data?.task?.id === taskId) void load();
    };
    const stops = [realtime.on('task_updated', changed), realtime.on('task_created', changed), realtime.on('resync', () => void load())];
    void load();
    return () => stops.forEach((stop) => stop());
  }, [realtime, taskId, load]);

  const customerId = task?.customerId;
  useEffect(() => {
    if (mode !== 'department' || !customerId) return;
    Promise.all([
      api<Customer>('GET', `/api/customers/${customerId}`),
      api<{ items: Interaction[] }>('GET', `/api/customers/${customerId}/timeline${query({ limit: 10 })}`),
    ])
      .then(([found, page]) => {
        setCustomer(found);
        setTimeline(
          page.items.map((item) => ({
            id: item.id, channel: item.channel, direction: item.direction, status: item.status, subject: item.subject ?? null,
            createdAt: item.createdAt, endedAt: item.endedAt ?? null, agentId: item.agentId ?? null, outcome: null, preview: item.preview,
          })),
        );
      })
      .catch((error: unknown) => notices.failed(t('action.loadCustomer'), error));
  }, [mode, customerId, notices, t]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const applied = (next: Task) => {
    setTask((current) => ({ ...next, history: next.history ?? current?.history }));
    onChanged?.(next);
    setForm(null);
    setText('');
  };

  const run = async (label: MessageKey, call: () => Promise<Task | null>) => {
    setBusy(true);
    try {
      const next = await call();
      if (next) applied(next);
      await load();
    } catch (error) {
      notices.failed(t(label), error);
    }
    setBusy(false);
  };

  if (!task) {
    return (
      <aside className="task-drawer card" data-testid="task-detail" aria-busy="true">
        <p className="muted">{t('common.loading')}</p>
      </aside>
    );
  }

  const department = departments.find((candidate) => candidate.id === task.departmentId);
  const type = department?.taskTypes?.find((candidate) => candidate.code === task.typeCode);
  const fieldLabel = (key: string) => type?.fields.find((field) => field.key === key)?.label ?? key;
  const isAssignee = task.assigneeId === userId;
  const working = ['open', 'accepted', 'in_progress', 'reopened'].includes(task.status);
  const simple = (action: Simple, label: MessageKey) => (
    <button type="button" className="secondary" disabled={busy} data-testid={`task-${action}`} onClick={() => void run(`action.${action}Task` as MessageKey, () => api<Task>('POST', `/api/tasks/${task.id}/${action}`, {}))}>
      {t(label)}
    </button>
  );
  const opens = (which: Exclude<Form, null>, label: MessageKey) => (
    <button type="button" className={form === which ? 'secondary pressed' : 'secondary'} disabled={busy} data-testid={`task-${which}`} onClick={() => setForm(form === which ? null : which)}>
      {t(label)}
    </button>
  );
  const forwardTarget = departments.find((candidate) => candidate.id === target.departmentId);

  const submitForm = (event: FormEvent) => {
    event.preventDefault();
    if (form === 'resolve') void run('action.resolveTask', () => api<Task>('POST', `/api/tasks/${task.id}/resolve`, { resolution: text.trim() }));
    if (form === 'reject') void run('action.rejectTask', () => api<Task>('POST', `/api/tasks/${task.id}/reject`, { reason: text.trim() }));
    if (form === 'forward') {
      void run('action.forwardTask', () => api<Task>('POST', `/api/tasks/${task.id}/forward`, { toDepartmentId: target.departmentId, ...(target.typeCode ? { toTypeCode: target.typeCode } : {}), reason: text.trim() }));
    }
    if (form === 'assign') void run('action.assignTask', () => api<Task>('POST', `/api/tasks/${task.id}/assign`, { assigneeId: target.assigneeId }));
  };

  const postComment = (event: FormEvent) => {
    event.preventDefault();
    if (!comment.trim()) return;
    void run('action.commentTask', async () => {
      const next = await api<Task>('POST', `/api/tasks/${task.id}/comments`, { text: comment.trim(), visibility });
      setComment('');
      return next;
    });
  };

  const upload = (file: File | undefined) => {
    if (!file) return;
    void run('action.uploadAttachment', () => apiUpload<Task>(`/api/tasks/${task.id}/attachments`, file)).finally(() => {
      if (fileInput.current) fileInput.current.value = '';
    });
  };

  return (
    <aside className="task-drawer card" data-testid="task-detail" data-status={task.status} aria-labelledby="task-detail-title">
      <header className="row">
        <span className="mono small">{task.reference}</span>
        <TaskStatusBadge status={task.status} />
        <PriorityBadge priority={task.priority} />
        <span className="spacer" />
        <button type="button" className="link" onClick={onClose} aria-label={t('common.close')} aria-keyshortcuts="Escape">
          × <kbd>Esc</kbd>
        </button>
      </header>
      <h2 id="task-detail-title">{task.title}</h2>
      <p className="small muted">
        {type?.name ?? task.typeCode} · {department?.name ?? ''} · <DueLabel task={task} /> · {t('task.filedBy', { name: task.createdBy?.name ?? '—', at: dateTime(task.createdAt, locale) })}
      </p>
      {task.assigneeId && <p className="small">{t('task.assignee', { name: colleagues.find((person) => person.id === task.assigneeId)?.name ?? (isAssignee ? t('board.me') : t('board.colleague')) })}</p>}
      {task.description && <p className="task-description">{task.description}</p>}
      {task.resolution && <p className="resolution" data-testid="task-resolution">{t('tasks.resolution', { text: task.resolution })}</p>}
      {task.rejectionReason && <p className="overdue">{t('tasks.rejected', { text: task.rejectionReason })}</p>}

      {Object.keys(task.fields).length > 0 && (
        <dl className="attributes" data-testid="task-fields">
          {Object.entries(task.fields).map(([key, value]) => (
            <div key={key}>
              <dt>{fieldLabel(key)}</dt>
              <dd className="mono">{value}</dd>
            </div>
          ))}
        </dl>
      )}

      {(task.checklist?.length ?? 0) > 0 && (
        <section className="task-section">
          <h3>{t('task.checklist')}</h3>
          <ul className="checklist">
            {task.checklist!.map((item) => (
              <li key={item.item}>
                <label className="inline">
                  <input type="checkbox" checked={item.done} readOnly disabled /> {item.item}
                </label>
              </li>
            ))}
          </ul>
        </section>
      )}

      <div className="row task-actions" role="group" aria-label={t('task.actions')}>
        {mode === 'department' && (task.status === 'open' || task.status === 'reopened') && (
          <button type="button" className="primary" disabled={busy} data-testid="task-accept" aria-keyshortcuts="A" onClick={() => void run('action.acceptTask', () => acceptTask(task))}>
            {t('board.accept')}
          </button>
        )}
        {mode === 'department' && (task.status === 'accepted' || (task.status === 'reopened' && task.assigneeId)) && (isAssignee || isHead) && simple('start', 'board.start')}
        {mode === 'department' && ['accepted', 'in_progress', 'reopened'].includes(task.status) && (isAssignee || isHead) && opens('resolve', 'board.resolve')}
        {mode === 'department' && working && opens('reject', 'board.reject')}
        {mode === 'department' && working && opens('forward', 'board.forward')}
        {mode === 'department' && working && isHead && opens('assign', 'board.assign')}
        {mode === 'filer' && task.status === 'resolved' && simple('verify', 'board.verify')}
        {mode === 'filer' && ['resolved', 'verified', 'rejected'].includes(task.status) && simple('close', 'board.close')}
        {mode === 'filer' && ['resolved', 'rejected', 'verified', 'closed'].includes(task.status) && simple('reopen', 'board.reopen')}
      </div>

      {form && (
        <form className="task-form" onSubmit={submitForm} data-testid={`task-${form}-form`}>
          {form === 'forward' && (
            <div className="form-grid two">
              <label>
                {t('tasks.department')}
                <select required value={target.departmentId} onChange={(event) => setTarget({ ...target, departmentId: event.target.value, typeCode: '' })} data-testid="forward-department">
                  <option value="">{t('work.noDisposition')}</option>
                  {departments
                    .filter((candidate) => candidate.id !== task.departmentId && candidate.taskTypes?.length)
                    .map((candidate) => (
                      <option key={candidate.id} value={candidate.id}>
                        {candidate.name}
                      </option>
                    ))}
                </select>
              </label>
              <label>
                {t('tasks.type')}
                <select required value={target.typeCode} disabled={!forwardTarget} onChange={(event) => setTarget({ ...target, typeCode: event.target.value })} data-testid="forward-type">
                  <option value="">{t('work.noDisposition')}</option>
                  {forwardTarget?.taskTypes?.map((candidate) => (
                    <option key={candidate.code} value={candidate.code}>
                      {candidate.name}
                    </option>
                  ))}
                </select>
              </label>
            </div>
          )}
          {form === 'assign' ? (
            <label>
              {t('board.assignTo')}
              <select required value={target.assigneeId} onChange={(event) => setTarget({ ...target, assigneeId: event.target.value })} data-testid="assign-to">
                <option value="">{t('work.noDisposition')}</option>
                {colleagues.map((person) => (
                  <option key={person.id} value={person.id}>
                    {person.name}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <label>
              {form === 'resolve' ? t('board.resolutionLabel') : form === 'reject' ? t('board.rejectLabel') : t('board.forwardLabel')}
              <textarea required rows={3} value={text} onChange={(event) => setText(event.target.value)} data-testid="task-form-text" />
            </label>
          )}
          <div className="row">
            <span className="spacer" />
            <button type="button" className="secondary" onClick={() => setForm(null)}>
              {t('common.cancel')}
            </button>
            <button type="submit" className="primary" disabled={busy || (form !== 'assign' && !text.trim())} data-testid="task-form-submit">
              {t(`board.${form}Confirm`)}
            </button>
          </div>
        </form>
      )}

      <form className="task-form" onSubmit={postComment} data-testid="task-comment-form">
        <label>
          {t('task.comment')}
          <textarea rows={2} value={comment} onChange={(event) => setComment(event.target.value)} data-testid="task-comment" />
        </label>
        <div className="row">
          <label className="inline">
            <input type="radio" name="visibility" checked={visibility === 'internal'} onChange={() => setVisibility('internal')} /> {t('task.internal')}
          </label>
          <label className="inline">
            <input type="radio" name="visibility" checked={visibility === 'customer'} onChange={() => setVisibility('customer')} data-testid="visibility-customer" /> {t('task.toCustomer')}
          </label>
          <span className="spacer" />
          <button type="submit" className="secondary" disabled={busy || !comment.trim()} data-testid="task-comment-submit">
            {t('task.postComment')}
          </button>
        </div>
      </form>

      <section className="task-section">
        <h3>{t('task.attachments')}</h3>
        {(task.attachments?.length ?? 0) === 0 && <p className="muted small">{t('task.noAttachments')}</p>}
        <ul className="task-list">
          {task.attachments?.map((attachment) => (
            <li key={attachment.id} className="row">
              <button
                type="button"
                className="link"
                onClick={() => apiDownload(`/api/tasks/${task.id}/attachments/${attachment.id}`, attachment.filename).catch((error: unknown) => notices.failed(t('action.downloadAttachment'), error))}
              >
                {attachment.filename}
              </button>
              <span className="muted small">{Math.ceil(attachment.size / 1024)} KB</span>
            </li>
          ))}
        </ul>
        <label className="inline small">
          {t('task.attach')}
          <input ref={fileInput} type="file" disabled={busy} onChange={(event) => upload(event.target.files?.[0])} data-testid="task-upload" />
        </label>
      </section>

      <section className="task-section">
        <h3>{t('task.history')}</h3>
        <ol className="task-history" data-testid="task-history">
          {task.history?.map((entry) => (
            <li key={entry.id} className={entry.visibility === 'customer' ? 'to-customer' : ''}>
              <div className="small muted">
                {dateTime(entry.at, locale)} · {entry.actor.name} · {actionLabels[entry.action] ? t(actionLabels[entry.action]) : entry.action}
                {entry.toStatus && entry.fromStatus !== entry.toStatus && <> → {t(`taskStatus.${entry.toStatus}`)}</>}
                {entry.visibility === 'customer' && <span className="pill">{t('task.toCustomer')}</span>}
              </div>
              {entry.comment && <div className="entry-text">{entry.comment}</div>}
            </li>
          ))}
        </ol>
      </section>

      {mode === 'department' && customer && (
        <section className="task-section" data-testid="task-customer">
          <CustomerCard customer={customer} smsOptedOut={null} />
          <Timeline items={timeline} />
        </section>
      )}
    </aside>
  );
}

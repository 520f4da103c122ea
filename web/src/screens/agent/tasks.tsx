import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { useNotices } from '../../components/notices';
import { useI18n } from '../../i18n';
import { api, ApiError, query } from '../../lib/api';
import { dateTime } from '../../lib/format';
import type { Realtime } from '../../lib/realtime';
import type { DepartmentWithTypes, ScreenPopTask, Task, TaskPriority, TaskUpdate, UserEvent } from '../../lib/types';
import { useNow } from '../../lib/use-now';

const priorities: TaskPriority[] = ['low', 'normal', 'high', 'urgent'];
const owed = new Set(['open', 'accepted', 'in_progress', 'reopened']);

export interface MyTasks {
  /** Tasks this agent filed, newest change first, kept live from `task_updated` events. */
  tasks: Task[];
  byId: Record<string, Task>;
  /** Ids changed since they were shown, for a highlight. */
  fresh: Set<string>;
  add(task: Task): void;
}

/** The agent's filed tasks: loaded once, then every change arrives on the agent's own event stream. */
export function useMyTasks(realtime: Realtime, userId: string): MyTasks {
  const { t } = useI18n();
  const notices = useNotices();
  const [byId, setById] = useState<Record<string, Task>>({});
  const [fresh, setFresh] = useState<Set<string>>(new Set());

  const load = useCallback(async () => {
    try {
      const page = await api<{ items: Task[] }>('GET', `/api/tasks${query({ mine: 'filed', sort: '-updatedAt', limit: 30 })}`);
      setById(Object.fromEntries(page.items.map((task) => [task.id, task])));
    } catch (error) {
      notices.failed(t('action.loadTasks'), error);
    }
  }, [notices, t]);

  useEffect(() => {
    const onUpdate = (event: UserEvent<TaskUpdate>) => {
      const { task, entry } = event.data;
      setById((current) => ({ ...current, [task.id]: task }));
      setFresh((current) => new Set(current).add(task.id));
      // Someone else's move is news; the agent's own filing is already on screen.
      if (entry.toStatus && entry.actor.id !== userId) {
        notices.info(t('tasks.changed', { reference: task.reference, status: t(`taskStatus.${entry.toStatus}`), by: entry.actor.name }));
      }
    };
    const stops = [realtime.on('task_updated', onUpdate), realtime.on('task_created', onUpdate), realtime.on('resync', () => void load())];
    void load();
    return () => stops.forEach((stop) => stop());
  }, [realtime, load, notices, t, userId]);

  const tasks = useMemo(() => Object.values(byId).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)), [byId]);
  const add = useCallback((task: Task) => setById((current) => ({ ...current, [task.id]: task })), []);
  return { tasks, byId, fresh, add };
}

function TaskStatusBadge({ status }: { status: Task['status'] }) {
  const { t } = useI18n();
  return <span className={`task-status task-${status}`}>{t(`taskStatus.${status}`)}</span>;
}

function Due({ dueAt, status }: { dueAt: string; status: Task['status'] }) {
  const { t, locale } = useI18n();
  const now = useNow(30_000);
  const late = owed.has(status) && Date.parse(dueAt) < now;
  return <span className={late ? 'overdue' : 'muted'}>{late ? t('tasks.overdue', { due: dateTime(dueAt, locale) }) : t('tasks.due', { due: dateTime(dueAt, locale) })}</span>;
}

/** The customer's open follow-up tasks in the pop, with their live status, and the way to file one. */
export function OpenTasks({ tasks, customerId, mine, onFile, onOpen }: { tasks: ScreenPopTask[] | null; customerId: string; mine: MyTasks; onFile: () => void; onOpen: (taskId: string) => void }) {
  const { t } = useI18n();
  // A pop rebuilt after a reload has no task list: read the customer's tasks over REST instead.
  const [fetched, setFetched] = useState<{ customerId: string; tasks: Task[] } | null>(null);
  useEffect(() => {
    if (tasks !== null) return;
    let current = true;
    api<{ items: Task[] }>('GET', `/api/tasks${query({ customerId, status: 'open,accepted,in_progress,resolved,rejected,verified,reopened', sort: 'dueAt', limit: 20 })}`)
      .then((page) => current && setFetched({ customerId, tasks: page.items }))
      .catch(() => current && setFetched(null));
    return () => {
      current = false;
    };
  }, [tasks, customerId]);
  const known = tasks ?? (fetched?.customerId === customerId ? fetched.tasks : null);
  // The pop's list is a snapshot; the agent's own tasks (filed since, or changed since) are live.
  const shown = new Map<string, { id: string; reference: string; title: string; status: Task['status']; dueAt: string }>();
  for (const task of known ?? []) shown.set(task.id, mine.byId[task.id] ?? task);
  for (const task of mine.tasks) if (task.customerId === customerId && !shown.has(task.id)) shown.set(task.id, task);
  const list = [...shown.values()].filter((task) => task.status !== 'closed');
  return (
    <section className="card" data-testid="open-tasks" aria-labelledby="open-tasks-title">
      <header className="row">
        <h2 id="open-tasks-title">{t('tasks.open')}</h2>
        <span className="spacer" />
        <button type="button" className="secondary small" onClick={onFile} data-testid="file-task">
          {t('tasks.file')}
        </button>
      </header>
      {known === null && list.length === 0 && <p className="muted small">{t('tasks.unknown')}</p>}
      {known !== null && list.length === 0 && <p className="muted small">{t('tasks.noneYet')}</p>}
      <ul className="task-list">
        {list.map((task) => (
          <li key={task.id} data-testid="open-task" data-status={task.status}>
            <span className="mono small">{task.reference}</span>{' '}
            <button type="button" className="link" onClick={() => onOpen(task.id)}>
              {task.title}
            </button>{' '}
            <TaskStatusBadge status={task.status} />
            <div className="small">
              <Due dueAt={task.dueAt} status={task.status} />
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Follow-ups the agent filed, with the department's answer as it comes in. */
export function MyFiledTasks({ mine, onOpen }: { mine: MyTasks; onOpen: (taskId: string) => void }) {
  const { t } = useI18n();
  return (
    <section className="card" data-testid="my-tasks" aria-labelledby="my-tasks-title">
      <h2 id="my-tasks-title">{t('tasks.mine')}</h2>
      {mine.tasks.length === 0 && <p className="muted small">{t('tasks.noneFiled')}</p>}
      <ul className="task-list">
        {mine.tasks.map((task) => (
          <li key={task.id} data-testid="my-task" data-status={task.status} className={mine.fresh.has(task.id) ? 'fresh' : ''}>
            <div>
              <span className="mono small">{task.reference}</span>{' '}
              <button type="button" className="link" onClick={() => onOpen(task.id)} data-testid="my-task-open">
                {task.title}
              </button>{' '}
              <TaskStatusBadge status={task.status} />
            </div>
            <div className="small">
              <Due dueAt={task.dueAt} status={task.status} />
            </div>
            {task.resolution && <div className="small resolution">{t('tasks.resolution', { text: task.resolution })}</div>}
            {task.rejectionReason && <div className="small overdue">{t('tasks.rejected', { text: task.rejectionReason })}</div>}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Files a follow-up for another department: department, task type, the type's own fields. */
export function FileTaskForm({ customerId, interactionId, onFiled, onCancel }: { customerId: string; interactionId?: string; onFiled: (task: Task) => void; onCancel: () => void }) {
  const { t } = useI18n();
  const notices = useNotices();
  const [departments, setDepartments] = useState<DepartmentWithTypes[] | null>(null);
  const [departmentId, setDepartmentId] = useState('');
  const [typeCode, setTypeCode] = useState('');
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [priority, setPriority] = useState<TaskPriority | ''>('');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<{ items: DepartmentWithTypes[] }>('GET', '/api/departments')
      .then((page) => setDepartments(page.items.filter((department) => department.taskTypes?.length)))
      .catch((error: unknown) => notices.failed(t('action.loadDepartments'), error));
  }, [notices, t]);

  const department = departments?.find((candidate) => candidate.id === departmentId);
  const type = department?.taskTypes?.find((candidate) => candidate.code === typeCode);

  const chooseType = (code: string) => {
    setTypeCode(code);
    const chosen = department?.taskTypes?.find((candidate) => candidate.code === code);
    if (chosen && !title) setTitle(chosen.name);
    setFields({});
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // The server checks the same (and its 400 is shown by the field); checking here saves a round trip.
    const problems: Record<string, string> = {};
    for (const field of type?.fields ?? []) {
      const value = fields[field.key]?.trim() ?? '';
      if (field.required && !value) problems[`fields.${field.key}`] = t('tasks.fieldRequired');
      else if (value && field.pattern && !matches(field.pattern, value)) problems[`fields.${field.key}`] = t('tasks.fieldPattern', { label: field.label });
    }
    setErrors(problems);
    if (Object.keys(problems).length) return;
    setBusy(true);
    try {
      const filled = Object.fromEntries(Object.entries(fields).filter(([, value]) => value.trim() !== ''));
      const task = await api<Task>('POST', '/api/tasks', {
        departmentId, typeCode, title, customerId, ...(interactionId ? { interactionId } : {}),
        ...(description.trim() ? { description } : {}), ...(priority ? { priority } : {}), fields: filled,
      });
      notices.info(t('tasks.filed', { reference: task.reference }));
      onFiled(task);
    } catch (error) {
      const byField = fieldErrors(error);
      if (Object.keys(byField).length) setErrors(byField);
      notices.failed(t('action.fileTask'), error);
      setBusy(false);
    }
  };
  const errorOf = (key: string) =>
    errors[key] ? (
      <span className="field-error" role="alert" data-testid={`error-${key}`}>
        {errors[key]}
      </span>
    ) : null;

  return (
    <form className="card file-task" onSubmit={submit} data-testid="file-task-form" aria-labelledby="file-task-title">
      <h2 id="file-task-title">{t('tasks.fileTitle')}</h2>
      {departments?.length === 0 && <p className="muted">{t('tasks.noTypes')}</p>}
      <div className="form-grid two">
        <label>
          {t('tasks.department')}
          <select
            required
            value={departmentId}
            onChange={(event) => {
              setDepartmentId(event.target.value);
              setTypeCode('');
            }}
            data-testid="task-department"
          >
            <option value="">{t('work.noDisposition')}</option>
            {departments?.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                {candidate.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('tasks.type')}
          <select required value={typeCode} disabled={!department} onChange={(event) => chooseType(event.target.value)} data-testid="task-type">
            <option value="">{t('work.noDisposition')}</option>
            {department?.taskTypes?.map((candidate) => (
              <option key={candidate.code} value={candidate.code}>
                {candidate.name}
              </option>
            ))}
          </select>
        </label>
        <label className="wide">
          {t('tasks.titleField')}
          <input required maxLength={200} value={title} onChange={(event) => setTitle(event.target.value)} data-testid="task-title" />
          {errorOf('title')}
        </label>
        {type?.fields.map((field) => (
          <label key={field.key}>
            <span>
              {field.label}
              {field.required && (
                <span className="required" title={t('tasks.fieldRequired')}>
                  {' '}*
                </span>
              )}
            </span>
            <input
              aria-required={field.required}
              aria-invalid={!!errors[`fields.${field.key}`]}
              value={fields[field.key] ?? ''}
              onChange={(event) => {
                setFields({ ...fields, [field.key]: event.target.value });
                setErrors(({ [`fields.${field.key}`]: _gone, ...rest }) => rest);
              }}
              data-testid={`task-field-${field.key}`}
            />
            {errorOf(`fields.${field.key}`)}
          </label>
        ))}
        <label>
          {t('tasks.priority')}
          <select value={priority} onChange={(event) => setPriority(event.target.value as TaskPriority | '')}>
            <option value="">{type ? t('tasks.priorityDefault', { priority: t(`priority.${type.defaultPriority}`) }) : '—'}</option>
            {priorities.map((option) => (
              <option key={option} value={option}>
                {t(`priority.${option}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="wide">
          {t('tasks.description')}
          <textarea rows={3} value={description} onChange={(event) => setDescription(event.target.value)} />
        </label>
      </div>
      <div className="row">
        <span className="spacer" />
        <button type="button" className="secondary" onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button type="submit" className="primary" disabled={busy || !typeCode}>
          {t('tasks.submit')}
        </button>
      </div>
    </form>
  );
}

function matches(pattern: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(value);
  } catch {
    // A pattern this browser cannot compile is left to the server.
    return true;
  }
}

/** The server's 400 details (`[{ field: 'fields.vin', message }]`) by field, to show beside each input. */
function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError) || !Array.isArray(error.details)) return {};
  const result: Record<string, string> = {};
  for (const problem of error.details as { field?: string; message?: string }[]) {
    if (problem.field && problem.message) result[problem.field.replace(/^body\./, '')] = problem.message;
  }
  return result;
}

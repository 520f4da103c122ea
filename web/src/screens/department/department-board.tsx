import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useNotices } from '../../components/notices';
import { useI18n, type MessageKey } from '../../i18n';
import { api, query } from '../../lib/api';
import type { Realtime } from '../../lib/realtime';
import type { DepartmentWithTypes, RoomEvent, Task, TaskStatus, TaskUpdate, User, UserEvent } from '../../lib/types';
import { useNow } from '../../lib/use-now';
import { DueLabel, PriorityBadge, TaskStatusBadge, isOverdue, useAcceptTask } from '../tasks/task-bits';
import { TaskDetail, type Colleague } from '../tasks/task-detail';

interface Column {
  key: string;
  label: MessageKey;
  statuses: TaskStatus[];
}

const columns: Column[] = [
  { key: 'open', label: 'board.colOpen', statuses: ['open', 'reopened'] },
  { key: 'accepted', label: 'board.colAccepted', statuses: ['accepted'] },
  { key: 'in_progress', label: 'board.colInProgress', statuses: ['in_progress'] },
  { key: 'done', label: 'board.colDone', statuses: ['resolved', 'rejected'] },
];
const onBoard = new Set<TaskStatus>(columns.flatMap((column) => column.statuses));
const priorityRank = { urgent: 0, high: 1, normal: 2, low: 3 } as const;
/** Finished tasks stay on the board this long, so the team sees what was just done. */
const recentMs = 24 * 3600_000;

/** Keys typed into a field are text, not shortcuts. */
function typing(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return !!element && (element.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(element.tagName));
}

/**
 * The department's tasks as a kanban (or a list): loaded once, then kept live from the
 * department room's `task_created` / `task_updated` events (a forwarded task leaves, a new one
 * arrives highlighted); reloaded in full after a reconnect.
 */
export function DepartmentBoard({ realtime, user }: { realtime: Realtime; user: User }) {
  const { t } = useI18n();
  const notices = useNotices();
  const now = useNow(30_000);
  const acceptTask = useAcceptTask();
  const [tasks, setTasks] = useState<Record<string, Task>>({});
  const [loaded, setLoaded] = useState(false);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [departments, setDepartments] = useState<DepartmentWithTypes[]>([]);
  const [colleagues, setColleagues] = useState<Colleague[]>([]);
  const [view, setView] = useState<'kanban' | 'list'>('kanban');
  const [typeFilter, setTypeFilter] = useState('');
  const [assigneeFilter, setAssigneeFilter] = useState<'anyone' | 'me' | 'unassigned'>('anyone');
  const [overdueOnly, setOverdueOnly] = useState(false);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const departmentId = user.departmentId;

  const load = useCallback(async () => {
    if (!departmentId) return;
    try {
      const [active, done] = await Promise.all([
        api<{ items: Task[] }>('GET', `/api/tasks${query({ departmentId, status: 'open,accepted,in_progress,reopened', sort: 'dueAt', limit: 200 })}`),
        api<{ items: Task[] }>('GET', `/api/tasks${query({ departmentId, status: 'resolved,rejected', sort: '-updatedAt', limit: 30 })}`),
      ]);
      setTasks(Object.fromEntries([...active.items, ...done.items].map((task) => [task.id, task])));
      setLoaded(true);
    } catch (error) {
      notices.failed(t('action.loadBoard'), error);
    }
  }, [departmentId, notices, t]);

  const upsert = useCallback(
    (task: Task) => {
      setTasks((current) => {
        const known = current[task.id];
        if (known && (known.version ?? 0) > (task.version ?? 0)) return current;
        const next = { ...current };
        if (task.departmentId !== departmentId || !onBoard.has(task.status)) delete next[task.id];
        else next[task.id] = task;
        return next;
      });
    },
    [departmentId],
  );

  useEffect(() => {
    const changed = (event: RoomEvent<TaskUpdate> | UserEvent<TaskUpdate>) => {
      const task = event.data?.task;
      if (!task) return;
      upsert(task);
      setFresh((current) => new Set(current).add(task.id));
      window.setTimeout(() => setFresh((current) => {
        const next = new Set(current);
        next.delete(task.id);
        return next;
      }), 4_000);
    };
    const stops = [realtime.on('task_created', changed), realtime.on('task_updated', changed), realtime.on('resync', () => void load())];
    void load();
    api<{ items: DepartmentWithTypes[] }>('GET', '/api/departments')
      .then((page) => setDepartments(page.items))
      .catch((error: unknown) => notices.failed(t('action.loadDepartments'), error));
    api<{ items: Colleague[] }>('GET', '/api/users/colleagues')
      .then((page) => setColleagues(page.items))
      .catch(() => undefined);
    return () => stops.forEach((stop) => stop());
  }, [realtime, load, upsert, notices, t]);

  const department = departments.find((candidate) => candidate.id === departmentId);
  const isHead = !!department && department.headUserId === user.id;
  const nameOf = (id?: string) => (!id ? null : id === user.id ? t('board.me') : (colleagues.find((person) => person.id === id)?.name ?? t('board.colleague')));

  const shown = useMemo(
    () =>
      Object.values(tasks)
        .filter((task) => !(task.status === 'resolved' || task.status === 'rejected') || now - Date.parse(task.updatedAt) < recentMs)
        .filter((task) => !typeFilter || task.typeCode === typeFilter)
        .filter((task) => assigneeFilter === 'anyone' || (assigneeFilter === 'me' ? task.assigneeId === user.id : !task.assigneeId))
        .filter((task) => !overdueOnly || isOverdue(task, now))
        .sort((a, b) => Number(isOverdue(b, now)) - Number(isOverdue(a, now)) || priorityRank[a.priority] - priorityRank[b.priority] || a.dueAt.localeCompare(b.dueAt)),
    [tasks, typeFilter, assigneeFilter, overdueOnly, now, user.id],
  );
  const selected = selectedId ? tasks[selectedId] : undefined;

  const quickAccept = async (task: Task) => {
    const next = await acceptTask(task);
    if (next) upsert(next);
  };

  // L toggles the view, Esc (in the panel) closes it, A accepts the task open in the panel.
  const keys = useRef({ selected, quickAccept });
  keys.current = { selected, quickAccept };
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || typing(event.target)) return;
      const key = event.key.toLowerCase();
      const open = keys.current.selected;
      if (key === 'l') setView((current) => (current === 'kanban' ? 'list' : 'kanban'));
      else if (key === 'a' && open && (open.status === 'open' || open.status === 'reopened')) void keys.current.quickAccept(open);
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  if (!departmentId) return <p className="empty">{t('board.noDepartment')}</p>;

  const card = (task: Task) => (
    <TaskCard
      key={task.id}
      task={task}
      typeName={department?.taskTypes?.find((type) => type.code === task.typeCode)?.name ?? task.typeCode}
      assignee={nameOf(task.assigneeId)}
      fresh={fresh.has(task.id)}
      selected={task.id === selectedId}
      overdue={isOverdue(task, now)}
      onOpen={() => setSelectedId(task.id)}
      onAccept={() => void quickAccept(task)}
    />
  );

  return (
    <div className={`board ${selected ? 'with-detail' : ''}`} data-testid="department-board">
      <section className="card board-bar row">
        <h2>{department?.name ?? t('department.title')}</h2>
        <span className="muted small">{t('board.counts', { active: shown.filter((task) => onBoard.has(task.status) && !['resolved', 'rejected'].includes(task.status)).length, overdue: shown.filter((task) => isOverdue(task, now)).length })}</span>
        <span className="spacer" />
        <label className="inline">
          {t('tasks.type')}
          <select value={typeFilter} onChange={(event) => setTypeFilter(event.target.value)} data-testid="filter-type">
            <option value="">{t('board.allTypes')}</option>
            {department?.taskTypes?.map((type) => (
              <option key={type.code} value={type.code}>
                {type.name}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          {t('board.assignee')}
          <select value={assigneeFilter} onChange={(event) => setAssigneeFilter(event.target.value as typeof assigneeFilter)} data-testid="filter-assignee">
            <option value="anyone">{t('board.anyone')}</option>
            <option value="me">{t('board.me')}</option>
            <option value="unassigned">{t('board.unassigned')}</option>
          </select>
        </label>
        <label className="inline">
          <input type="checkbox" checked={overdueOnly} onChange={(event) => setOverdueOnly(event.target.checked)} data-testid="filter-overdue" />
          {t('board.overdueOnly')}
        </label>
        <div className="tabs segmented" role="group" aria-label={t('board.view')}>
          <button type="button" className={view === 'kanban' ? 'active' : ''} aria-pressed={view === 'kanban'} onClick={() => setView('kanban')}>
            {t('board.kanban')}
          </button>
          <button type="button" className={view === 'list' ? 'active' : ''} aria-pressed={view === 'list'} onClick={() => setView('list')} data-testid="view-list">
            {t('board.list')}
          </button>
        </div>
        <span className="muted small">{t('board.shortcuts')}</span>
      </section>

      <div className="board-body">
        {!loaded ? (
          <p className="muted">{t('common.loading')}</p>
        ) : view === 'kanban' ? (
          <div className="kanban">
            {columns.map((column) => {
              const inColumn = shown.filter((task) => column.statuses.includes(task.status));
              return (
                <section key={column.key} className="kanban-column" data-testid={`column-${column.key}`} aria-labelledby={`column-${column.key}`}>
                  <h3 id={`column-${column.key}`}>
                    {t(column.label)} <span className="pill">{inColumn.length}</span>
                  </h3>
                  <ul>{inColumn.map(card)}</ul>
                  {inColumn.length === 0 && <p className="muted small">{t('board.emptyColumn')}</p>}
                </section>
              );
            })}
          </div>
        ) : (
          <section className="card">
            <table className="list" data-testid="task-table">
              <thead>
                <tr>
                  <th>{t('board.reference')}</th>
                  <th>{t('tasks.titleField')}</th>
                  <th>{t('tasks.type')}</th>
                  <th>{t('tasks.priority')}</th>
                  <th>{t('board.status')}</th>
                  <th>{t('board.assignee')}</th>
                  <th>{t('board.due')}</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((task) => (
                  <tr key={task.id} className={`${isOverdue(task, now) ? 'late-row' : ''} ${fresh.has(task.id) ? 'fresh' : ''}`} data-testid="task-row" data-status={task.status} onClick={() => setSelectedId(task.id)}>
                    <td className="mono small">{task.reference}</td>
                    <td>
                      <button type="button" className="link" onClick={() => setSelectedId(task.id)}>
                        {task.title}
                      </button>
                    </td>
                    <td>{department?.taskTypes?.find((type) => type.code === task.typeCode)?.name ?? task.typeCode}</td>
                    <td>
                      <PriorityBadge priority={task.priority} />
                    </td>
                    <td>
                      <TaskStatusBadge status={task.status} />
                    </td>
                    <td>{nameOf(task.assigneeId) ?? '—'}</td>
                    <td>
                      <DueLabel task={task} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {shown.length === 0 && <p className="muted">{t('board.nothing')}</p>}
          </section>
        )}
        {selectedId && (
          <TaskDetail
            key={selectedId}
            taskId={selectedId}
            realtime={realtime}
            mode="department"
            userId={user.id}
            departments={departments}
            colleagues={colleagues}
            isHead={isHead}
            onClose={() => setSelectedId(null)}
            onChanged={upsert}
          />
        )}
      </div>
    </div>
  );
}

function TaskCard({
  task,
  typeName,
  assignee,
  fresh,
  selected,
  overdue,
  onOpen,
  onAccept,
}: {
  task: Task;
  typeName: string;
  assignee: string | null;
  fresh: boolean;
  selected: boolean;
  overdue: boolean;
  onOpen: () => void;
  onAccept: () => void;
}) {
  const { t } = useI18n();
  return (
    <li
      className={`task-card ${overdue ? 'late' : ''} ${fresh ? 'fresh' : ''} ${selected ? 'selected' : ''} priority-edge-${task.priority}`}
      data-testid="task-card"
      data-task={task.id}
      data-reference={task.reference}
      data-status={task.status}
    >
      <button type="button" className="task-card-open" onClick={onOpen}>
        <span className="row tight">
          <span className="mono small">{task.reference}</span>
          <PriorityBadge priority={task.priority} />
          {task.status === 'reopened' || task.status === 'rejected' ? <TaskStatusBadge status={task.status} /> : null}
        </span>
        <strong className="task-card-title">{task.title}</strong>
        <span className="small muted">
          {typeName}
          {task.fields.vin ? <> · <span className="mono">{task.fields.vin}</span></> : null}
        </span>
      </button>
      <div className="row tight">
        <DueLabel task={task} />
        <span className="spacer" />
        {assignee && <span className="small muted">{assignee}</span>}
        {(task.status === 'open' || task.status === 'reopened') && (
          <button type="button" className="primary small" onClick={onAccept} data-testid="card-accept">
            {t('board.accept')}
          </button>
        )}
      </div>
    </li>
  );
}

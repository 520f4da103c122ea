import { useCallback, useEffect, useRef, useState } from 'react';
import { useI18n } from '../../i18n';
import { api, query } from '../../lib/api';
import type { Realtime } from '../../lib/realtime';
import type { DepartmentWithTypes, ReportRow, RoomEvent, Task, TaskUpdate } from '../../lib/types';
import { useNow } from '../../lib/use-now';
import { activeStatuses, isOverdue } from '../tasks/task-bits';

/**
 * Follow-up tasks per department: waiting to be taken, in work, overdue now, and breached today.
 * The still-owed tasks are read once and kept live from the supervisors' `task_updated` events;
 * "breached today" comes from the reports' department rollup and is re-read when a breach happens.
 */
export function WallboardTasks({ realtime, day }: { realtime: Realtime; day: string | undefined }) {
  const { t } = useI18n();
  const now = useNow(30_000);
  const [departments, setDepartments] = useState<DepartmentWithTypes[]>([]);
  const [tasks, setTasks] = useState<Record<string, Task>>({});
  const [breached, setBreached] = useState<Record<string, number>>({});
  const [failed, setFailed] = useState(false);
  const dayRef = useRef(day);
  dayRef.current = day;

  const loadBreaches = useCallback(async () => {
    if (!dayRef.current) return;
    try {
      const report = await api<{ items: ReportRow[] }>('GET', `/api/reports/departments${query({ from: dayRef.current, to: dayRef.current, interval: 'day' })}`);
      const counts: Record<string, number> = {};
      for (const row of report.items) counts[String(row.departmentId)] = (counts[String(row.departmentId)] ?? 0) + (typeof row.tasksBreached === 'number' ? row.tasksBreached : 0);
      setBreached(counts);
    } catch {
      // The live counts above still hold; breaches catch up on the next change.
    }
  }, []);

  const load = useCallback(async () => {
    try {
      const [list, page] = await Promise.all([
        api<{ items: DepartmentWithTypes[] }>('GET', '/api/departments'),
        api<{ items: Task[] }>('GET', `/api/tasks${query({ status: [...activeStatuses].join(','), sort: 'dueAt', limit: 200 })}`),
      ]);
      setDepartments(list.items);
      setTasks(Object.fromEntries(page.items.map((task) => [task.id, task])));
      setFailed(false);
    } catch {
      setFailed(true);
    }
    await loadBreaches();
  }, [loadBreaches]);

  useEffect(() => {
    const changed = (event: RoomEvent<TaskUpdate>) => {
      const { task, entry } = event.data ?? {};
      if (!task) return;
      setTasks((current) => {
        const known = current[task.id];
        if (known && (known.version ?? 0) > (task.version ?? 0)) return current;
        const next = { ...current };
        if (activeStatuses.has(task.status)) next[task.id] = task;
        else delete next[task.id];
        return next;
      });
      if (entry?.action === 'sla_breached') void loadBreaches();
    };
    const stops = [realtime.on('task_updated', changed), realtime.on('resync', () => void load())];
    void load();
    return () => stops.forEach((stop) => stop());
  }, [realtime, load, loadBreaches]);

  useEffect(() => {
    void loadBreaches();
  }, [day, loadBreaches]);

  const all = Object.values(tasks);
  const rows = departments
    .filter((department) => department.taskTypes?.length || all.some((task) => task.departmentId === department.id))
    .map((department) => {
      const mine = all.filter((task) => task.departmentId === department.id);
      return {
        department,
        waiting: mine.filter((task) => task.status === 'open' || task.status === 'reopened').length,
        working: mine.filter((task) => task.status === 'accepted' || task.status === 'in_progress').length,
        overdue: mine.filter((task) => isOverdue(task, now)).length,
        breached: breached[department.id] ?? 0,
      };
    });

  return (
    <section className="card" aria-labelledby="wallboard-tasks-title" data-testid="wallboard-tasks">
      <h2 id="wallboard-tasks-title">{t('wallboard.tasks')}</h2>
      {failed && <p className="muted small">{t('wallboard.tasksUnavailable')}</p>}
      <table className="figures">
        <thead>
          <tr>
            <th>{t('tasks.department')}</th>
            <th className="num">{t('wallboard.tasksOpen')}</th>
            <th className="num">{t('wallboard.tasksWorking')}</th>
            <th className="num">{t('wallboard.tasksOverdue')}</th>
            <th className="num">{t('wallboard.tasksBreached')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.department.id} data-testid={`tasks-${row.department.code}`}>
              <th scope="row">{row.department.name}</th>
              <td className="num big" data-testid="tasks-open">
                {row.waiting}
              </td>
              <td className="num" data-testid="tasks-working">
                {row.working}
              </td>
              <td className={`num ${row.overdue ? 'late' : ''}`} data-testid="tasks-overdue">
                {row.overdue}
              </td>
              <td className={`num ${row.breached ? 'late' : ''}`} data-testid="tasks-breached">
                {row.breached}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && !failed && <p className="muted small">{t('wallboard.noDepartments')}</p>}
    </section>
  );
}

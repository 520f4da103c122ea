import { useNotices } from '../../components/notices';
import { useI18n, type Translate } from '../../i18n';
import { api, ApiError } from '../../lib/api';
import { dateTime, span } from '../../lib/format';
import type { Task, TaskPriority, TaskStatus } from '../../lib/types';
import { useNow } from '../../lib/use-now';

/** Statuses in which the department still owes work (src/tasks/task.contracts.ts). */
export const activeStatuses: ReadonlySet<TaskStatus> = new Set(['open', 'accepted', 'in_progress', 'reopened']);

export function isOverdue(task: Pick<Task, 'dueAt' | 'status'>, now: number): boolean {
  return activeStatuses.has(task.status) && Date.parse(task.dueAt) < now;
}

export function TaskStatusBadge({ status }: { status: TaskStatus }) {
  const { t } = useI18n();
  return (
    <span className={`task-status task-${status}`} data-testid="task-status">
      {t(`taskStatus.${status}`)}
    </span>
  );
}

export function PriorityBadge({ priority }: { priority: TaskPriority }) {
  const { t } = useI18n();
  return <span className={`priority priority-${priority}`}>{t(`priority.${priority}`)}</span>;
}

/** "in 3 h" / "2 h overdue", with the exact time as a tooltip; only still-owed tasks can be late. */
export function DueLabel({ task }: { task: Pick<Task, 'dueAt' | 'status'> }) {
  const { t, locale } = useI18n();
  const now = useNow(30_000);
  const seconds = (Date.parse(task.dueAt) - now) / 1000;
  const amount = span(seconds);
  const time = t(`time.${amount.unit}`, { count: amount.count });
  const title = dateTime(task.dueAt, locale);
  if (!activeStatuses.has(task.status)) return <span className="muted small" title={title}>{t('tasks.due', { due: title })}</span>;
  return seconds < 0 ? (
    <span className="overdue small" title={title} data-testid="due">
      {t('board.overdueBy', { time })}
    </span>
  ) : (
    <span className="muted small" title={title} data-testid="due">
      {t('board.dueIn', { time })}
    </span>
  );
}

/**
 * Accepts a task; when a colleague was first (409), says who took it and hands back the task as it
 * now is, so the board can show the truth instead of a generic error.
 */
export function useAcceptTask(): (task: Task) => Promise<Task | null> {
  const { t } = useI18n();
  const notices = useNotices();
  return async (task) => {
    try {
      return await api<Task>('POST', `/api/tasks/${task.id}/accept`, {});
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'conflict') {
        notices.failed(t('action.acceptTask'), error);
        return null;
      }
      try {
        const current = await api<Task>('GET', `/api/tasks/${task.id}`);
        notices.problem(t('board.alreadyTaken', { reference: task.reference, name: takenBy(current, t) }), t('board.alreadyTakenHint'));
        return current;
      } catch (reload) {
        notices.failed(t('action.acceptTask'), reload);
        return null;
      }
    }
  };
}

function takenBy(task: Task, t: Translate): string {
  const entry = [...(task.history ?? [])].reverse().find((item) => item.action === 'accepted' || item.action === 'assigned' || item.action === 'resolved');
  return entry?.actor.name ?? t('board.someoneElse');
}

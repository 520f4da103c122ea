import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useNotices } from '../../components/notices';
import { useI18n } from '../../i18n';
import { api, query } from '../../lib/api';
import type { BusinessHours, DepartmentWithTypes, TaskPriority, TaskType, User, Weekday } from '../../lib/types';

const weekdays: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const priorities: TaskPriority[] = ['low', 'normal', 'high', 'urgent'];

/** "09:00-12:00, 13:00-18:00" ⇄ openings: one line per day is quicker to edit than a widget per opening. */
export function openingsText(openings: { start: string; end: string }[] | undefined): string {
  return (openings ?? []).map((opening) => `${opening.start}-${opening.end}`).join(', ');
}

export function parseOpenings(text: string): { start: string; end: string }[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [start = '', end = ''] = part.split('-').map((value) => value.trim());
      return { start, end };
    });
}

interface Draft {
  name: string;
  timezone: string;
  headUserId: string;
  hours: Record<Weekday, string>;
  holidays: string;
  taskTypes: TaskType[];
}

function draftOf(department: DepartmentWithTypes): Draft {
  const weekly = department.businessHours?.weekly ?? {};
  return {
    name: department.name,
    timezone: department.timezone,
    headUserId: department.headUserId ?? '',
    hours: Object.fromEntries(weekdays.map((day) => [day, openingsText(weekly[day])])) as Record<Weekday, string>,
    holidays: (department.businessHours?.holidays ?? []).join(', '),
    taskTypes: (department.taskTypes ?? []).map((type) => ({ ...type, fields: type.fields.map((field) => ({ ...field })), checklist: [...(type.checklist ?? [])] })),
  };
}

/** Departments: business hours (SLA clocks run only inside them) and task types with their fields, saved with PATCH. */
export function DepartmentsPage() {
  const { t } = useI18n();
  const notices = useNotices();
  const [departments, setDepartments] = useState<DepartmentWithTypes[] | null>(null);
  const [selectedId, setSelectedId] = useState('');
  const [draft, setDraft] = useState<Draft | null>(null);
  const [members, setMembers] = useState<User[]>([]);
  const [saving, setSaving] = useState(false);

  const load = useCallback(async () => {
    try {
      setDepartments((await api<{ items: DepartmentWithTypes[] }>('GET', '/api/departments')).items);
    } catch (error) {
      notices.failed(t('action.loadDepartments'), error);
    }
  }, [notices, t]);
  useEffect(() => {
    void load();
  }, [load]);

  const select = (id: string) => {
    setSelectedId(id);
    const department = departments?.find((candidate) => candidate.id === id);
    setDraft(department ? draftOf(department) : null);
    setMembers([]);
    if (department) {
      api<{ items: User[] }>('GET', `/api/users${query({ role: 'department', departmentId: id })}`)
        .then((page) => setMembers(page.items))
        .catch(() => undefined);
    }
  };

  const setType = (index: number, change: Partial<TaskType>) => draft && setDraft({ ...draft, taskTypes: draft.taskTypes.map((type, at) => (at === index ? { ...type, ...change } : type)) });

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (!draft) return;
    setSaving(true);
    const weekly: BusinessHours['weekly'] = {};
    for (const day of weekdays) {
      const openings = parseOpenings(draft.hours[day]);
      if (openings.length) weekly[day] = openings;
    }
    const body = {
      name: draft.name,
      timezone: draft.timezone,
      ...(draft.headUserId ? { headUserId: draft.headUserId } : {}),
      businessHours: { weekly, holidays: draft.holidays.split(',').map((day) => day.trim()).filter(Boolean) },
      taskTypes: draft.taskTypes.map((type) => ({
        ...type,
        slaMinutes: Number(type.slaMinutes),
        fields: type.fields.map((field) => ({ key: field.key, label: field.label, required: field.required, ...(field.pattern ? { pattern: field.pattern } : {}) })),
        checklist: (type.checklist ?? []).map((item) => item.trim()).filter(Boolean),
      })),
    };
    try {
      const saved = await api<DepartmentWithTypes>('PATCH', `/api/departments/${selectedId}`, body);
      setDepartments((current) => current?.map((department) => (department.id === saved.id ? saved : department)) ?? null);
      setDraft(draftOf(saved));
      notices.info(t('admin.departmentSaved', { name: saved.name }));
    } catch (error) {
      notices.failed(t('action.saveDepartment'), error);
    }
    setSaving(false);
  };

  return (
    <>
      <section className="card">
        <h2>{t('admin.departments')}</h2>
        <table className="list" data-testid="departments-table">
          <thead>
            <tr>
              <th>{t('admin.code')}</th>
              <th>{t('admin.name')}</th>
              <th>{t('admin.timezone')}</th>
              <th className="num">{t('admin.taskTypes')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {departments?.map((department) => (
              <tr key={department.id} className={department.id === selectedId ? 'selected' : ''}>
                <td className="mono">{department.code}</td>
                <td>{department.name}</td>
                <td>{department.timezone}</td>
                <td className="num">{department.taskTypes?.length ?? 0}</td>
                <td>
                  <button type="button" className="secondary small" onClick={() => select(department.id)} data-testid={`edit-${department.code}`}>
                    {t('admin.edit')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {draft && (
        <form className="card department-form" onSubmit={save} data-testid="department-form">
          <div className="form-grid">
            <label>
              {t('admin.name')}
              <input required value={draft.name} onChange={(event) => setDraft({ ...draft, name: event.target.value })} />
            </label>
            <label>
              {t('admin.timezone')}
              <input required value={draft.timezone} onChange={(event) => setDraft({ ...draft, timezone: event.target.value })} />
            </label>
            <label>
              {t('admin.head')}
              <select value={draft.headUserId} onChange={(event) => setDraft({ ...draft, headUserId: event.target.value })}>
                <option value="">—</option>
                {members.map((member) => (
                  <option key={member.id} value={member.id}>
                    {member.name}
                  </option>
                ))}
              </select>
            </label>
          </div>

          <h3>{t('admin.businessHours')}</h3>
          <p className="muted small">{t('admin.hoursHint')}</p>
          <div className="hours-grid">
            {weekdays.map((day) => (
              <label key={day}>
                {t(`weekday.${day}`)}
                <input value={draft.hours[day]} placeholder={t('admin.closed')} onChange={(event) => setDraft({ ...draft, hours: { ...draft.hours, [day]: event.target.value } })} data-testid={`hours-${day}`} />
              </label>
            ))}
            <label className="wide">
              {t('admin.holidays')}
              <input value={draft.holidays} placeholder="2026-10-01, 2026-10-02" onChange={(event) => setDraft({ ...draft, holidays: event.target.value })} />
            </label>
          </div>

          <h3>{t('admin.taskTypes')}</h3>
          {draft.taskTypes.map((type, index) => (
            <fieldset key={index} className="task-type" data-testid="task-type-form">
              <legend>{type.name || t('admin.newTaskType')}</legend>
              <div className="form-grid">
                <label>
                  {t('admin.code')}
                  <input required value={type.code} onChange={(event) => setType(index, { code: event.target.value })} />
                </label>
                <label>
                  {t('admin.name')}
                  <input required value={type.name} onChange={(event) => setType(index, { name: event.target.value })} />
                </label>
                <label>
                  {t('admin.slaMinutes')}
                  <input required type="number" min={1} value={type.slaMinutes} onChange={(event) => setType(index, { slaMinutes: Number(event.target.value) })} data-testid="type-sla" />
                </label>
                <label>
                  {t('tasks.priority')}
                  <select value={type.defaultPriority} onChange={(event) => setType(index, { defaultPriority: event.target.value as TaskPriority })}>
                    {priorities.map((priority) => (
                      <option key={priority} value={priority}>
                        {t(`priority.${priority}`)}
                      </option>
                    ))}
                  </select>
                </label>
                <label className="inline">
                  <input type="checkbox" checked={!!type.notifyCustomerOnCreate} onChange={(event) => setType(index, { notifyCustomerOnCreate: event.target.checked })} />
                  {t('admin.notifyOnCreate')}
                </label>
                <label className="wide">
                  {t('admin.checklist')}
                  <textarea rows={2} value={(type.checklist ?? []).join('\n')} onChange={(event) => setType(index, { checklist: event.target.value.split('\n') })} />
                </label>
              </div>
              <table className="list">
                <thead>
                  <tr>
                    <th>{t('admin.fieldKey')}</th>
                    <th>{t('admin.fieldLabel')}</th>
                    <th>{t('admin.fieldPattern')}</th>
                    <th>{t('admin.fieldRequired')}</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {type.fields.map((field, at) => {
                    const setField = (change: Partial<typeof field>) => setType(index, { fields: type.fields.map((candidate, i) => (i === at ? { ...candidate, ...change } : candidate)) });
                    return (
                      <tr key={at}>
                        <td>
                          <input required value={field.key} onChange={(event) => setField({ key: event.target.value })} aria-label={t('admin.fieldKey')} />
                        </td>
                        <td>
                          <input required value={field.label} onChange={(event) => setField({ label: event.target.value })} aria-label={t('admin.fieldLabel')} />
                        </td>
                        <td>
                          <input className="mono" value={field.pattern ?? ''} onChange={(event) => setField({ pattern: event.target.value || undefined })} aria-label={t('admin.fieldPattern')} />
                        </td>
                        <td>
                          <input type="checkbox" checked={field.required} onChange={(event) => setField({ required: event.target.checked })} aria-label={t('admin.fieldRequired')} />
                        </td>
                        <td>
                          <button type="button" className="link" onClick={() => setType(index, { fields: type.fields.filter((_, i) => i !== at) })}>
                            {t('admin.remove')}
                          </button>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              <div className="row">
                <button type="button" className="secondary small" onClick={() => setType(index, { fields: [...type.fields, { key: '', label: '', required: false }] })}>
                  {t('admin.addField')}
                </button>
                <span className="spacer" />
                <button type="button" className="link" onClick={() => setDraft({ ...draft, taskTypes: draft.taskTypes.filter((_, at) => at !== index) })}>
                  {t('admin.removeTaskType')}
                </button>
              </div>
            </fieldset>
          ))}
          <div className="row">
            <button
              type="button"
              className="secondary"
              onClick={() => setDraft({ ...draft, taskTypes: [...draft.taskTypes, { code: '', name: '', slaMinutes: 480, defaultPriority: 'normal', fields: [], checklist: [], notifyCustomerOnCreate: false, templates: {} }] })}
            >
              {t('admin.addTaskType')}
            </button>
            <span className="spacer" />
            <button type="button" className="secondary" onClick={() => select(selectedId)}>
              {t('common.cancel')}
            </button>
            <button type="submit" className="primary" disabled={saving} data-testid="department-save">
              {t('admin.save')}
            </button>
          </div>
        </form>
      )}
    </>
  );
}

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useNotices } from '../../components/notices';
import { useI18n, type MessageKey } from '../../i18n';
import { api } from '../../lib/api';
import { dateTime, percent } from '../../lib/format';
import { AgentsPage } from './agents-page';
import { DepartmentsPage } from './departments-page';
import type { ApiKey, Department, Locale, QueueSnapshot, Role, User } from '../../lib/types';

const tabs = ['queues', 'users', 'agents', 'departments', 'apiKeys'] as const;
type Tab = (typeof tabs)[number];

/** Plain admin pages over the REST API: read queues, manage users, agents' skills, departments and API keys. */
export function AdminScreen() {
  const { t } = useI18n();
  const [tab, setTab] = useState<Tab>('users');
  return (
    <div className="admin">
      <div className="tabs" role="tablist">
        {tabs.map((name) => (
          <button key={name} type="button" role="tab" aria-selected={tab === name} className={tab === name ? 'active' : ''} onClick={() => setTab(name)}>
            {t(`admin.${name}`)}
          </button>
        ))}
      </div>
      {tab === 'queues' && <QueuesPage />}
      {tab === 'users' && <UsersPage />}
      {tab === 'agents' && <AgentsPage />}
      {tab === 'departments' && <DepartmentsPage />}
      {tab === 'apiKeys' && <ApiKeysPage />}
    </div>
  );
}

function useList<T>(path: string, action: MessageKey): [T[] | null, () => Promise<void>] {
  const { t } = useI18n();
  const notices = useNotices();
  const [items, setItems] = useState<T[] | null>(null);
  const load = useCallback(async () => {
    try {
      setItems((await api<{ items: T[] }>('GET', path)).items);
    } catch (error) {
      notices.failed(t(action), error);
    }
  }, [path, action, notices, t]);
  useEffect(() => {
    void load();
  }, [load]);
  return [items, load];
}

function QueuesPage() {
  const { t } = useI18n();
  const [queues] = useList<QueueSnapshot>('/api/routing/queues', 'action.loadQueues');
  return (
    <section className="card">
      <h2>{t('admin.queues')}</h2>
      <p className="muted small">{t('admin.queuesReadOnly')}</p>
      <table className="list">
        <thead>
          <tr>
            <th>{t('wallboard.queue')}</th>
            <th className="num">{t('admin.slThreshold')}</th>
            <th className="num">{t('wallboard.waiting')}</th>
            <th className="num">{t('wallboard.serviceLevel')}</th>
            <th className="num">{t('admin.agentsServing')}</th>
          </tr>
        </thead>
        <tbody>
          {queues?.map((queue) => (
            <tr key={queue.queue}>
              <td>{queue.queue}</td>
              <td className="num">{t('admin.seconds', { seconds: queue.today.serviceLevelSeconds })}</td>
              <td className="num">{queue.waiting}</td>
              <td className="num">{percent(queue.today.serviceLevel)}</td>
              <td className="num">{Object.values(queue.agents).reduce((sum, count) => sum + count, 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const roles: Role[] = ['agent', 'supervisor', 'admin', 'department'];

function UsersPage() {
  const { t } = useI18n();
  const notices = useNotices();
  const [users, reload] = useList<User>('/api/users', 'action.loadUsers');
  const [departments] = useList<Department>('/api/departments', 'action.loadDepartments');
  const [form, setForm] = useState({ email: '', name: '', role: 'agent' as Role, password: '', departmentId: '', locale: 'en' as Locale });
  const departmentName = (id?: string) => departments?.find((department) => department.id === id)?.name ?? id ?? '';

  const create = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const { departmentId, ...rest } = form;
      const user = await api<User>('POST', '/api/users', { ...rest, ...(departmentId ? { departmentId } : {}) });
      notices.info(t('admin.userCreated', { name: user.name }));
      setForm({ ...form, email: '', name: '', password: '' });
      await reload();
    } catch (error) {
      notices.failed(t('action.createUser'), error);
    }
  };

  const setActive = async (user: User, active: boolean) => {
    if (!active && !window.confirm(t('admin.disableConfirm', { name: user.name }))) return;
    try {
      await api<User>('PATCH', `/api/users/${user.id}`, { active });
      notices.info(t(active ? 'admin.userEnabled' : 'admin.userDisabled', { name: user.name }));
      await reload();
    } catch (error) {
      notices.failed(t('action.updateUser'), error);
    }
  };

  return (
    <>
      <section className="card">
        <h2>{t('admin.users')}</h2>
        <table className="list" data-testid="users-table">
          <thead>
            <tr>
              <th>{t('admin.name')}</th>
              <th>{t('login.email')}</th>
              <th>{t('admin.role')}</th>
              <th>{t('admin.department')}</th>
              <th>{t('common.language')}</th>
              <th>{t('admin.active')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users?.map((user) => (
              <tr key={user.id}>
                <td>{user.name}</td>
                <td>{user.email}</td>
                <td>{t(`role.${user.role}`)}</td>
                <td>{departmentName(user.departmentId)}</td>
                <td>{user.locale}</td>
                <td>{user.active ? t('common.yes') : t('common.no')}</td>
                <td>
                  <button type="button" className="secondary small" onClick={() => void setActive(user, !user.active)} data-testid={`toggle-${user.email}`}>
                    {user.active ? t('admin.disable') : t('admin.enable')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <form className="card form-grid" onSubmit={create}>
        <h2>{t('admin.createUser')}</h2>
        <label>
          {t('login.email')}
          <input type="email" required value={form.email} onChange={(event) => setForm({ ...form, email: event.target.value })} />
        </label>
        <label>
          {t('admin.name')}
          <input required value={form.name} onChange={(event) => setForm({ ...form, name: event.target.value })} />
        </label>
        <label>
          {t('admin.role')}
          <select value={form.role} onChange={(event) => setForm({ ...form, role: event.target.value as Role })}>
            {roles.map((role) => (
              <option key={role} value={role}>
                {t(`role.${role}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('admin.department')}
          <select value={form.departmentId} onChange={(event) => setForm({ ...form, departmentId: event.target.value })}>
            <option value="">—</option>
            {departments?.map((department) => (
              <option key={department.id} value={department.id}>
                {department.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('login.password')}
          <input type="password" required autoComplete="new-password" value={form.password} onChange={(event) => setForm({ ...form, password: event.target.value })} />
        </label>
        <label>
          {t('common.language')}
          <select value={form.locale} onChange={(event) => setForm({ ...form, locale: event.target.value as Locale })}>
            <option value="en">English</option>
            <option value="zh-CN">简体中文</option>
          </select>
        </label>
        <div>
          <button type="submit" className="primary">
            {t('admin.create')}
          </button>
        </div>
      </form>
    </>
  );
}

function ApiKeysPage() {
  const { t, locale } = useI18n();
  const notices = useNotices();
  const [keys, reload] = useList<ApiKey>('/api/api-keys', 'action.loadApiKeys');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('integration');
  const [created, setCreated] = useState<string | null>(null);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const result = await api<{ key: string; apiKey: ApiKey }>('POST', '/api/api-keys', { name, role });
      setCreated(result.key);
      setName('');
      await reload();
    } catch (error) {
      notices.failed(t('action.createApiKey'), error);
    }
  };
  const revoke = async (key: ApiKey) => {
    if (!window.confirm(t('admin.revokeConfirm', { name: key.name }))) return;
    try {
      await api('DELETE', `/api/api-keys/${key.id}`);
      await reload();
    } catch (error) {
      notices.failed(t('action.revokeApiKey'), error);
    }
  };

  return (
    <>
      <section className="card">
        <h2>{t('admin.apiKeys')}</h2>
        {created && (
          <p className="banner banner-warn">
            {t('admin.keyShownOnce')} <code className="mono">{created}</code>
          </p>
        )}
        <table className="list">
          <thead>
            <tr>
              <th>{t('admin.name')}</th>
              <th>{t('admin.role')}</th>
              <th>{t('admin.created')}</th>
              <th>{t('admin.lastUsed')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys?.map((key) => (
              <tr key={key.id} className={key.revokedAt ? 'muted' : ''}>
                <td>{key.name}</td>
                <td>{t(`role.${key.role}`)}</td>
                <td>{dateTime(key.createdAt, locale)}</td>
                <td>{key.lastUsedAt ? dateTime(key.lastUsedAt, locale) : '—'}</td>
                <td>
                  {key.revokedAt ? (
                    t('admin.revoked')
                  ) : (
                    <button type="button" className="secondary small" onClick={() => void revoke(key)}>
                      {t('admin.revoke')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <form className="card row" onSubmit={create}>
        <label className="grow">
          {t('admin.keyName')}
          <input required value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <label>
          {t('admin.role')}
          <select value={role} onChange={(event) => setRole(event.target.value as Role)}>
            {(['integration', 'admin', 'supervisor', 'agent', 'department'] as const).map((option) => (
              <option key={option} value={option}>
                {t(`role.${option}`)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary">
          {t('admin.createKey')}
        </button>
      </form>
    </>
  );
}

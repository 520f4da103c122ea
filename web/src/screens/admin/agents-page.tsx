import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { describeError, useNotices } from '../../components/notices';
import { useI18n, type MessageKey } from '../../i18n';
import { api, query } from '../../lib/api';
import type { User } from '../../lib/types';

/** The channels an admin weighs here; the others keep the server's defaults. */
const weighted = ['voice', 'sms', 'email'] as const;
type Weighted = (typeof weighted)[number];

interface Profile {
  agentId: string;
  skills: Record<string, number>;
  queues: string[];
  capacity: Record<string, number>;
}

interface Draft {
  skills: { name: string; level: string }[];
  queues: string[];
  capacity: Record<Weighted, string>;
}

function draftOf(profile: Profile): Draft {
  return {
    skills: Object.entries(profile.skills).map(([name, level]) => ({ name, level: String(level) })),
    queues: [...profile.queues],
    capacity: Object.fromEntries(weighted.map((channel) => [channel, String(profile.capacity[channel] ?? '')])) as Record<Weighted, string>,
  };
}

const wholeIn = (text: string, min: number, max: number) => /^\d+$/.test(text.trim()) && Number(text) >= min && Number(text) <= max;

/** Problems by field (`skill-2`, `level-2`, `voice`…), checked before the server sees the profile. */
function problemsOf(draft: Draft): Record<string, MessageKey> {
  const problems: Record<string, MessageKey> = {};
  const seen = new Set<string>();
  draft.skills.forEach((skill, index) => {
    const name = skill.name.trim();
    if (!name) problems[`skill-${index}`] = 'admin.skillNameRequired';
    else if (seen.has(name)) problems[`skill-${index}`] = 'admin.skillDuplicate';
    seen.add(name);
    if (!wholeIn(skill.level, 1, 5)) problems[`level-${index}`] = 'admin.levelRange';
  });
  for (const channel of weighted) if (!wholeIn(draft.capacity[channel], 1, 100)) problems[channel] = 'admin.weightRange';
  return problems;
}

/** Agents' routing profiles: skills with levels, the queues they serve and capacity weights, saved with PUT. */
export function AgentsPage() {
  const { t } = useI18n();
  const notices = useNotices();
  const [agents, setAgents] = useState<User[] | null>(null);
  const [queueNames, setQueueNames] = useState<string[]>([]);
  const [selected, setSelected] = useState<User | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [problems, setProblems] = useState<Record<string, MessageKey>>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const load = useCallback(async () => {
    try {
      const [users, queues] = await Promise.all([
        api<{ items: User[] }>('GET', `/api/users${query({ role: 'agent' })}`),
        api<{ items: string[] }>('GET', '/api/routing/queue-names'),
      ]);
      setAgents(users.items);
      setQueueNames(queues.items);
    } catch (error) {
      notices.failed(t('action.loadAgents'), error);
    }
  }, [notices, t]);
  useEffect(() => {
    void load();
  }, [load]);

  const select = async (agent: User) => {
    setSelected(agent);
    setDraft(null);
    setProblems({});
    setServerError(null);
    try {
      setDraft(draftOf(await api<Profile>('GET', `/api/routing/agents/${agent.id}/profile`)));
    } catch (error) {
      notices.failed(t('action.loadProfile'), error);
    }
  };

  const setSkill = (index: number, change: Partial<Draft['skills'][number]>) =>
    draft && setDraft({ ...draft, skills: draft.skills.map((skill, at) => (at === index ? { ...skill, ...change } : skill)) });
  const toggleQueue = (name: string, on: boolean) =>
    draft && setDraft({ ...draft, queues: on ? [...draft.queues, name] : draft.queues.filter((queue) => queue !== name) });

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (!draft || !selected) return;
    const found = problemsOf(draft);
    setProblems(found);
    setServerError(null);
    if (Object.keys(found).length) return;
    setSaving(true);
    const body = {
      skills: Object.fromEntries(draft.skills.map((skill) => [skill.name.trim(), Number(skill.level)])),
      queues: draft.queues,
      capacity: Object.fromEntries(weighted.map((channel) => [channel, Number(draft.capacity[channel])])),
    };
    try {
      setDraft(draftOf(await api<Profile>('PUT', `/api/routing/agents/${selected.id}/profile`, body)));
      notices.info(t('admin.profileSaved', { name: selected.name }));
    } catch (error) {
      setServerError(`${t('error.failed', { action: t('action.saveProfile') })}: ${describeError(error, t)}`);
    }
    setSaving(false);
  };

  const problem = (field: string) => problems[field] && <span className="field-error">{t(problems[field])}</span>;

  return (
    <>
      <section className="card">
        <h2>{t('admin.agents')}</h2>
        <p className="muted small">{t('admin.agentsHint')}</p>
        <table className="list" data-testid="agents-table">
          <thead>
            <tr>
              <th>{t('admin.name')}</th>
              <th>{t('login.email')}</th>
              <th>{t('admin.active')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {agents?.length === 0 && (
              <tr>
                <td colSpan={4} className="muted">
                  {t('admin.noAgents')}
                </td>
              </tr>
            )}
            {agents?.map((agent) => (
              <tr key={agent.id} className={agent.id === selected?.id ? 'selected' : ''}>
                <td>{agent.name}</td>
                <td>{agent.email}</td>
                <td>{agent.active ? t('common.yes') : t('common.no')}</td>
                <td>
                  <button type="button" className="secondary small" onClick={() => void select(agent)} data-testid={`edit-agent-${agent.email}`}>
                    {t('admin.edit')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {selected && draft && (
        <form className="card" onSubmit={save} noValidate data-testid="agent-profile-form">
          <h2>{selected.name}</h2>
          {serverError && (
            <p className="banner banner-error" role="alert" data-testid="agent-profile-error">
              {serverError}
            </p>
          )}

          <h3>{t('admin.skills')}</h3>
          {draft.skills.length === 0 && <p className="muted small">{t('admin.noSkills')}</p>}
          {draft.skills.map((skill, index) => (
            <div key={index} className="row">
              <label>
                {t('admin.skillName')}
                <input value={skill.name} maxLength={50} onChange={(event) => setSkill(index, { name: event.target.value })} data-testid="skill-name" />
                {problem(`skill-${index}`)}
              </label>
              <label>
                {t('admin.skillLevel')}
                <input type="number" min={1} max={5} step={1} value={skill.level} onChange={(event) => setSkill(index, { level: event.target.value })} data-testid="skill-level" />
                {problem(`level-${index}`)}
              </label>
              <button type="button" className="link" onClick={() => setDraft({ ...draft, skills: draft.skills.filter((_, at) => at !== index) })}>
                {t('admin.remove')}
              </button>
            </div>
          ))}
          <div className="row">
            <button type="button" className="secondary small" onClick={() => setDraft({ ...draft, skills: [...draft.skills, { name: '', level: '3' }] })} data-testid="add-skill">
              {t('admin.addSkill')}
            </button>
          </div>

          <h3>{t('admin.queuesServed')}</h3>
          <p className="muted small">{t('admin.queuesServedHint')}</p>
          <div className="row">
            {queueNames.map((name) => (
              <label key={name} className="row tight">
                <input type="checkbox" checked={draft.queues.includes(name)} onChange={(event) => toggleQueue(name, event.target.checked)} data-testid={`queue-${name}`} />
                {name}
              </label>
            ))}
          </div>

          <h3>{t('admin.capacity')}</h3>
          <p className="muted small">{t('admin.capacityHint')}</p>
          <div className="form-grid">
            {weighted.map((channel) => (
              <label key={channel}>
                {t(`admin.weight.${channel}`)}
                <input
                  type="number"
                  min={1}
                  max={100}
                  step={1}
                  value={draft.capacity[channel]}
                  onChange={(event) => setDraft({ ...draft, capacity: { ...draft.capacity, [channel]: event.target.value } })}
                  data-testid={`weight-${channel}`}
                />
                {problem(channel)}
              </label>
            ))}
          </div>

          <div className="row">
            <span className="spacer" />
            <button type="button" className="secondary" onClick={() => void select(selected)}>
              {t('common.cancel')}
            </button>
            <button type="submit" className="primary" disabled={saving} data-testid="agent-profile-save">
              {t('admin.save')}
            </button>
          </div>
        </form>
      )}
    </>
  );
}

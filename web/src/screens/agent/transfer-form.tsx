import { useEffect, useState, type FormEvent } from 'react';
import { describeError } from '../../components/notices';
import { useI18n } from '../../i18n';
import { api, ApiError } from '../../lib/api';
import type { AgentSnapshot } from '../../lib/types';

type Target = { toAgentId: string } | { toQueue: string };

const queuePattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * Hands the active contact to a queue (or, for roles that may list agents, to an agent) with a
 * required note. Every front-line role may list the queues; the agent list is a supervisor view
 * on the server (an agent gets 403 there and transfers to a queue).
 */
export function TransferForm({ currentQueue, onTransfer, onCancel }: { currentQueue?: string; onTransfer: (target: Target, note: string) => Promise<void>; onCancel: () => void }) {
  const { t } = useI18n();
  const [queues, setQueues] = useState<string[] | null>(null);
  const [agents, setAgents] = useState<AgentSnapshot[]>([]);
  const [kind, setKind] = useState<'queue' | 'agent'>('queue');
  const [queue, setQueue] = useState('');
  const [agentId, setAgentId] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    api<{ items: string[] }>('GET', '/api/routing/queue-names')
      .then((page) => live && setQueues(page.items))
      // Not readable right now: a typed queue name still works.
      .catch(() => live && setQueues([]));
    api<{ items: AgentSnapshot[] }>('GET', '/api/routing/agents')
      .then((page) => live && setAgents(page.items))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const text = note.trim();
    if (!text) {
      setError(t('transfer.noteRequired'));
      return;
    }
    let target: Target;
    if (kind === 'agent') {
      if (!agentId) {
        setError(t('transfer.agentRequired'));
        return;
      }
      target = { toAgentId: agentId };
    } else {
      const name = queue.trim();
      if (!queuePattern.test(name)) {
        setError(t('transfer.queueRequired'));
        return;
      }
      target = { toQueue: name };
    }
    setBusy(true);
    try {
      await onTransfer(target, text);
    } catch (failure) {
      setError(failure instanceof ApiError ? describeError(failure, t) : t('hint.internal'));
    }
    setBusy(false);
  };

  const listed = (queues ?? []).filter((name) => name !== currentQueue);
  return (
    <form className="transfer card" data-testid="transfer-form" onSubmit={submit} noValidate>
      <h3>{t('transfer.title')}</h3>
      {agents.length > 0 && (
        <div className="row" role="radiogroup" aria-label={t('transfer.to')}>
          <label>
            <input type="radio" name="transfer-kind" checked={kind === 'queue'} onChange={() => setKind('queue')} /> {t('transfer.toQueue')}
          </label>
          <label>
            <input type="radio" name="transfer-kind" checked={kind === 'agent'} onChange={() => setKind('agent')} /> {t('transfer.toAgent')}
          </label>
        </div>
      )}
      {kind === 'queue' ? (
        <label>
          {t('transfer.queue')}
          {listed.length > 0 ? (
            <select value={queue} onChange={(event) => setQueue(event.target.value)} data-testid="transfer-queue">
              <option value="">{t('transfer.choose')}</option>
              {listed.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          ) : (
            <input value={queue} onChange={(event) => setQueue(event.target.value)} placeholder={t('transfer.queuePlaceholder')} data-testid="transfer-queue" disabled={queues === null} />
          )}
        </label>
      ) : (
        <label>
          {t('transfer.agent')}
          <select value={agentId} onChange={(event) => setAgentId(event.target.value)} data-testid="transfer-agent">
            <option value="">{t('transfer.choose')}</option>
            {agents.map((agent) => (
              <option key={agent.agentId} value={agent.agentId}>
                {agent.agentId} · {t(`state.${agent.state}`)}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        {t('transfer.note')} *
        <input value={note} onChange={(event) => setNote(event.target.value)} required maxLength={2000} placeholder={t('transfer.notePlaceholder')} data-testid="transfer-note" />
      </label>
      {error && (
        <p className="field-error" role="alert" data-testid="transfer-error">
          {error}
        </p>
      )}
      <div className="row">
        <span className="spacer" />
        <button type="button" className="secondary" onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button type="submit" className="primary" disabled={busy} data-testid="transfer-submit">
          {busy ? t('transfer.sending') : t('transfer.submit')}
        </button>
      </div>
    </form>
  );
}

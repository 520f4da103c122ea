import { useCallback, useEffect, useRef, useState } from 'react';
import { ChannelIcon } from '../../components/icons';
import { useNotices } from '../../components/notices';
import { useI18n } from '../../i18n';
import { api } from '../../lib/api';
import { clock, percent, secondsSince, shortDuration } from '../../lib/format';
import type { Realtime } from '../../lib/realtime';
import type { AgentSnapshot, AgentState, Customer, QueueSnapshot, RequestedAgentState, RoomEvent, User, WaitingContact } from '../../lib/types';
import { useNow } from '../../lib/use-now';
import { reasonLabel } from '../agent/presence-control';
import { WallboardCharts } from './wallboard-charts';
import { WallboardTasks } from './wallboard-tasks';

const agentStates: AgentState[] = ['available', 'busy', 'wrap_up', 'away', 'offline'];
const stateOrder: Record<AgentState, number> = { busy: 0, wrap_up: 1, available: 2, away: 3, offline: 4 };

/**
 * The supervisor's live view: queue figures pushed by the server (at most once a second per
 * queue), agents as their state changes, and the contacts waiting. Refetched in full after a
 * reconnect, since room events are current states with nothing to replay.
 */
export function Wallboard({ realtime }: { realtime: Realtime }) {
  const { t } = useI18n();
  const notices = useNotices();
  const now = useNow();
  const [queues, setQueues] = useState<Record<string, QueueSnapshot>>({});
  const [agents, setAgents] = useState<Record<string, AgentSnapshot>>({});
  const [users, setUsers] = useState<Record<string, User>>({});
  const [waiting, setWaiting] = useState<Record<string, WaitingContact[]>>({});
  const [customers, setCustomers] = useState<Record<string, string>>({});
  const [loadedAt, setLoadedAt] = useState<number | null>(null);
  const waitingRequests = useRef(new Map<string, number>());

  const loadWaiting = useCallback(async (queue: string) => {
    // One request per queue at a time; a burst of nudges collapses into the one in flight.
    const ticket = (waitingRequests.current.get(queue) ?? 0) + 1;
    waitingRequests.current.set(queue, ticket);
    try {
      const page = await api<{ items: WaitingContact[] }>('GET', `/api/routing/queues/${encodeURIComponent(queue)}/waiting`);
      if (waitingRequests.current.get(queue) === ticket) setWaiting((current) => ({ ...current, [queue]: page.items }));
    } catch {
      // The figures above still update; the list catches up on the next change or reconnect.
    }
  }, []);

  const loadAll = useCallback(async () => {
    try {
      const [queueList, agentList, userList] = await Promise.all([
        api<{ items: QueueSnapshot[] }>('GET', '/api/routing/queues'),
        api<{ items: AgentSnapshot[] }>('GET', '/api/routing/agents'),
        api<{ items: User[] }>('GET', '/api/users'),
      ]);
      setQueues(Object.fromEntries(queueList.items.map((queue) => [queue.queue, queue])));
      setAgents(Object.fromEntries(agentList.items.map((agent) => [agent.agentId, agent])));
      setUsers(Object.fromEntries(userList.items.map((user) => [user.id, user])));
      setLoadedAt(Date.now());
      await Promise.all(queueList.items.map((queue) => loadWaiting(queue.queue)));
    } catch (error) {
      notices.failed(t('action.loadWallboard'), error);
    }
  }, [loadWaiting, notices, t]);

  useEffect(() => {
    const stops = [
      realtime.on('queue_snapshot', (event: RoomEvent<QueueSnapshot>) => {
        setQueues((current) => ({ ...current, [event.data.queue]: event.data }));
        void loadWaiting(event.data.queue);
      }),
      realtime.on('agent_state', (event: RoomEvent<AgentSnapshot>) => setAgents((current) => ({ ...current, [event.data.agentId]: event.data }))),
      realtime.on('resync', () => void loadAll()),
    ];
    void loadAll();
    return () => stops.forEach((stop) => stop());
  }, [realtime, loadAll, loadWaiting]);

  // Names for the waiting list, each customer read once.
  useEffect(() => {
    const missing = [...new Set(Object.values(waiting).flat().map((contact) => contact.customerId))].filter((id) => !(id in customers));
    if (!missing.length) return;
    setCustomers((current) => ({ ...current, ...Object.fromEntries(missing.map((id) => [id, ''])) }));
    for (const id of missing) {
      api<Customer>('GET', `/api/customers/${id}`)
        .then((customer) => setCustomers((current) => ({ ...current, [id]: customer.name })))
        .catch(() => undefined);
    }
  }, [waiting, customers]);

  const forceState = async (agentId: string, state: RequestedAgentState) => {
    try {
      const snapshot = await api<AgentSnapshot>('PUT', `/api/routing/agents/${agentId}/state`, { state });
      setAgents((current) => ({ ...current, [agentId]: snapshot }));
      notices.info(t('wallboard.stateForced', { name: users[agentId]?.name ?? agentId, state: t(`state.${state}`) }));
    } catch (error) {
      notices.failed(t('action.forceState'), error);
    }
  };

  const move = async (contact: WaitingContact, toQueue: string) => {
    try {
      await api('POST', `/api/routing/contacts/${contact.interactionId}/move`, { toQueue });
      notices.info(t('wallboard.moved', { queue: toQueue }));
      await Promise.all([loadWaiting(contact.queue), loadWaiting(toQueue)]);
    } catch (error) {
      notices.failed(t('action.moveContact'), error);
    }
  };

  const queueNames = Object.keys(queues).sort();
  const agentRows = Object.values(agents).sort(
    (a, b) => stateOrder[a.state] - stateOrder[b.state] || (users[a.agentId]?.name ?? a.agentId).localeCompare(users[b.agentId]?.name ?? b.agentId),
  );
  const waitingRows = Object.values(waiting)
    .flat()
    .sort((a, b) => Date.parse(a.enqueuedAt) - Date.parse(b.enqueuedAt));

  return (
    <div className="wallboard" data-testid="wallboard">
      <section className="card">
        <header className="row">
          <h2>{t('wallboard.queues')}</h2>
          <span className="spacer" />
          {loadedAt && <span className="muted small">{t('wallboard.today', { day: Object.values(queues)[0]?.today.day ?? '', zone: Object.values(queues)[0]?.today.timeZone ?? '' })}</span>}
        </header>
        <table className="figures" data-testid="queue-table">
          <thead>
            <tr>
              <th>{t('wallboard.queue')}</th>
              <th className="num">{t('wallboard.waiting')}</th>
              <th className="num">{t('wallboard.longestWait')}</th>
              <th className="num">{t('wallboard.serviceLevel')}</th>
              <th className="num">{t('wallboard.abandoned')}</th>
              <th className="num" title={t('wallboard.asaHint')}>
                {t('wallboard.asa')}
              </th>
              <th className="num">{t('wallboard.answered')}</th>
              <th className="num">{t('wallboard.ringing')}</th>
              {agentStates.map((state) => (
                <th key={state} className="num">
                  <span className={`state-dot state-${state}`} aria-hidden="true" />
                  {t(`state.${state}`)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {queueNames.map((name) => {
              const queue = queues[name];
              const longest = queue.waiting > 0 ? queue.longestWaitSeconds + secondsSince(queue.at, now) : 0;
              const asa = queue.today.asaSeconds;
              return (
                <tr key={name} data-testid={`queue-${name}`} className={queue.waiting > 0 ? 'has-waiting' : ''}>
                  <th scope="row">{name}</th>
                  <td className="num big" data-testid="waiting">
                    {queue.waiting}
                  </td>
                  <td className={`num ${longest > queue.today.serviceLevelSeconds ? 'late' : ''}`}>{queue.waiting > 0 ? clock(longest) : '—'}</td>
                  <td className="num" data-testid="service-level" title={t('wallboard.slThreshold', { seconds: queue.today.serviceLevelSeconds })}>
                    {percent(queue.today.serviceLevel)}
                  </td>
                  <td className="num" data-testid="abandoned">
                    {queue.today.abandoned}
                  </td>
                  <td className="num" data-testid="asa">
                    {asa === undefined || asa === null ? '—' : shortDuration(asa)}
                  </td>
                  <td className="num" data-testid="answered">
                    {queue.today.answered}/{queue.today.offered}
                  </td>
                  <td className="num" data-testid="ringing">
                    {queue.offersInFlight}
                  </td>
                  {agentStates.map((state) => (
                    <td key={state} className="num" data-testid={`agents-${state}`}>
                      {queue.agents[state]}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>

      <div className="wallboard-grid">
        <section className="card" aria-labelledby="agents-title">
          <h2 id="agents-title">{t('wallboard.agents')}</h2>
          {agentRows.length === 0 && <p className="muted">{t('wallboard.noAgents')}</p>}
          <table className="list" data-testid="agent-table">
            <thead>
              <tr>
                <th>{t('wallboard.agent')}</th>
                <th>{t('wallboard.state')}</th>
                <th className="num">{t('wallboard.timeInState')}</th>
                <th>{t('wallboard.contacts')}</th>
                <th>{t('wallboard.force')}</th>
              </tr>
            </thead>
            <tbody>
              {agentRows.map((agent) => (
                <AgentRow key={agent.agentId} agent={agent} name={users[agent.agentId]?.name ?? agent.agentId} now={now} onForce={(state) => void forceState(agent.agentId, state)} />
              ))}
            </tbody>
          </table>
        </section>

        <section className="card" aria-labelledby="waiting-title">
          <h2 id="waiting-title">{t('wallboard.waitingContacts')}</h2>
          {waitingRows.length === 0 && <p className="muted">{t('wallboard.nobodyWaiting')}</p>}
          <table className="list" data-testid="waiting-table">
            <tbody>
              {waitingRows.map((contact) => (
                <WaitingRow key={contact.interactionId} contact={contact} name={customers[contact.customerId]} queues={queueNames} now={now} onMove={(queue) => void move(contact, queue)} />
              ))}
            </tbody>
          </table>
        </section>
      </div>

      <div className="wallboard-grid">
        <WallboardCharts realtime={realtime} day={Object.values(queues)[0]?.today.day} queues={queueNames} />
        <WallboardTasks realtime={realtime} day={Object.values(queues)[0]?.today.day} />
      </div>
    </div>
  );
}

function AgentRow({ agent, name, now, onForce }: { agent: AgentSnapshot; name: string; now: number; onForce: (state: RequestedAgentState) => void }) {
  const { t } = useI18n();
  const [target, setTarget] = useState<RequestedAgentState>(agent.state === 'away' || agent.state === 'offline' ? 'available' : 'away');
  return (
    <tr data-testid="agent-row" data-agent={agent.agentId} data-state={agent.state}>
      <td>{name}</td>
      <td>
        <span className={`state-badge state-${agent.state}`}>{t(`state.${agent.state}`)}</span>
        {agent.stateReason && <span className="muted small"> {reasonLabel(agent.stateReason, t)}</span>}
      </td>
      {/* An agent who never signed in has no real "since" (the epoch): no timer rather than 56 years. */}
      <td className="num">{Date.parse(agent.stateSince) > 0 ? clock(secondsSince(agent.stateSince, now)) : '—'}</td>
      <td>
        {agent.work.map((item) => (
          <span key={item.interactionId} className="work-chip" title={item.queue}>
            <ChannelIcon channel={item.channel} /> {item.queue} {clock(secondsSince(item.since, now))}
          </span>
        ))}
        {agent.offers.length > 0 && <span className="pill">{t('wallboard.ringingCount', { count: agent.offers.length })}</span>}
      </td>
      <td className="row tight">
        <select aria-label={t('wallboard.force')} value={target} onChange={(event) => setTarget(event.target.value as RequestedAgentState)}>
          {(['available', 'away', 'offline'] as const).map((state) => (
            <option key={state} value={state}>
              {t(`state.${state}`)}
            </option>
          ))}
        </select>
        <button type="button" className="secondary small" onClick={() => onForce(target)}>
          {t('wallboard.set')}
        </button>
      </td>
    </tr>
  );
}

function WaitingRow({ contact, name, queues, now, onMove }: { contact: WaitingContact; name: string | undefined; queues: string[]; now: number; onMove: (queue: string) => void }) {
  const { t } = useI18n();
  const others = queues.filter((queue) => queue !== contact.queue);
  const [target, setTarget] = useState(others[0] ?? '');
  return (
    <tr data-testid="waiting-row">
      <td>
        <ChannelIcon channel={contact.channel} />
      </td>
      <td>{name || t('customer.unknown')}</td>
      <td>{contact.queue}</td>
      <td className="num">{clock(secondsSince(contact.enqueuedAt, now))}</td>
      <td className="row tight">
        <select aria-label={t('wallboard.moveTo')} value={target} onChange={(event) => setTarget(event.target.value)}>
          {others.map((queue) => (
            <option key={queue} value={queue}>
              {queue}
            </option>
          ))}
        </select>
        <button type="button" className="secondary small" disabled={!target} onClick={() => onMove(target)}>
          {t('wallboard.move')}
        </button>
      </td>
    </tr>
  );
}

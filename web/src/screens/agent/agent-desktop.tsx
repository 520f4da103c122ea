import { useEffect, useRef, useState } from 'react';
import { ChannelIcon } from '../../components/icons';
import { useNotices } from '../../components/notices';
import { useI18n } from '../../i18n';
import { api, query } from '../../lib/api';
import type { Realtime } from '../../lib/realtime';
import { useSoftphone } from '../../lib/softphone';
import type { Customer, DepartmentWithTypes, Interaction, ScreenPopHistoryItem, ScreenPopTask, User } from '../../lib/types';
import { TaskDetail } from '../tasks/task-detail';
import { CustomerCard, type CardCustomer } from './customer-card';
import { CustomerSearch } from './customer-search';
import { OfferBanner } from './offer-banner';
import { PresenceControl } from './presence-control';
import { SoftphonePanel } from './softphone-panel';
import { FileTaskForm, MyFiledTasks, OpenTasks, useMyTasks } from './tasks';
import { Timeline } from './timeline';
import { useAgentDesk } from './use-agent-desk';
import { WorkArea } from './work-area';

/** Keys typed into a field are text, not shortcuts. */
function typing(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return !!element && (element.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(element.tagName));
}

export function AgentDesktop({ realtime, user }: { realtime: Realtime; user: User }) {
  const { t } = useI18n();
  const notices = useNotices();
  const desk = useAgentDesk(realtime);
  const mine = useMyTasks(realtime, user.id);
  const [filing, setFiling] = useState(false);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [looked, setLooked] = useState<{ customer: Customer; timeline: ScreenPopHistoryItem[] } | null>(null);
  const completeShortcut = useRef<(() => void) | null>(null);
  const [openTaskId, setOpenTaskId] = useState<string | null>(null);
  const [departments, setDepartments] = useState<DepartmentWithTypes[]>([]);
  useEffect(() => {
    // Names for departments, task types and their fields in the task detail.
    api<{ items: DepartmentWithTypes[] }>('GET', '/api/departments')
      .then((page) => setDepartments(page.items))
      .catch(() => undefined);
  }, []);

  const work = desk.snapshot?.work ?? [];
  const phone = useSoftphone(work);
  const offer = desk.offers[0];
  const selected = work.find((item) => item.interactionId === selectedId) ?? work.find((item) => item.phase === 'active') ?? work[0];

  const accept = async () => {
    if (!offer) return;
    if (await desk.accept(offer.reservation.id)) {
      setSelectedId(offer.reservation.interactionId);
      setLooked(null);
    }
  };
  const reject = () => offer && void desk.reject(offer.reservation.id);

  // Hot keys for the three actions an agent repeats all day.
  const keys = useRef({ accept, reject });
  keys.current = { accept, reject };
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || typing(event.target)) return;
      const key = event.key.toLowerCase();
      if (key === 'a') keys.current.accept();
      else if (key === 'r') keys.current.reject();
      else if (key === 'w') completeShortcut.current?.();
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const lookUp = async (customer: Customer) => {
    try {
      const page = await api<{ items: Interaction[] }>('GET', `/api/customers/${customer.id}/timeline${query({ limit: 20 })}`);
      const timeline = page.items.map((item) => ({
        id: item.id, channel: item.channel, direction: item.direction, status: item.status, subject: item.subject ?? null,
        createdAt: item.createdAt, endedAt: item.endedAt ?? null, agentId: item.agentId ?? null, outcome: null, preview: item.preview,
      }));
      setLooked({ customer, timeline });
    } catch (error) {
      notices.failed(t('action.loadHistory'), error);
    }
  };

  // What the side panels show: the offer's customer first, then one looked up, then the current contact's.
  const offerPop = offer ? desk.pops[offer.reservation.interactionId] : undefined;
  const workPop = selected ? desk.pops[selected.interactionId] : undefined;
  let context: { customer: CardCustomer; timeline: ScreenPopHistoryItem[]; smsOptedOut: boolean | null; openTasks: ScreenPopTask[] | null; currentId?: string } | null = null;
  if (offer && offerPop) context = { customer: offerPop.customer, timeline: offerPop.timeline, smsOptedOut: offerPop.smsOptedOut, openTasks: offerPop.openTasks ?? null, currentId: offerPop.interaction.id };
  else if (looked) context = { customer: looked.customer, timeline: looked.timeline, smsOptedOut: null, openTasks: null };
  else if (workPop) context = { customer: workPop.customer, timeline: workPop.timeline, smsOptedOut: workPop.smsOptedOut, openTasks: workPop.openTasks ?? null, currentId: workPop.interaction.id };

  return (
    <div className="desk">
      <PresenceControl snapshot={desk.snapshot} onSet={desk.setState} />
      {offer && <OfferBanner offer={offer} pop={offerPop} onAccept={() => void accept()} onReject={reject} />}
      <div className="desk-grid">
        <div className="desk-left">
          {context ? (
            <>
              {looked && !offer && (
                <button type="button" className="link small" onClick={() => setLooked(null)}>
                  ← {t('search.backToContact')}
                </button>
              )}
              <CustomerCard customer={context.customer} smsOptedOut={context.smsOptedOut} />
              <OpenTasks tasks={context.openTasks} customerId={context.customer.id} mine={mine} onFile={() => setFiling(true)} onOpen={setOpenTaskId} />
            </>
          ) : (
            <section className="card muted">{t('desk.noCustomer')}</section>
          )}
          <CustomerSearch onSelect={(customer) => void lookUp(customer)} />
        </div>
        <div className="desk-center">
          {filing && context && (
            <FileTaskForm
              key={context.customer.id}
              customerId={context.customer.id}
              interactionId={context.currentId}
              onFiled={(task) => {
                mine.add(task);
                setFiling(false);
              }}
              onCancel={() => setFiling(false)}
            />
          )}
          {work.length > 1 && (
            <div className="tabs" role="tablist">
              {work.map((item) => (
                <button
                  key={item.interactionId}
                  type="button"
                  role="tab"
                  aria-selected={item === selected}
                  className={item === selected ? 'active' : ''}
                  onClick={() => {
                    setSelectedId(item.interactionId);
                    setLooked(null);
                  }}
                >
                  <ChannelIcon channel={item.channel} /> {desk.pops[item.interactionId]?.customer.name || t('customer.unknown')}
                </button>
              ))}
            </div>
          )}
          {selected ? (
            <WorkArea
              key={selected.interactionId}
              realtime={realtime}
              item={selected}
              pop={workPop}
              completeShortcut={completeShortcut}
              onComplete={(outcome) => desk.completeWork(selected.interactionId, outcome)}
              onTransfer={(target, note) => desk.transfer(selected.interactionId, target, note)}
            />
          ) : (
            <section className="card empty-work" data-testid="no-work">
              <h2>{t('desk.noWork')}</h2>
              <p className="muted">{desk.snapshot?.state === 'available' ? t('desk.waitingForContacts') : t('desk.goAvailableHint')}</p>
              <p className="muted small">{t('desk.shortcuts')}</p>
            </section>
          )}
        </div>
        <div className="desk-right">
          <SoftphonePanel phone={phone} />
          {context ? <Timeline items={context.timeline} currentId={context.currentId} /> : <section className="card muted">{t('timeline.empty')}</section>}
          <MyFiledTasks mine={mine} onOpen={setOpenTaskId} />
        </div>
      </div>
      {openTaskId && (
        <TaskDetail
          key={openTaskId}
          taskId={openTaskId}
          realtime={realtime}
          mode="filer"
          userId={user.id}
          departments={departments}
          onClose={() => setOpenTaskId(null)}
          onChanged={(task) => {
            if (task.createdBy?.id === user.id) mine.add(task);
          }}
        />
      )}
    </div>
  );
}

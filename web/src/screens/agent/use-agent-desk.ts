import { useCallback, useEffect, useRef, useState } from 'react';
import { useNotices } from '../../components/notices';
import { useI18n } from '../../i18n';
import { api, query } from '../../lib/api';
import type { Realtime } from '../../lib/realtime';
import type { AgentSnapshot, Customer, Interaction, RequestedAgentState, Reservation, ScreenPop, UserEvent } from '../../lib/types';

export interface OfferView {
  reservation: Reservation;
  /** Local clock minus server clock when the offer arrived: the countdown runs on the server's expiry. */
  skewMs: number;
}

export interface AgentDesk {
  snapshot: AgentSnapshot | null;
  offers: OfferView[];
  /** Screen pops by interaction id: from the offer, or rebuilt over REST after a reload. */
  pops: Record<string, ScreenPop>;
  setState(state: RequestedAgentState, reason?: string): Promise<void>;
  accept(reservationId: string): Promise<boolean>;
  reject(reservationId: string): Promise<void>;
  completeWork(interactionId: string, outcome: { disposition?: string; notes?: string }): Promise<boolean>;
  /** Hands a contact on; rejects with the server's reason, which the transfer form shows. */
  transfer(interactionId: string, target: { toAgentId: string } | { toQueue: string }, note: string): Promise<void>;
}

/** A pop for an offer or contact whose offer event this tab never saw (reload, second tab). */
export async function popFromRest(interactionId: string): Promise<ScreenPop> {
  const interaction = await api<Interaction>('GET', `/api/interactions/${interactionId}`);
  const [customer, timeline] = await Promise.all([
    api<Customer>('GET', `/api/customers/${interaction.customerId}`),
    api<{ items: Interaction[] }>('GET', `/api/customers/${interaction.customerId}/timeline${query({ limit: 20 })}`),
  ]);
  const first = interaction.entries?.find((entry) => entry.kind === 'message' && entry.text);
  return {
    interaction: {
      id: interaction.id, channel: interaction.channel, direction: interaction.direction, status: interaction.status, subject: interaction.subject ?? null,
      queue: interaction.queue ?? null, createdAt: interaction.createdAt, queuedAt: null, waitSeconds: null,
      firstMessage: first?.text ? { at: first.at, direction: first.direction ?? null, text: first.text, truncated: false } : null, ivrChoice: null,
    },
    customer: { id: customer.id, name: customer.name, tier: customer.tier, tags: customer.tags, attributes: customer.attributes },
    timeline: timeline.items.map((item) => ({
      id: item.id, channel: item.channel, direction: item.direction, status: item.status, subject: item.subject ?? null, createdAt: item.createdAt,
      endedAt: item.endedAt ?? null, agentId: item.agentId ?? null, outcome: null, preview: item.preview,
    })),
    openTasks: null,
    // Not readable over REST: the card says "unknown" rather than guessing.
    smsOptedOut: null,
    builtAt: new Date().toISOString(),
  };
}

const skewOf = (serverAt: string | undefined) => {
  const at = serverAt ? Date.parse(serverAt) : Number.NaN;
  return Number.isNaN(at) ? 0 : Date.now() - at;
};

/** The agent's desk, kept in step with the socket: state, offers with their pops, current work. */
export function useAgentDesk(realtime: Realtime): AgentDesk {
  const { t } = useI18n();
  const notices = useNotices();
  const [snapshot, setSnapshot] = useState<AgentSnapshot | null>(null);
  const [offers, setOffers] = useState<OfferView[]>([]);
  const [pops, setPops] = useState<Record<string, ScreenPop>>({});
  const fetching = useRef(new Set<string>());
  const fromSocket = useRef(false);

  const applySnapshot = useCallback((next: AgentSnapshot, serverAt?: string) => {
    setSnapshot(next);
    // The snapshot is the truth about pending offers: ended ones go, ones this tab missed come in.
    setOffers((current) =>
      next.offers.map((reservation) => current.find((offer) => offer.reservation.id === reservation.id) ?? { reservation, skewMs: skewOf(serverAt) }),
    );
  }, []);

  useEffect(() => {
    const stops = [
      realtime.on('offer', (event: UserEvent<{ reservation: Reservation; pop: ScreenPop | null }>) => {
        const { reservation, pop } = event.data;
        if (pop) setPops((current) => ({ ...current, [reservation.interactionId]: pop }));
        setOffers((current) => [...current.filter((offer) => offer.reservation.id !== reservation.id), { reservation, skewMs: skewOf(event.at) }]);
      }),
      realtime.on('offer_ended', (event: UserEvent<{ reservation: Reservation }>) => {
        const { reservation } = event.data;
        setOffers((current) => current.filter((offer) => offer.reservation.id !== reservation.id));
        const key = reservation.state === 'timeout' ? 'offer.endedTimeout' : reservation.state === 'rejected' ? 'offer.endedRejected' : 'offer.endedWithdrawn';
        notices.info(t(key));
      }),
      realtime.on('assigned', (event: UserEvent<{ reservation: Reservation }>) => {
        setOffers((current) => current.filter((offer) => offer.reservation.id !== event.data.reservation.id));
      }),
      realtime.on('state', (event: UserEvent<AgentSnapshot>) => {
        fromSocket.current = true;
        applySnapshot(event.data, event.at);
      }),
      realtime.on('snapshot', (event: UserEvent<AgentSnapshot>) => {
        fromSocket.current = true;
        applySnapshot(event.data, event.at);
      }),
    ];
    // REST as well, so the desk shows even while the socket is still connecting; the socket wins.
    api<AgentSnapshot>('GET', '/api/routing/me')
      .then((rest) => {
        if (!fromSocket.current) applySnapshot(rest);
      })
      .catch((error: unknown) => notices.failed(t('action.loadDesk'), error));
    return () => stops.forEach((stop) => stop());
  }, [realtime, applySnapshot, notices, t]);

  // Offers and contacts whose pop this tab has not got: rebuild them over REST.
  useEffect(() => {
    const wanted = [...offers.map((offer) => offer.reservation.interactionId), ...(snapshot?.work ?? []).map((item) => item.interactionId)];
    for (const interactionId of wanted) {
      if (pops[interactionId] || fetching.current.has(interactionId)) continue;
      fetching.current.add(interactionId);
      popFromRest(interactionId)
        .then((pop) => setPops((current) => ({ [interactionId]: pop, ...current })))
        .catch((error: unknown) => notices.failed(t('action.loadCustomer'), error))
        .finally(() => fetching.current.delete(interactionId));
    }
  }, [offers, snapshot, pops, notices, t]);

  const setState = useCallback(
    async (state: RequestedAgentState, reason?: string) => {
      try {
        applySnapshot(await realtime.act<AgentSnapshot>('state:set', { state, ...(reason ? { reason } : {}) }));
      } catch (error) {
        notices.failed(t('action.setState'), error);
      }
    },
    [realtime, applySnapshot, notices, t],
  );

  const accept = useCallback(
    async (reservationId: string) => {
      try {
        await realtime.act<Reservation>('offer:accept', { reservationId });
        setOffers((current) => current.filter((offer) => offer.reservation.id !== reservationId));
        return true;
      } catch (error) {
        notices.failed(t('action.accept'), error);
        return false;
      }
    },
    [realtime, notices, t],
  );

  const reject = useCallback(
    async (reservationId: string) => {
      try {
        await realtime.act<Reservation>('offer:reject', { reservationId });
        setOffers((current) => current.filter((offer) => offer.reservation.id !== reservationId));
      } catch (error) {
        notices.failed(t('action.reject'), error);
      }
    },
    [realtime, notices, t],
  );

  const completeWork = useCallback(
    async (interactionId: string, outcome: { disposition?: string; notes?: string }) => {
      try {
        applySnapshot(await realtime.act<AgentSnapshot>('work:complete', { interactionId, ...outcome }));
        return true;
      } catch (error) {
        notices.failed(t('action.completeWork'), error);
        return false;
      }
    },
    [realtime, applySnapshot, notices, t],
  );

  const transfer = useCallback(
    async (interactionId: string, target: { toAgentId: string } | { toQueue: string }, note: string) => {
      applySnapshot(await realtime.act<AgentSnapshot>('work:transfer', { interactionId, ...target, note }));
      notices.info(t('transfer.done'));
    },
    [realtime, applySnapshot, notices, t],
  );

  return { snapshot, offers, pops, setState, accept, reject, completeWork, transfer };
}

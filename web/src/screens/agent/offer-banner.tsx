import { ChannelIcon } from '../../components/icons';
import { useI18n } from '../../i18n';
import { clock } from '../../lib/format';
import type { ScreenPop } from '../../lib/types';
import { useNow } from '../../lib/use-now';
import type { OfferView } from './use-agent-desk';

/** The incoming contact: impossible to miss, with the time left to take it and the hot keys on the buttons. */
export function OfferBanner({ offer, pop, onAccept, onReject }: { offer: OfferView; pop: ScreenPop | undefined; onAccept: () => void; onReject: () => void }) {
  const { t } = useI18n();
  const now = useNow(250);
  const { reservation } = offer;
  const serverNow = now - offer.skewMs;
  const total = Math.max(1, Date.parse(reservation.expiresAt) - Date.parse(reservation.offeredAt));
  const left = Math.max(0, Date.parse(reservation.expiresAt) - serverNow);
  const urgent = left < 5_000;
  const name = pop?.customer.name || t('customer.unknown');

  return (
    <section className={`offer ${urgent ? 'offer-urgent' : ''}`} role="alertdialog" aria-labelledby="offer-title" aria-describedby="offer-detail" data-testid="offer">
      <div className="offer-main">
        <ChannelIcon channel={reservation.channel} />
        <div>
          <h2 id="offer-title">
            {t(`offer.incoming.${reservation.channel}`)} · <span data-testid="offer-customer">{name}</span>
            {pop?.customer.tier && pop.customer.tier !== 'standard' && <span className={`tier tier-${pop.customer.tier}`}>{t(`tier.${pop.customer.tier as 'gold' | 'vip'}`)}</span>}
          </h2>
          <p id="offer-detail" className="offer-detail">
            {t('offer.queue', { queue: reservation.queue })}
            {pop?.interaction.waitSeconds != null && <> · {t('offer.waited', { time: clock(pop.interaction.waitSeconds) })}</>}
            {pop?.interaction.ivrChoice && <> · {t('offer.ivr', { choice: pop.interaction.ivrChoice.label })}</>}
            {pop?.interaction.subject && <> · {pop.interaction.subject}</>}
          </p>
          {pop?.interaction.firstMessage && <p className="offer-message">“{pop.interaction.firstMessage.text}”</p>}
          {reservation.transfer && <p className="offer-message">{t('offer.transferNote', { note: reservation.transfer.note })}</p>}
        </div>
      </div>
      <div className="offer-side">
        <div className="countdown" aria-live="off">
          <span data-testid="offer-countdown">{t('offer.expiresIn', { seconds: Math.ceil(left / 1000) })}</span>
          <div className="countdown-bar">
            <div style={{ width: `${(left / total) * 100}%` }} />
          </div>
        </div>
        <div className="offer-actions">
          <button type="button" className="accept" onClick={onAccept} aria-keyshortcuts="A">
            {t('offer.accept')} <kbd>A</kbd>
          </button>
          <button type="button" className="reject" onClick={onReject} aria-keyshortcuts="R">
            {t('offer.reject')} <kbd>R</kbd>
          </button>
        </div>
      </div>
    </section>
  );
}

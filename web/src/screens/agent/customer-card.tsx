import { useI18n, type MessageKey } from '../../i18n';
import type { AttributeValue, Customer } from '../../lib/types';

// Attributes the reference customer (a carmaker) keeps on every customer get a translated label;
// any other attribute shows under its own name.
const knownAttributes: Record<string, MessageKey> = {
  vehicle: 'attribute.vehicle',
  model: 'attribute.model',
  modelYear: 'attribute.modelYear',
  fleetSize: 'attribute.fleetSize',
  language: 'attribute.language',
  vin: 'attribute.vin',
  dealer: 'attribute.dealer',
  plate: 'attribute.plate',
  purchaseDate: 'attribute.purchaseDate',
  warrantyUntil: 'attribute.warrantyUntil',
  city: 'attribute.city',
  mileageKm: 'attribute.mileageKm',
};

function formatValue(value: AttributeValue, t: (key: MessageKey) => string): string {
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no');
  return String(value);
}

export interface CardCustomer extends Pick<Customer, 'id' | 'name' | 'tier' | 'tags' | 'attributes'> {
  phones?: Customer['phones'];
  emails?: string[];
}

export function CustomerCard({ customer, smsOptedOut }: { customer: CardCustomer; smsOptedOut: boolean | null }) {
  const { t } = useI18n();
  const attributes = Object.entries(customer.attributes ?? {});
  return (
    <section className="card customer-card" data-testid="customer-card" aria-labelledby="customer-name">
      <header>
        <h2 id="customer-name">{customer.name || t('customer.unknown')}</h2>
        <span className={`tier tier-${customer.tier}`}>{t(`tier.${customer.tier as 'standard' | 'gold' | 'vip'}`)}</span>
      </header>
      {smsOptedOut === true && (
        <p className="flag flag-stop" data-testid="sms-opted-out">
          {t('customer.smsOptedOut')}
        </p>
      )}
      {smsOptedOut === null && <p className="muted small">{t('customer.smsConsentUnknown')}</p>}
      {customer.tags.length > 0 && (
        <ul className="tags" aria-label={t('customer.tags')}>
          {customer.tags.map((tag) => (
            <li key={tag}>{tag}</li>
          ))}
        </ul>
      )}
      {(attributes.length > 0 || customer.phones?.length || customer.emails?.length) && (
        <dl className="attributes">
          {customer.phones?.map((phone) => (
            <div key={phone.value}>
              <dt>{t('customer.phone')}</dt>
              <dd>{phone.value}</dd>
            </div>
          ))}
          {customer.emails?.map((email) => (
            <div key={email}>
              <dt>{t('customer.email')}</dt>
              <dd>{email}</dd>
            </div>
          ))}
          {attributes.map(([name, value]) => (
            <div key={name}>
              <dt>{knownAttributes[name] ? t(knownAttributes[name]) : name}</dt>
              <dd className={name === 'vin' ? 'mono' : undefined}>{formatValue(value, t)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

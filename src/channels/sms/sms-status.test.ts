import { advanceDeliveryStatus, type DeliveryStatus } from './sms-status';

const replay = (statuses: DeliveryStatus[]) => statuses.reduce<DeliveryStatus | undefined>((current, next) => advanceDeliveryStatus(current, next), undefined);

describe('advanceDeliveryStatus', () => {
  it('when callbacks arrive in order, then the last one wins', () => {
    expect(replay(['queued', 'sending', 'sent', 'delivered'])).toBe('delivered');
    expect(replay(['queued', 'sent', 'delivered', 'read'])).toBe('read');
  });

  it('when a late sent arrives after delivered, then it stays delivered', () => {
    expect(replay(['queued', 'delivered', 'sent'])).toBe('delivered');
    expect(advanceDeliveryStatus('delivered', 'queued')).toBe('delivered');
  });

  it('when the carrier reports undelivered after sent, then it is undelivered and a late sent does not hide it', () => {
    expect(replay(['sent', 'undelivered'])).toBe('undelivered');
    expect(replay(['undelivered', 'sent', 'sending'])).toBe('undelivered');
    expect(advanceDeliveryStatus('failed', 'undelivered')).toBe('failed');
  });

  it('when a handset receipt follows a failure report, then delivered wins', () => {
    expect(advanceDeliveryStatus('undelivered', 'delivered')).toBe('delivered');
  });

  it('when nothing is stored yet, then the first report is taken as is', () => {
    expect(advanceDeliveryStatus(undefined, 'sent')).toBe('sent');
  });
});

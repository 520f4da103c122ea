/** Our delivery states for an outbound text; the adapter maps Twilio's strings onto these. */
export const deliveryStatuses = ['queued', 'sending', 'sent', 'failed', 'undelivered', 'delivered', 'read'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

// Callbacks arrive out of order and are retried, so a status only ever moves up this ladder.
// failed/undelivered sit above sent (the carrier gave up after sending) but below delivered: a
// handset receipt is the stronger fact if a confused carrier reports both.
const rank: Record<DeliveryStatus, number> = { queued: 0, sending: 1, sent: 2, failed: 3, undelivered: 3, delivered: 4, read: 5 };

/** The status to keep when `next` is reported while `current` is stored: never moves backwards. */
export function advanceDeliveryStatus(current: DeliveryStatus | undefined, next: DeliveryStatus): DeliveryStatus {
  if (!current) return next;
  return rank[next] > rank[current] ? next : current;
}

export function isDeliveryFailure(status: DeliveryStatus): boolean {
  return status === 'failed' || status === 'undelivered';
}

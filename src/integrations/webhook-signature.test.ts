import { signWebhook, verifyWebhookSignature } from './webhook-signature';
import { isRetryableStatus, subscribedTo } from './webhook-events';

const secret = 'whsec_test-secret';
const body = '{"id":"d1","type":"task_updated","action":"resolved"}';
const nowMs = Date.UTC(2026, 10, 27, 9, 15, 0);
const now = Math.floor(nowMs / 1000);

describe('verifyWebhookSignature', () => {
  it('when the body and timestamp are the signed ones, then it is valid', () => {
    expect(verifyWebhookSignature(secret, String(now), body, signWebhook(secret, now, body), 300, nowMs)).toEqual({ valid: true });
  });

  it('when one byte of the body changed, then it is a mismatch', () => {
    expect(verifyWebhookSignature(secret, String(now), body.replace('resolved', 'rejected'), signWebhook(secret, now, body), 300, nowMs)).toEqual({ valid: false, reason: 'mismatch' });
  });

  it('when the secret differs, then it is a mismatch', () => {
    expect(verifyWebhookSignature('whsec_other', String(now), body, signWebhook(secret, now, body), 300, nowMs)).toEqual({ valid: false, reason: 'mismatch' });
  });

  it('when the timestamp header was changed to look fresh, then it is a mismatch (the timestamp is signed)', () => {
    const old = now - 3600;
    expect(verifyWebhookSignature(secret, String(now), body, signWebhook(secret, old, body), 300, nowMs)).toEqual({ valid: false, reason: 'mismatch' });
  });

  it('when a correctly signed request is older than the tolerance, then it is refused as too old', () => {
    const old = now - 301;
    expect(verifyWebhookSignature(secret, String(old), body, signWebhook(secret, old, body), 300, nowMs)).toEqual({ valid: false, reason: 'too_old' });
    expect(verifyWebhookSignature(secret, String(now - 300), body, signWebhook(secret, now - 300, body), 300, nowMs)).toEqual({ valid: true });
  });

  it('when the timestamp lies beyond the tolerance in the future, then it is refused', () => {
    const ahead = now + 301;
    expect(verifyWebhookSignature(secret, String(ahead), body, signWebhook(secret, ahead, body), 300, nowMs)).toEqual({ valid: false, reason: 'in_future' });
  });

  it('when headers are missing or malformed, then it is malformed', () => {
    const signature = signWebhook(secret, now, body);
    expect(verifyWebhookSignature(secret, undefined, body, signature, 300, nowMs).valid).toBe(false);
    expect(verifyWebhookSignature(secret, 'yesterday', body, signature, 300, nowMs)).toEqual({ valid: false, reason: 'malformed' });
    expect(verifyWebhookSignature(secret, String(now), body, undefined, 300, nowMs)).toEqual({ valid: false, reason: 'malformed' });
    expect(verifyWebhookSignature(secret, String(now), body, signature.replace('sha256=', 'sha1='), 300, nowMs)).toEqual({ valid: false, reason: 'malformed' });
  });

  it('when the raw body arrives as a Buffer, then it verifies the same', () => {
    expect(verifyWebhookSignature(secret, now, Buffer.from(body), signWebhook(secret, now, body), 300, nowMs)).toEqual({ valid: true });
  });
});

describe('subscribedTo', () => {
  const resolved = { type: 'task_updated', action: 'resolved' } as const;
  const created = { type: 'task_created', action: 'created' } as const;

  it('when a subscription lists a specific action, then only that action matches', () => {
    expect(subscribedTo(['task.resolved'], resolved)).toBe(true);
    expect(subscribedTo(['task.resolved'], { type: 'task_updated', action: 'accepted' })).toBe(false);
    expect(subscribedTo(['task.resolved'], created)).toBe(false);
  });

  it('when a subscription lists an event type, then every action of that type matches', () => {
    expect(subscribedTo(['task_updated'], resolved)).toBe(true);
    expect(subscribedTo(['task_updated'], created)).toBe(false);
    expect(subscribedTo(['task_created'], created)).toBe(true);
  });

  it('when a subscription lists *, then everything matches', () => {
    expect(subscribedTo(['*'], created)).toBe(true);
    expect(subscribedTo(['*'], resolved)).toBe(true);
  });
});

describe('isRetryableStatus', () => {
  it('when the receiver is busy or broken, then the delivery is retried; when it refuses, then not', () => {
    expect([500, 502, 503, 429, 408].map(isRetryableStatus)).toEqual([true, true, true, true, true]);
    expect([400, 401, 403, 404, 410, 422, 301].map(isRetryableStatus)).toEqual([false, false, false, false, false, false, false]);
  });
});

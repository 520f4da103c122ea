import { randomBytes, randomInt } from 'node:crypto';

/** Fresh Twilio-shaped ids and numbers for webhook tests (Twilio's own formats). */
export const newCallSid = () => `CA${randomBytes(16).toString('hex')}`;
export const newMessageSid = () => `SM${randomBytes(16).toString('hex')}`;
export const newMobile = () => `+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
/** The default entry of config/voice-numbers.json: open around the clock, straight to "general". */
export const unlistedNumber = '+862150009999';
export const ourNumber = '+862150000000';

/** Runs `work` and tells how long it took, so "answered within a few seconds" is asserted, not assumed. */
export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
}

/**
 * Polls `probe` until it gives a value (not undefined, null or false), for tests that kill or stop a
 * store: a probe that throws meanwhile (the store is down) counts as "not yet", not as a failure.
 */
export async function eventuallyThroughOutages<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs: number, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

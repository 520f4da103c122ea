import type { Connection } from 'mongoose';

/**
 * TEMPORARY: reads the SMS module's `sms_consents` collection directly, until the SMS channel
 * exposes an opt-out query through its index.ts. Read-only, by `_id` (the E.164 number), which is
 * the only lookup FerretDB serves from an index. Replace with the SMS module's function when it exists.
 */
export class SmsConsentReader {
  constructor(private readonly mongo: Connection) {}

  /** True when any of the numbers opted out (texted STOP and not START since). */
  async anyOptedOut(e164Numbers: readonly string[]): Promise<boolean> {
    const db = this.mongo.db;
    if (!db) throw new Error('mongo connection is not open');
    const consents = db.collection<{ _id: string; optedOut?: boolean }>('sms_consents');
    const found = await Promise.all(e164Numbers.map((number) => consents.findOne({ _id: number }, { projection: { optedOut: 1 } })));
    return found.some((consent) => consent?.optedOut === true);
  }
}

import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { AppError, isDuplicateKeyError } from '../../platform/errors';
import { emailModels, type EmailThreadKeyDocument } from './email-thread.model';

export interface ThreadKeys {
  /** Shown to customers in subjects: `[#SB-7F3A2C]`. Short, so guessable: see the inbound service. */
  ref: string;
  /** In our reply address `support+<token>@…`: 80 random bits, so it cannot be guessed. */
  token: string;
}

const base32Alphabet = 'abcdefghijklmnopqrstuvwxyz234567';

/** 16 lower-case base32 characters from 80 random bits (safe in any mailbox local part). */
export function newReplyToken(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let token = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      token += base32Alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return token;
}

export function newRef(): string {
  return `SB-${randomBytes(3).toString('hex').toUpperCase()}`;
}

// 16M refs: a clash is rare until the log is very large; retries cover the rare case.
const maxRefAttempts = 8;

export class EmailThreadRepository {
  private readonly models;

  constructor(connection: Connection) {
    this.models = emailModels(connection);
  }

  private find(key: string): Promise<EmailThreadKeyDocument | null> {
    return this.models.EmailThreadKey.findById(key).lean<EmailThreadKeyDocument>().exec();
  }

  /** Inserts unless the key exists; false when someone else holds it. */
  private async claim(document: EmailThreadKeyDocument): Promise<boolean> {
    try {
      await this.models.EmailThreadKey.create(document);
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async keysOf(interactionId: string): Promise<ThreadKeys | null> {
    const found = await this.find(`interaction:${interactionId}`);
    return found?.ref && found.token ? { ref: found.ref, token: found.token } : null;
  }

  /**
   * The interaction's ref and token, created on first use. Two racers may both mint keys; the
   * `interaction:` document decides which pair is the interaction's, and the loser's pair still
   * points at the same interaction, so nothing wrong can be resolved from it.
   */
  async ensureKeys(interactionId: string): Promise<ThreadKeys> {
    const existing = await this.keysOf(interactionId);
    if (existing) return existing;
    const createdAt = new Date();
    let ref: string | undefined;
    for (let attempt = 0; attempt < maxRefAttempts && !ref; attempt += 1) {
      const candidate = newRef();
      if (await this.claim({ _id: `ref:${candidate}`, interactionId, createdAt })) ref = candidate;
    }
    if (!ref) throw new AppError('unavailable', 'Could not allocate a case reference; retry', { interactionId });
    const token = newReplyToken();
    if (!(await this.claim({ _id: `token:${token}`, interactionId, createdAt }))) {
      throw new AppError('internal', 'Reply token collision', { interactionId }, false);
    }
    if (await this.claim({ _id: `interaction:${interactionId}`, interactionId, ref, token, createdAt })) return { ref, token };
    const winner = await this.keysOf(interactionId);
    if (!winner) throw new AppError('internal', 'Thread keys vanished while allocating', { interactionId }, false);
    return winner;
  }

  async interactionForRef(ref: string): Promise<string | null> {
    return (await this.find(`ref:${ref.toUpperCase()}`))?.interactionId ?? null;
  }

  async interactionForToken(token: string): Promise<string | null> {
    return (await this.find(`token:${token.toLowerCase()}`))?.interactionId ?? null;
  }
}

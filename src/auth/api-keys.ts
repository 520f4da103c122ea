import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../platform/errors';
import type { Principal, Role } from '../platform/http/principal';
import type { Logger } from '../platform/logger';
import type { StoredApiKey, UserRepository } from './user.repository';

export interface PublicApiKey {
  id: string;
  name: string;
  role: Role;
  departmentIds?: string[];
  createdBy: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

/** How stale an API key's last-used time may be: one write per key per minute, not one per request. */
const touchIntervalMs = 60_000;

/**
 * Integration API keys (`sb_<id>_<secret>`, only the secret's hash stored). Read from MongoDB by
 * primary key on every request, without a cache, so a revocation takes effect at once on every node.
 */
export class ApiKeyService {
  constructor(
    private readonly users: UserRepository,
    private readonly log: Logger,
    private readonly departmentExists: (id: string) => Promise<boolean>,
  ) {}

  async authenticate(rawKey: string): Promise<Principal> {
    const match = /^sb_([a-f0-9]{16})_([A-Za-z0-9_-]{32,})$/.exec(rawKey);
    const key = match ? await this.users.findApiKey(match[1]) : null;
    if (!match || !key || key.revokedAt || !safeEqual(key.secretHash, hashSecret(match[2]))) {
      throw new AppError('unauthenticated', 'The API key is invalid or revoked');
    }
    // At most one write per key per minute (the key as read tells; the update's filter settles races
    // between nodes). Fire-and-forget: a failed timestamp update must not fail the integration's request.
    const now = Date.now();
    if (!key.lastUsedAt || key.lastUsedAt.getTime() < now - touchIntervalMs) {
      this.users
        .touchApiKey(key._id, new Date(now), new Date(now - touchIntervalMs))
        .catch((error) => this.log.warn({ err: error, apiKeyId: key._id }, 'api key touch failed'));
    }
    return { kind: 'api_key', id: key._id, role: key.role, name: key.name, ...(key.departmentIds?.length ? { departmentIds: key.departmentIds } : {}) };
  }

  /** Returns the full key once; only its hash is stored. `departmentIds` must name existing departments. */
  async create(input: { name: string; role: Role; departmentIds?: string[]; createdBy: string }): Promise<{ key: string; apiKey: PublicApiKey }> {
    const departmentIds = input.departmentIds?.length ? [...new Set(input.departmentIds)] : undefined;
    for (const [index, departmentId] of (departmentIds ?? []).entries()) {
      if (!(await this.departmentExists(departmentId))) {
        throw AppError.validation([{ field: 'departmentIds', message: `item ${index} names no department; create it first (POST /api/departments)` }]);
      }
    }
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const stored = await this.users.insertApiKey({
      _id: id, name: input.name, role: input.role, ...(departmentIds ? { departmentIds } : {}), secretHash: hashSecret(secret), createdBy: input.createdBy,
    });
    this.log.info({ apiKeyId: id, role: input.role, departments: departmentIds?.length ?? 0 }, 'api key created');
    return { key: `sb_${id}_${secret}`, apiKey: toPublicApiKey(stored) };
  }

  async list(): Promise<PublicApiKey[]> {
    return (await this.users.listApiKeys()).map(toPublicApiKey);
  }

  async revoke(id: string): Promise<PublicApiKey> {
    const revoked = await this.users.revokeApiKey(id, new Date());
    if (!revoked) throw AppError.notFound('API key', id);
    this.log.info({ apiKeyId: id }, 'api key revoked');
    return toPublicApiKey(revoked);
  }
}

function toPublicApiKey(key: StoredApiKey): PublicApiKey {
  return {
    id: key._id,
    name: key.name,
    role: key.role,
    ...(key.departmentIds?.length ? { departmentIds: key.departmentIds } : {}),
    createdBy: key.createdBy,
    createdAt: key.createdAt.toISOString(),
    ...(key.lastUsedAt ? { lastUsedAt: key.lastUsedAt.toISOString() } : {}),
    ...(key.revokedAt ? { revokedAt: key.revokedAt.toISOString() } : {}),
  };
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

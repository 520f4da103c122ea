import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import argon2 from 'argon2';
import jwt, { type SignOptions } from 'jsonwebtoken';
import type { Redis } from 'ioredis';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { Principal, Role } from '../platform/http/principal';
import { ApiKeyService, type PublicApiKey } from './api-keys';
export type { PublicApiKey } from './api-keys';
import { demoEmailDomain, isDemoEmail } from './demo-accounts';
import { publishEndedSessions } from './ended-sessions';
import { LoginGuard, type LoginLimits } from './login-guard';
import { parseRateLimit } from './rate-limits';
import { ShortCache } from './short-cache';
import type { StoredUser, UserRepository } from './user.repository';

export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  departmentId?: string;
  active: boolean;
  locale: 'en' | 'zh-CN';
}

export interface AuthSettings {
  tokenSecret: string;
  tokenTtl: string;
  redisKeyPrefix: string;
  /**
   * How long a user read to authenticate a token is reused (AUTH_USER_CACHE_TTL). Changes that end
   * sessions clear it at once on every node (Redis pub/sub); it bounds only a lost message.
   * 0 reads the user on every call.
   */
  userCacheMs?: number;
  /** DEMO: only then may the demo accounts (published passwords) sign in. */
  demoMode?: boolean;
  /** Login limits (AUTH_LOGIN_LIMIT_*, AUTH_MAX_CONCURRENT_HASHES); the defaults below when absent. */
  loginLimits?: LoginLimits;
}

/** The configured defaults, for callers that build an AuthService without config (scripts, benches). */
export const defaultLoginLimits: LoginLimits = {
  perAccountAndIp: parseRateLimit('10/15m')!,
  perAccount: parseRateLimit('100/15m')!,
  perIp: parseRateLimit('100/15m')!,
  maxConcurrentHashes: 2,
};

/** What authentication needs of a user; null when it is missing or disabled. */
type ActiveUser = (Pick<StoredUser, '_id' | 'role' | 'departmentId' | 'name'> & { tokenVersion: number }) | null;

const defaultUserCacheMs = 5_000;

export interface NewUserInput {
  email: string;
  name: string;
  role: Role;
  password: string;
  departmentId?: string;
  locale?: 'en' | 'zh-CN';
}

export const minPasswordLength = 12;

export function toPublicUser(user: StoredUser): PublicUser {
  return {
    id: user._id,
    email: user.email,
    name: user.name,
    role: user.role,
    ...(user.departmentId ? { departmentId: user.departmentId } : {}),
    active: user.active,
    locale: user.locale,
  };
}

/**
 * OWASP's argon2id settings (19 MiB, 2 passes, 1 lane): ~40 ms of one core per check here. The
 * library's default (64 MiB, 3 passes, 4 lanes) took 200 ms of CPU on 4 threads, so a handful of
 * wrong passwords a second took both cores of a 2-core node from its event loop. Hashes made with
 * other settings still verify, and are rehashed with these at the next successful sign-in.
 */
const passwordHashing = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

async function hashPassword(password: string): Promise<string> {
  if (password.length < minPasswordLength) {
    throw AppError.validation([{ field: 'password', message: `must be at least ${minPasswordLength} characters` }]);
  }
  return argon2.hash(password, passwordHashing);
}


export class AuthService {
  /**
   * The HMAC key as a KeyObject, made once: given a string, jsonwebtoken first tries (and fails)
   * to parse it as a public key on every verify, which cost ~2 % of CPU under call load.
   */
  private readonly tokenKey: KeyObject;
  private readonly activeUsers: ShortCache<ActiveUser>;
  private readonly endedSessionListeners: ((userId: string) => void)[] = [];
  private readonly loginGuard: LoginGuard;
  private readonly apiKeys: ApiKeyService;

  constructor(
    private readonly users: UserRepository,
    private readonly redis: Redis,
    private readonly settings: AuthSettings,
    private readonly log: Logger,
    /** Injected by the composition root so auth does not depend on the tasks module. */
    private readonly departmentExists: (id: string) => Promise<boolean> = async () => true,
  ) {
    this.tokenKey = createSecretKey(Buffer.from(settings.tokenSecret, 'utf8'));
    this.activeUsers = new ShortCache(settings.userCacheMs ?? defaultUserCacheMs);
    this.loginGuard = new LoginGuard(redis, settings.redisKeyPrefix, settings.loginLimits ?? defaultLoginLimits);
    this.apiKeys = new ApiKeyService(users, log, departmentExists);
  }

  async createUser(input: NewUserInput): Promise<PublicUser> {
    if (input.role === 'department' && !input.departmentId) {
      throw AppError.validation([{ field: 'departmentId', message: 'is required for department users' }]);
    }
    if (input.password.length < minPasswordLength) {
      throw AppError.validation([{ field: 'password', message: `must be at least ${minPasswordLength} characters` }]);
    }
    await this.checkDepartment(input.departmentId);
    const passwordHash = await hashPassword(input.password);
    const user = await this.users.insert({
      email: input.email,
      name: input.name,
      role: input.role,
      departmentId: input.departmentId,
      passwordHash,
      locale: input.locale,
    });
    this.log.info({ userId: user._id, role: user.role }, 'user created');
    return toPublicUser(user);
  }

  /** Creates the first admin, or resets its password when the email already belongs to an admin. */
  async ensureAdmin(input: { email: string; name: string; password: string }): Promise<{ user: PublicUser; created: boolean }> {
    const existing = await this.users.findByEmail(input.email);
    if (!existing) return { user: await this.createUser({ ...input, role: 'admin' }), created: true };
    if (existing.role !== 'admin') {
      throw new AppError('conflict', 'That email belongs to a non-admin user; choose another email', [{ field: 'email', message: 'is not an admin' }]);
    }
    await this.setPassword(existing._id, input.password);
    return { user: toPublicUser(existing), created: false };
  }

  /** Sets a new password; every token issued before is refused and the user's sockets close. */
  async setPassword(userId: string, password: string): Promise<void> {
    const updated = await this.users.update(userId, { passwordHash: await hashPassword(password) }, { endSessions: true });
    if (!updated) throw AppError.notFound('User', userId);
    await this.endSessions(userId);
  }

  /** "Sign out everywhere": every token of the user issued so far is refused, on every node, and their sockets close. */
  async logoutAll(userId: string): Promise<void> {
    const updated = await this.users.update(userId, {}, { endSessions: true });
    if (!updated) throw AppError.notFound('User', userId);
    await this.endSessions(userId);
    this.log.info({ userId }, 'sessions ended');
  }

  /**
   * Registers a listener for ended sessions on this node (the gateway closes the user's sockets).
   * Called for changes made here and, through Redis, on other nodes.
   */
  onSessionsEnded(listener: (userId: string) => void): void {
    this.endedSessionListeners.push(listener);
  }

  /** A user's sessions ended (here or on another node): forget the cached user and tell the listeners. */
  sessionsEnded(userId: string): void {
    this.activeUsers.delete(userId);
    for (const listener of this.endedSessionListeners) {
      try {
        listener(userId);
      } catch (error) {
        this.log.warn({ err: error, userId }, 'ended-sessions listener failed');
      }
    }
  }

  /** When a token stops being valid (ms since the epoch); call only with a token `authenticate` accepted. */
  tokenExpiresAt(token: string): number | undefined {
    const claims = jwt.decode(token);
    return claims && typeof claims === 'object' && typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  }

  /** After the version was raised in MongoDB: at once on this node, then on the others through Redis. */
  private async endSessions(userId: string): Promise<void> {
    this.sessionsEnded(userId);
    await publishEndedSessions(this.redis, this.settings.redisKeyPrefix, userId).catch((error) =>
      // The other nodes still refuse the token within AUTH_USER_CACHE_TTL (they compare versions).
      this.log.warn({ err: error, userId }, 'ended sessions not published'),
    );
  }

  /**
   * Checks the password under the login limits (see LoginGuard): per account and address, per
   * account, per address, and a cap on hashes running at once. `ip` is the caller's address.
   */
  async login(email: string, password: string, ip?: string): Promise<{ token: string; user: PublicUser }> {
    // Belt and braces with the start-up refusal: accounts seeded into this database later are refused too.
    if (!this.settings.demoMode && isDemoEmail(email)) {
      this.log.warn('login refused: demo account outside demo mode');
      throw new AppError('unauthenticated', 'Email or password is wrong, or the account is disabled');
    }
    const user = await this.loginGuard.check(email, ip, async () => {
      const found = await this.users.findByEmail(email);
      // Verify against a hash even for unknown emails so timing does not reveal which accounts exist.
      const matches = found ? await argon2.verify(found.passwordHash, password) : (await argon2.verify(await dummyHash, password), false);
      if (matches && found!.active) {
        if (argon2.needsRehash(found!.passwordHash, passwordHashing)) await this.upgradeHash(found!._id, password);
        return found!;
      }
      this.log.info({ userId: found?._id }, 'login failed');
      return null;
    });
    if (!user) throw new AppError('unauthenticated', 'Email or password is wrong, or the account is disabled');
    return this.issueToken(user);
  }

  /** A hash made with older settings is replaced; a failure only logs, the sign-in goes on. */
  private async upgradeHash(userId: string, password: string): Promise<void> {
    try {
      await this.users.update(userId, { passwordHash: await argon2.hash(password, passwordHashing) });
    } catch (error) {
      this.log.warn({ err: error, userId }, 'password rehash failed');
    }
  }

  private issueToken(user: StoredUser): { token: string; user: PublicUser } {
    const token = jwt.sign({ role: user.role, name: user.name, dept: user.departmentId, tv: user.tokenVersion ?? 0 }, this.tokenKey, {
      subject: user._id,
      expiresIn: this.settings.tokenTtl as SignOptions['expiresIn'],
      algorithm: 'HS256',
    });
    this.log.info({ userId: user._id, role: user.role }, 'login succeeded');
    return { token, user: toPublicUser(user) };
  }

  /**
   * Resolves a bearer token or API key to a principal. The token's signature, expiry and version
   * are checked on every call; the user behind it is re-read at most every few seconds
   * (`userCacheMs`), and at once after a change that ends sessions (see `sessionsEnded`).
   */
  async authenticate(credentials: { bearer?: string; apiKey?: string }): Promise<Principal> {
    if (credentials.apiKey) return this.apiKeys.authenticate(credentials.apiKey);
    if (!credentials.bearer) {
      throw new AppError('unauthenticated', 'Sign in first: send Authorization: Bearer <token> or X-Api-Key');
    }
    let subject: string;
    let version: number;
    try {
      const claims = jwt.verify(credentials.bearer, this.tokenKey, { algorithms: ['HS256'] });
      if (typeof claims === 'string' || !claims.sub) throw new Error('token without subject');
      subject = claims.sub;
      // Tokens signed before versions existed carry none: version 0, which every user starts at.
      version = typeof claims.tv === 'number' ? claims.tv : 0;
    } catch {
      throw new AppError('unauthenticated', 'Your session has expired or the token is invalid; sign in again');
    }
    let user = await this.activeUsers.get(subject, () => this.readActiveUser(subject));
    // A token newer than the cached user (signed in again after a change whose message this node
    // missed): the cache is stale, not the token; read again once.
    if (user && version > user.tokenVersion) {
      this.activeUsers.delete(subject);
      user = await this.activeUsers.get(subject, () => this.readActiveUser(subject));
    }
    if (!user) throw new AppError('unauthenticated', 'This account no longer exists or is disabled');
    // A cached user is at most AUTH_USER_CACHE_TTL old, and other nodes drop it at once on a change.
    if (user.tokenVersion !== version) {
      throw new AppError('unauthenticated', 'You were signed out (password, role or account change, or "sign out everywhere"); sign in again');
    }
    return { kind: 'user', id: user._id, role: user.role, departmentId: user.departmentId, name: user.name };
  }

  private async readActiveUser(id: string): Promise<ActiveUser> {
    const user = await this.users.findById(id);
    return user?.active ? { _id: user._id, role: user.role, departmentId: user.departmentId, name: user.name, tokenVersion: user.tokenVersion ?? 0 } : null;
  }

  private async checkDepartment(departmentId: string | undefined): Promise<void> {
    if (departmentId && !(await this.departmentExists(departmentId))) {
      throw AppError.validation([{ field: 'departmentId', message: 'names no department; create it first (POST /api/departments)' }]);
    }
  }

  /** Deletes the demo seed's accounts (`npm run demo:remove-accounts`); their sessions end everywhere. Resolves with how many. */
  async removeDemoAccounts(): Promise<number> {
    const ids = (await this.users.findByEmailDomain(demoEmailDomain)).map((user) => user._id);
    const removed = await this.users.deleteByIds(ids);
    for (const id of ids) await this.endSessions(id);
    if (removed) this.log.warn({ removed }, 'demo accounts removed');
    return removed;
  }

  createApiKey(input: { name: string; role: Role; departmentIds?: string[]; createdBy: string }): Promise<{ key: string; apiKey: PublicApiKey }> {
    return this.apiKeys.create(input);
  }

  listApiKeys(): Promise<PublicApiKey[]> {
    return this.apiKeys.list();
  }

  revokeApiKey(id: string): Promise<PublicApiKey> {
    return this.apiKeys.revoke(id);
  }

  async listUsers(filter: { role?: Role; departmentId?: string }): Promise<PublicUser[]> {
    return (await this.users.list(filter)).map(toPublicUser);
  }

  async getUser(id: string): Promise<PublicUser> {
    const user = await this.users.findById(id);
    if (!user) throw AppError.notFound('User', id);
    return toPublicUser(user);
  }

  async updateUser(
    id: string,
    changes: { name?: string; role?: Role; departmentId?: string; active?: boolean; locale?: 'en' | 'zh-CN'; password?: string },
  ): Promise<PublicUser> {
    const { password, ...fields } = changes;
    const existing = await this.users.findById(id);
    if (!existing) throw AppError.notFound('User', id);
    if ((fields.role ?? existing.role) === 'department' && !(fields.departmentId ?? existing.departmentId)) {
      throw AppError.validation([{ field: 'departmentId', message: 'is required for department users' }]);
    }
    await this.checkDepartment(fields.departmentId);
    // What someone signed in may do changes with these, so their tokens and sockets end with the change.
    const endSessions =
      password !== undefined ||
      fields.active === false ||
      (fields.role !== undefined && fields.role !== existing.role) ||
      (fields.departmentId !== undefined && fields.departmentId !== existing.departmentId);
    const updated = await this.users.update(id, { ...fields, ...(password !== undefined ? { passwordHash: await hashPassword(password) } : {}) }, { endSessions });
    if (!updated) throw AppError.notFound('User', id);
    // After the write: also drops a read of the old user that was still running.
    if (endSessions) await this.endSessions(id);
    else this.activeUsers.delete(id);
    this.log.info({ userId: id, fields: Object.keys(changes), sessionsEnded: endSessions }, 'user updated');
    return toPublicUser(updated);
  }
}

const dummyHash = argon2.hash(randomBytes(16).toString('hex'), passwordHashing);

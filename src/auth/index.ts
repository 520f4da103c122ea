export { AuthService, toPublicUser, type PublicUser, type NewUserInput } from './auth.service';
export { UserRepository } from './user.repository';
export { authRoutes, credentialsFrom } from './auth.routes';
export { listenForEndedSessions } from './ended-sessions';
export { apiRateLimiter, parseRateLimit } from './rate-limits';
export { assertNoDemoAccounts, demoEmailDomain, isDemoEmail } from './demo-accounts';

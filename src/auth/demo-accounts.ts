import { ConfigError } from '../platform/config';
import type { UserRepository } from './user.repository';

/** The demo seed's accounts (scripts/seed-data.ts) live here; their passwords are published in the README. */
export const demoEmailDomain = 'demo.switchboard.local';

export function isDemoEmail(email: string): boolean {
  return email.trim().toLowerCase().endsWith(`@${demoEmailDomain}`);
}

/**
 * Refuses a start outside demo mode while demo accounts exist: their published passwords would
 * open a real tenant (an admin among them). The error says how to remove them.
 */
export async function assertNoDemoAccounts(users: UserRepository): Promise<void> {
  const found = (await users.findByEmailDomain(demoEmailDomain)).length;
  if (!found) return;
  throw new ConfigError([
    {
      variable: 'DEMO',
      message:
        `is off, but this database has ${found} demo accounts (*@${demoEmailDomain}) whose passwords are published. ` +
        'Remove them with `npm run demo:remove-accounts` (same MONGODB_URI), or run the demo with `npm run demo`',
    },
  ]);
}

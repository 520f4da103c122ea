import { AppError } from '../platform/errors';
import type { Principal, Role } from '../platform/http/principal';

/** True when the agent is handling the contact now (routing's `desk.holds`: an accepted, active work item). */
export type ContactHolds = (agentId: string, interactionId: string) => Promise<boolean>;

/** Roles that may step in on any contact (answer it, take a queued call) without holding it. */
const steppingInRoles: ReadonlySet<Role> = new Set(['admin', 'supervisor']);

/**
 * The one rule for acting on a customer's contact (replying, connecting a call): an agent acts only
 * on a contact they hold; supervisors and admins may step in on any. Every transport (REST, socket)
 * reaches it through the service, so none can forget it. `alsoHeldWhen` covers a contact already
 * bound to the agent outside routing (e.g. the call is bridged to them).
 */
export async function assertMayActOnContact(
  principal: Pick<Principal, 'id' | 'role'>,
  interactionId: string,
  holds: ContactHolds | undefined,
  what: string,
  alsoHeldWhen = false,
): Promise<void> {
  if (steppingInRoles.has(principal.role)) return;
  if (principal.role === 'agent' && (alsoHeldWhen || ((await holds?.(principal.id, interactionId)) ?? false))) return;
  throw new AppError('forbidden', `You can only ${what} a contact you are handling; accept its offer first, or ask a supervisor`, { interactionId });
}

import { Router } from 'express';
import type { ChannelDeps, ChannelModule } from '../channel';

/** Placeholder until the email channel lands; keeps the composition root stable. */
export function createEmailChannel(_deps: ChannelDeps): ChannelModule {
  return { name: 'email', routers: [Router()], start: async () => undefined, close: async () => undefined };
}

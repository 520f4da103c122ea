import { Router } from 'express';
import type { ChannelDeps, ChannelModule } from '../channel';

/** Placeholder until the sms channel lands; keeps the composition root stable. */
export function createSmsChannel(_deps: ChannelDeps): ChannelModule {
  return { name: 'sms', routers: [Router()], start: async () => undefined, close: async () => undefined };
}

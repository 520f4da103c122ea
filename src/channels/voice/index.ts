import { Router } from 'express';
import type { ChannelDeps, ChannelModule } from '../channel';

/** Placeholder until the voice channel lands; keeps the composition root stable. */
export function createVoiceChannel(_deps: ChannelDeps): ChannelModule {
  return { name: 'voice', routers: [Router()], start: async () => undefined, close: async () => undefined };
}

import type { Router } from 'express';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import type { CustomerService } from '../customers';
import type { InteractionService } from '../interactions';
import type { Config } from '../platform/config';
import type { RouteRegistry } from '../platform/http/route';
import type { Logger } from '../platform/logger';
import type { SmtpRejection } from '../platform/metrics';
import type { QueueFactory } from '../platform/queues';
import type { Repair } from '../platform/repair';
import type { ContactHolds } from './contact-access';

/** What every channel module gets from the composition root. */
export interface ChannelDeps {
  config: Config;
  log: Logger;
  mongo: Connection;
  redis: Redis;
  queues: QueueFactory;
  registry: RouteRegistry;
  customers: CustomerService;
  interactions: InteractionService;
  /** Whether an agent holds a contact now (routing's desk); absent without routing: agents then hold nothing. */
  holds?: ContactHolds;
  /** Told of each SMTP command the listener refuses (metrics). */
  onSmtpRejected?: (rejection: SmtpRejection) => void;
}

/** Sends an agent's reply on the interaction's own channel. */
export interface ReplySender {
  reply(input: { interactionId: string; text: string; authorId: string }): Promise<{ entryId: string; status: string }>;
}

export interface ChannelModule extends Partial<ReplySender> {
  name: 'voice' | 'sms' | 'email';
  /** Webhooks (signature-verified, not under /api) and authenticated /api routes. */
  routers: Router[];
  /** Starts listeners and workers this process's roles ask for. */
  start(): Promise<void>;
  close(): Promise<void>;
  /** Rebuild-from-MongoDB steps for the reconciler (issue 13): the channel's jobs Redis may have lost. */
  repairs?: Repair[];
}

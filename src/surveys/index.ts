import type { Router } from 'express';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import type { ChannelModule } from '../channels';
import type { EmailChannel } from '../channels/email';
import type { SmsChannel } from '../channels/sms';
import type { InteractionService } from '../interactions';
import type { Config } from '../platform/config';
import { durationMs } from '../platform/duration';
import type { RouteRegistry } from '../platform/http/route';
import type { Logger } from '../platform/logger';
import type { QueueFactory } from '../platform/queues';
import type { Repair } from '../platform/repair';
import { parseQuietHours } from './quiet-hours';
import { SurveyJobs } from './survey.jobs';
import { SurveyRepository } from './survey.repository';
import { surveyRepair } from './survey-repair';
import { surveyRoutes } from './survey.routes';
import { SurveyService, type CsatAnswer } from './survey.service';
import { surveyLinkKey } from './survey-token';

export { SurveyService, surveyChannelFor, parseScoreReply, type CsatAnswer } from './survey.service';
export { parseQuietHours, shiftOutOfQuietHours, type QuietHours } from './quiet-hours';

export interface SurveyModuleDeps {
  config: Config;
  log: Logger;
  mongo: Connection;
  redis: Redis;
  queues: QueueFactory;
  interactions: InteractionService;
  channels: ChannelModule[];
  /** Secret the link-signing key is derived from (AUTH_TOKEN_SECRET). */
  linkSecret: string;
  /** Told once per recorded answer (reports' recordCsatAnswer). */
  onAnswer: (answer: CsatAnswer) => Promise<void>;
}

export interface SurveyModule {
  service: SurveyService;
  router(registry: RouteRegistry): Router;
  /** Starts the survey worker when this process runs the worker role. */
  start(): Promise<void>;
  /** Rebuild-from-MongoDB steps for the reconciler (issue 13): survey sends, expiries and SMS reply keys. */
  repairs: Repair[];
}

/** CSAT surveys after agent-handled contacts; does nothing but serve old links when CSAT_ENABLED is off. */
export function createSurveys(deps: SurveyModuleDeps): SurveyModule {
  const { config } = deps;
  const log = deps.log.child({ module: 'surveys' });
  const sms = deps.channels.find((channel) => channel.name === 'sms') as SmsChannel | undefined;
  const email = deps.channels.find((channel) => channel.name === 'email') as EmailChannel | undefined;
  const jobs = new SurveyJobs(deps.queues);
  const repository = new SurveyRepository(deps.mongo);
  const service = new SurveyService({
    repository,
    jobs,
    interactions: deps.interactions,
    redis: deps.redis,
    ...(sms ? { sendSms: (input) => sms.outbound.sendSms(input) } : {}),
    ...(email ? { sendEmail: (input) => email.sendEmail(input) } : {}),
    onAnswer: deps.onAnswer,
    settings: {
      delayMs: durationMs(config.CSAT_DELAY),
      windowMs: durationMs(config.CSAT_WINDOW),
      quietHours: parseQuietHours(config.CSAT_QUIET_HOURS, config.CSAT_TIMEZONE),
      publicBaseUrl: config.PUBLIC_BASE_URL.replace(/\/$/, ''),
      linkKey: surveyLinkKey(deps.linkSecret),
      redisKeyPrefix: config.REDIS_KEY_PREFIX,
    },
    log,
  });
  if (config.CSAT_ENABLED) {
    deps.interactions.onChange((change) => service.onInteractionChange(change), 'must-succeed', 'csat-survey');
    // Off means off: with CSAT disabled, replies to earlier surveys reach agents as ordinary texts.
    sms?.addReplyClaimer((reply) => service.claimSmsReply(reply));
  }
  return {
    service,
    router: (registry) => surveyRoutes(registry, service),
    // Also with CSAT off: surveys scheduled before it was turned off still send and expire, as their jobs would have.
    repairs: [surveyRepair({ repository, jobs, redis: deps.redis, redisKeyPrefix: config.REDIS_KEY_PREFIX, log })],
    async start() {
      jobs.startWorker((job) => service.handleJob(job));
    },
  };
}

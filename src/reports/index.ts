import type { Router } from 'express';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import type { InteractionListener, InteractionService } from '../interactions';
import type { Config } from '../platform/config';
import type { RouteRegistry } from '../platform/http/route';
import type { Logger } from '../platform/logger';
import type { Repair } from '../platform/repair';
import { durationMs } from '../platform/duration';
import type { QueuesConfig, RoutingEvent } from '../routing';
import type { TaskEvent } from '../tasks';
import type { ContactRules } from './contact-facts';
import { FactCounter, reportBatchesRepair } from './fact-counter';
import { RawLogReader } from './raw-log.reader';
import { RebuildService } from './rebuild.service';
import { ReportQuery } from './report-query';
import { ReportsRepository } from './reports.repository';
import { reportsRoutes } from './reports.routes';
import { ReportsService, type CsatAnswerInput, type QueueToday } from './reports.service';

export * from './kpis';
export type { QueueToday, CsatAnswerInput } from './reports.service';
export type { RebuildResult } from './rebuild.service';

export interface ReportsDeps {
  config: Config;
  log: Logger;
  mongo: Connection;
  redis: Redis;
  interactions: InteractionService;
  /** The routing queues (service-level thresholds); a getter because routing may be built after reports. */
  queues: () => QueuesConfig | undefined;
}

export interface ReportsModule {
  /** Returns at once (counting runs in the background); register it before routing's listener, so the wallboard's next read waits for it. */
  onInteractionChange: InteractionListener;
  onRoutingEvent(event: RoutingEvent): Promise<void>;
  onTaskEvent(event: TaskEvent): Promise<void>;
  /** For the CSAT survey module: records one answer per interaction in the rollups. */
  recordCsatAnswer(input: CsatAnswerInput): Promise<{ recorded: boolean }>;
  /** The wallboard's "today" for a queue (routing's QueueStats reads it). */
  queueToday(queue: string, at?: Date): Promise<QueueToday>;
  rebuild: RebuildService;
  query: ReportQuery;
  /** Waits for the counting this process's listeners started (tests, and before closing the stores). */
  settle(): Promise<void>;
  router(registry: RouteRegistry): Router;
  /**
   * For the reconciler: finishes report batches a dead node (or an outage) left half written, and
   * counts the facts of lately changed contacts that no batch holds (a node died before writing it).
   */
  repairs: Repair[];
}

/** KPIs, interval rollups written as events happen, historical reports, scorecards and the rebuild. */
export function createReports(deps: ReportsDeps): ReportsModule {
  const log = deps.log.child({ module: 'reports' });
  const settings = { timeZone: deps.config.REPORTS_TIME_ZONE, fcrDays: deps.config.REPORTS_FCR_DAYS };
  const rules: ContactRules = {
    thresholdSeconds: (queue) => deps.queues()?.byName.get(queue)?.serviceLevelSeconds,
    channelQueue: (channel) => deps.queues()?.channelQueues[channel],
    shortAbandonSeconds: deps.config.REPORTS_SHORT_ABANDON_SECONDS,
  };
  const repository = new ReportsRepository(deps.mongo, deps.redis, deps.config.REDIS_KEY_PREFIX);
  const counter = new FactCounter(repository, settings.timeZone, { log });
  const service = new ReportsService({ repository, counter, interactions: deps.interactions, rules, settings, log });
  const query = new ReportQuery(repository, settings.timeZone);
  const raw = new RawLogReader(deps.mongo, (id) => deps.interactions.getInteraction(id));
  const rebuild = new RebuildService({ repository, raw, interactions: deps.interactions, rules, settings });
  const recountWindowMs = durationMs(deps.config.RECONCILE_INTERVAL) + 5 * 60_000;
  return {
    onInteractionChange: (change) => service.onInteractionChange(change),
    onRoutingEvent: (event) => service.onRoutingEvent(event),
    onTaskEvent: (event) => service.onTaskEvent(event),
    recordCsatAnswer: (input) => service.recordCsatAnswer(input),
    queueToday: (queue, at) => service.queueToday(queue, at),
    rebuild,
    query,
    settle: () => service.settle(),
    repairs: [
      reportBatchesRepair(repository, settings.timeZone),
      // The contacts changed since a little before the previous run: what a node that died since may have left uncounted.
      { name: 'report-recount', run: () => service.recount(raw.interactionsTouching(new Date(Date.now() - recountWindowMs), new Date(Date.now() + 60_000))) },
    ],
    router: (registry) => reportsRoutes(registry, query, { timeZone: settings.timeZone, thresholdSeconds: rules.thresholdSeconds, settle: () => service.settle() }),
  };
}

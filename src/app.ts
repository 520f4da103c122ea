import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { AuthService, UserRepository, apiRateLimiter, assertNoDemoAccounts, authRoutes, credentialsFrom, listenForEndedSessions, parseRateLimit } from './auth';
import { CustomerRepository, CustomerService, customerRoutes } from './customers';
import { InteractionRepository, InteractionService, interactionRoutes } from './interactions';
import { DepartmentService, TaskRepository, TaskService, createTasksModule, type TaskOutbox } from './tasks';
import { AttachmentStore, ReplyService, createChannels, replyRoutes, type ChannelModule, type ContactHolds } from './channels';
import { createIntegrations } from './integrations';
import { createSurveys, type CsatAnswer } from './surveys';
import { QueueFactory } from './platform/queues';
import type { Repair } from './platform/repair';
import { createRouting, type QueuesConfig, type RoutingModule, type RoutingOptions } from './routing';
import { createReports, type ReportsModule } from './reports';
import { createRealtimeGateway, type RealtimeGateway } from './realtime';
import type { CallControlService } from './channels/voice/call-control.service';
import type { Config } from './platform/config';
import { durationMs } from './platform/duration';
import { createHttpApp } from './platform/http/app';
import { RouteRegistry, type RegisteredRoute } from './platform/http/route';
import { createLogger, type Logger } from './platform/logger';
import { Metrics } from './platform/metrics';
import { startMetricsServer, type MetricsServer } from './platform/metrics-server';
import { closeMongo, connectMongo, pingMongo } from './platform/mongo';
import { Reconciler } from './platform/reconciler';
import { createRedis, pingRedis } from './platform/redis';
import { checkRedisSettings } from './platform/redis-settings';
import { reportRedisOutages } from './platform/store-outage';
import { version } from './platform/version';

export interface Services {
  auth: AuthService;
  customers: CustomerService;
  interactions: InteractionService;
  departments: DepartmentService;
  tasks: TaskService;
}

export interface Switchboard {
  config: Config;
  log: Logger;
  mongo: Connection;
  redis: Redis;
  services: Services;
  queues: QueueFactory;
  channels: ChannelModule[];
  /** Absent when started with `routing: false` (tests that drive their own routing module). */
  routing?: RoutingModule;
  realtime?: RealtimeGateway;
  reports: ReportsModule;
  /** The task outbox dispatcher, a Repair (runs on a timer on every node; the reconciler may run it too; `stats()` for metrics). */
  taskOutbox: TaskOutbox;
  /** Rebuilds Redis from MongoDB (at start, after a Redis reset, periodically); modules register their repairs on it. */
  reconciler: Reconciler;
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:3000, when the api role runs. */
  url?: string;
  /** Every HTTP route registered with its roles (filled when the api role runs): the OpenAPI document's and docs/security.md's source. */
  routes: readonly RegisteredRoute[];
  /** This instance's Prometheus registry; `metrics.provide(…)` connects the reconciler's and the outbox's figures. */
  metrics: Metrics;
  /** Base URL of the metrics listener (scrape `${metricsUrl}/metrics`), unless METRICS_PORT is off. */
  metricsUrl?: string;
  /** Stops accepting, drains in-flight requests, then closes stores. Safe to call twice. */
  close(): Promise<void>;
  /** The domain modules' timer and send repairs (task SLAs and notifications, SMS, email, surveys, webhooks) for the reconciler (issue 13). */
  repairs: Repair[];
}

/** Builds the domain services on open store connections; shared by the server, scripts and benchmarks. */
export function buildServices(config: Config, stores: { mongo: Connection; redis: Redis; log: Logger }): Services {
  const { mongo, redis, log } = stores;
  const tokenSecret = config.AUTH_TOKEN_SECRET ?? ephemeralSecret(log);
  const departments = new DepartmentService(mongo, log.child({ module: 'departments' }));
  const auth = new AuthService(
    new UserRepository(mongo),
    redis,
    {
      tokenSecret, tokenTtl: config.AUTH_TOKEN_TTL, redisKeyPrefix: config.REDIS_KEY_PREFIX, userCacheMs: durationMs(config.AUTH_USER_CACHE_TTL), demoMode: config.DEMO,
      loginLimits: {
        perAccountAndIp: parseRateLimit(config.AUTH_LOGIN_LIMIT_PER_ACCOUNT_IP)!,
        perAccount: parseRateLimit(config.AUTH_LOGIN_LIMIT_PER_ACCOUNT)!,
        perIp: parseRateLimit(config.AUTH_LOGIN_LIMIT_PER_IP)!,
        maxConcurrentHashes: config.AUTH_MAX_CONCURRENT_HASHES,
      },
    },
    log.child({ module: 'auth' }),
    (id) => departments.exists(id),
  );
  const customers = new CustomerService(new CustomerRepository(mongo), config.DEFAULT_PHONE_REGION, log.child({ module: 'customers' }));
  const interactions = new InteractionService(new InteractionRepository(mongo, { maxEntries: config.INTERACTION_MAX_ENTRIES, maxBytes: config.INTERACTION_MAX_BYTES }, config.TIMELINE_HEAD_ITEMS), redis, config.REDIS_KEY_PREFIX, log.child({ module: 'interactions' }));
  customers.onMerge((merge) => interactions.moveCustomerInteractions(merge));
  const tasks = new TaskService({ repository: new TaskRepository(mongo), departments, customers, interactions, users: auth, log: log.child({ module: 'tasks' }) });
  customers.onMerge((merge) => tasks.moveCustomerTasks(merge));
  return { auth, customers, interactions, departments, tasks };
}

let cachedEphemeralSecret: string | undefined;
function ephemeralSecret(log: Logger): string {
  if (!cachedEphemeralSecret) {
    cachedEphemeralSecret = randomBytes(32).toString('hex');
    log.warn('AUTH_TOKEN_SECRET is not set: using a per-process secret (demo/test only); tokens die with this process');
  }
  return cachedEphemeralSecret;
}

export interface StartOptions {
  log?: Logger;
  /** Routing settings (e.g. test queues), or false to leave routing and the realtime gateway out. */
  routing?: RoutingOptions | false;
  /** Also told of every recorded CSAT answer (tests observe answers here). */
  onCsatAnswer?: (answer: CsatAnswer) => Promise<void> | void;
}

export async function startSwitchboard(config: Config, options: StartOptions = {}): Promise<Switchboard> {
  const log = options.log ?? createLogger(config.LOG_LEVEL);
  const mongo = await connectMongo(config.MONGODB_URI, log);
  // Demo accounts (published passwords) never work outside demo mode: refuse to start while they exist.
  if (!config.DEMO) await assertNoDemoAccounts(new UserRepository(mongo)).catch(async (error: unknown) => {
    await closeMongo(mongo);
    throw error;
  });
  const redis = createRedis(config.REDIS_URL);
  reportRedisOutages(redis, log);
  // Warns (never refuses) when Redis may evict or forget queues and timers.
  await checkRedisSettings(redis, log.child({ module: 'redis' }));

  const services = buildServices(config, { mongo, redis, log });
  const runs = (role: 'api' | 'smtp' | 'worker') => config.ROLES.includes('all') || config.ROLES.includes(role);
  const metrics = new Metrics(log.child({ module: 'metrics' }));
  const queues = new QueueFactory(config.REDIS_URL, config.REDIS_KEY_PREFIX, log.child({ module: 'queues' }), runs('worker'), (queue, final) => metrics.jobFailed(queue, final));
  const registry = new RouteRegistry(
    (req) => services.auth.authenticate(credentialsFrom(req)),
    apiRateLimiter(redis, config.REDIS_KEY_PREFIX, parseRateLimit(config.API_RATE_LIMIT), log.child({ module: 'auth' })),
  );
  let queuesConfig: QueuesConfig | undefined;
  // Counting runs in the background (batched); readers of figures settle it first.
  const reports = createReports({ config, log, mongo, redis, interactions: services.interactions, queues: () => queuesConfig });
  // Best-effort here (counting is batched in the background): the reconciler's report-recount repair
  // counts the facts of recently changed contacts that no batch holds.
  services.interactions.onChange(reports.onInteractionChange, 'best-effort', 'reports');
  // Replayed after a crash: fact marks count each task fact once.
  services.tasks.onEvent(reports.onTaskEvent, 'must-succeed', 'reports');
  // Routing's desk is built after the channels; the holds check reads it late (none: agents hold nothing).
  let holdsCheck: ContactHolds | undefined;
  const holds: ContactHolds = async (agentId, interactionId) => (await holdsCheck?.(agentId, interactionId)) ?? false;
  const channels = createChannels({ config, log, mongo, redis, queues, registry, customers: services.customers, interactions: services.interactions, holds, onSmtpRejected: (rejection) => metrics.smtpRejected(rejection) });
  const replies = new ReplyService({ interactions: services.interactions, channels, holds });
  const attachments = new AttachmentStore(path.resolve(config.ATTACHMENTS_DIR));
  const integrations = createIntegrations({ config, log, mongo, redis, queues, tasks: services.tasks });
  if (config.UNSAFE_SKIP_TWILIO_SIGNATURE) log.warn('UNSAFE_SKIP_TWILIO_SIGNATURE is on: Twilio webhooks are NOT verified (development only)');
  let routing: RoutingModule | undefined;
  let realtime: RealtimeGateway | undefined;
  if (options.routing !== false) {
    const routingModule = createRouting({ config, log, redis, mongo, queues, interactions: services.interactions, customers: services.customers, queueToday: reports.queueToday }, options.routing ?? {});
    queuesConfig = routingModule.queuesConfig;
    holdsCheck = routingModule.desk.holds?.bind(routingModule.desk);
    routingModule.onEvent(reports.onRoutingEvent);
    const voice = channels.find((channel) => channel.name === 'voice') as (ChannelModule & { calls?: CallControlService }) | undefined;
    routingModule.setConnector(async (input) => {
      if (!voice?.calls) return false;
      await voice.calls.connectCallToAgent(input);
      return true;
    });
    const gateway = createRealtimeGateway({ config, log, redis, mongo, auth: services.auth, customers: services.customers, interactions: services.interactions, desk: routingModule.desk, tasks: services.tasks, reply: (input) => replies.reply(input) });
    routingModule.onEvent((event) => gateway.deliver(event));
    services.auth.onSessionsEnded((userId) => gateway.disconnectUser(userId));
    routing = routingModule;
    realtime = gateway;
    // Read on scrape (cached briefly by Metrics): one wallboard snapshot per queue.
    metrics.provide({
      queues: () => Promise.all([...routingModule.queuesConfig.byName.keys()].map(async (queue) => {
        const snapshot = await routingModule.desk.queueSnapshot!(queue);
        return { queue, waiting: snapshot.waiting, offersInFlight: snapshot.offersInFlight };
      })),
    });
  }
  // After routing: interaction listeners run in order, and a new contact's offer (routing's
  // listener) should not wait for the survey and task-loop listeners.
  const tasksModule = createTasksModule({ config, log, mongo, queues, channels, attachments, ...services, users: services.auth });
  if (realtime) tasksModule.connectRealtime(realtime);
  const surveys = createSurveys({
    config, log, mongo, redis, queues, interactions: services.interactions, channels, linkSecret: config.AUTH_TOKEN_SECRET ?? ephemeralSecret(log),
    onAnswer: async (answer) => {
      await options.onCsatAnswer?.(answer);
      await reports.recordCsatAnswer(answer);
    },
  });
  // Sessions ended on any node (disable, role change, sign out everywhere) clear this node's user cache and sockets.
  const stopEndedSessions = await listenForEndedSessions(config.REDIS_URL, config.REDIS_KEY_PREFIX, (userId) => services.auth.sessionsEnded(userId), log.child({ module: 'auth' }));
  // Indexes are part of correctness (unique email, one task per reference); every module has
  // registered its models by now, so all are built before the first request or job.
  await Promise.all(Object.values(mongo.models).map((model) => model.init()));
  if (!config.TWILIO_AUTH_TOKEN) log.warn('TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN are not set: Twilio webhooks answer 503 and SMS/calls cannot be sent');
  let draining = false;
  let server: http.Server | undefined;
  let url: string | undefined;

  if (runs('api')) {
    const app = createHttpApp({
      trustProxy: config.TRUST_PROXY,
      observe: metrics.httpMiddleware(),
      log,
      version,
      registry,
      routers: [
        authRoutes(registry, services.auth),
        customerRoutes(registry, services.customers),
        interactionRoutes(registry, services.interactions, services.customers, attachments),
        ...tasksModule.routers(registry),
        replyRoutes(registry, replies),
        ...channels.flatMap((channel) => channel.routers),
        ...integrations.routers(registry),
        surveys.router(registry),
        reports.router(registry),
        ...(routing ? [routing.router(registry)] : []),
      ],
      readiness: [
        { name: 'mongo', check: () => pingMongo(mongo) },
        // Optional: without Redis the node still stores and answers (`degraded`); see the readiness route.
        { name: 'redis', check: () => pingRedis(redis), required: false },
      ],
      isDraining: () => draining,
    });
    server = http.createServer(app);
    if (realtime) await realtime.attach(server);
    // Longer than a typical load balancer's idle timeout, so the balancer closes first.
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.PORT, config.HOST, () => resolve());
    });
    const address = server.address() as AddressInfo;
    url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${address.port}`;
    log.info({ port: address.port, roles: config.ROLES }, 'http listening');
  }

  let metricsServer: MetricsServer | undefined;
  if (config.METRICS_PORT !== 'off') {
    // Any role serves its metrics (a worker has no HTTP API). A taken port costs the metrics, not the
    // node: it is logged, and Prometheus shows the target down.
    if (!['127.0.0.1', '::1', 'localhost'].includes(config.METRICS_HOST) && !config.METRICS_TOKEN) log.warn({ host: config.METRICS_HOST }, 'metrics served beyond loopback without METRICS_TOKEN: keep the port off public networks');
    metricsServer = await startMetricsServer(metrics, { port: config.METRICS_PORT, host: config.METRICS_HOST, ...(config.METRICS_TOKEN ? { token: config.METRICS_TOKEN } : {}), log }).catch((error: unknown) => {
      log.error({ err: error, port: config.METRICS_PORT }, 'metrics not served: the metrics port could not be opened');
      return undefined;
    });
  }

  for (const channel of channels) await channel.start();
  await surveys.start();
  await routing?.start();
  tasksModule.outbox.start();
  const reconciler = new Reconciler({ redis, redisKeyPrefix: config.REDIS_KEY_PREFIX, log: log.child({ module: 'reconciler' }) }, { intervalMs: durationMs(config.RECONCILE_INTERVAL) });
  // Routing first (waiting contacts and work in hand), then the timers and sends of the other modules.
  if (routing) reconciler.register(...routing.repairs);
  const repairs = [...tasksModule.repairs, ...channels.flatMap((channel) => channel.repairs ?? []), ...surveys.repairs, ...integrations.repairs];
  reconciler.register(...repairs, tasksModule.outbox);
  // Report batches a dead node or an outage left half written (their journal), finished once; facts of lately changed contacts no batch holds.
  reconciler.register(...reports.repairs);
  metrics.provide({ reconcilerRepairs: () => reconciler.stats().repaired, outboxLagSeconds: () => tasksModule.outbox.stats().oldestAgeMs / 1000 });
  await reconciler.start();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      await reconciler.stop();
      await tasksModule.outbox.close();
      // Routing first, so no match in flight emits into a closed gateway; then sockets (the
      // gateway leaves the HTTP server to us, which then drains requests).
      await routing?.close();
      await realtime?.close();
      await stopEndedSessions();
      if (server) {
        const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        // In-flight requests get a bounded time to finish; then remaining sockets are cut.
        const deadline = setTimeout(() => server!.closeAllConnections(), 10_000);
        await closed;
        clearTimeout(deadline);
      }
      await metricsServer?.close();
      for (const channel of channels) await channel.close();
      await reports.settle();
      await queues.close();
      await redis.quit().catch(() => redis.disconnect());
      await closeMongo(mongo);
      log.info('switchboard stopped');
    })());

  return { config, log, mongo, redis, services, queues, channels, routing, realtime, reports, reconciler, taskOutbox: tasksModule.outbox, url, routes: registry.routes, metrics, metricsUrl: metricsServer?.url, close, repairs };
}

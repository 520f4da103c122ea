import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from './logger';

/**
 * Figures other modules own, read on each scrape. Each is optional: a process without the module
 * (or before the lead wires it) simply has no such series.
 */
export interface MetricsProviders {
  /** Contacts waiting and offers ringing now, per routing queue (routing's queue stats). */
  queues: () => Promise<Array<{ queue: string; waiting: number; offersInFlight: number }>>;
  /** Repairs per kind since this process started (the reconciler's `stats()`): totals, never deltas. */
  reconcilerRepairs: () => Record<string, number> | Promise<Record<string, number>>;
  /** Age in seconds of the oldest outbox event not yet dispatched; 0 when none is pending. */
  outboxLagSeconds: () => number | Promise<number>;
}

/** Where an SMTP command was refused, and the reply code sent. */
export interface SmtpRejection {
  stage: 'connect' | 'auth' | 'mail' | 'data';
  code: number;
}

/** Latency buckets (seconds) for API requests and webhooks: from a cache hit to a slow report. */
const httpBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** How long a scrape reuses routing's queue figures: several scrapers (HA Prometheus pairs) cost one read. */
const queueCacheMs = 2_000;

/**
 * Process figures (CPU, memory, handles, GC, event-loop delay as nodejs_eventloop_lag_*, sampled
 * every 10 ms) belong to the process, not to an app: collected once into a registry of their own,
 * so an in-process test that starts fifty apps does not start fifty event-loop monitors.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 10 });
  }
  return processRegistry;
}

/**
 * One Prometheus registry per app instance (tests start many apps in one process, so nothing goes
 * to prom-client's global registry). Counters are bumped by the edges that see the event (HTTP,
 * SMTP, BullMQ workers); the queue, reconciler and outbox figures are read from their owners when
 * scraped, through `provide`.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly providers: Partial<MetricsProviders> = {};
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_class'>;
  private readonly webhookRejections: Counter<'channel' | 'status_class' | 'reason'>;
  private readonly smtpRejections: Counter<'stage' | 'code'>;
  private readonly jobFailures: Counter<'queue' | 'final'>;
  private readonly sourceUp: Gauge<'source'>;
  private queueCache: { at: number; value: Promise<Array<{ queue: string; waiting: number; offersInFlight: number }>> } | undefined;
  private readonly repairsSeen = new Map<string, number>();
  /** What the providers said, read once at the start of each scrape (collect functions run in parallel). */
  private sources: { queues?: Array<{ queue: string; waiting: number; offersInFlight: number }>; repairs?: Record<string, number>; outboxLag?: number } = {};

  constructor(private readonly log: Logger) {
    processMetrics();
    const registers = [this.registry];
    this.httpDuration = new Histogram({
      name: 'switchboard_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern (never the raw path) and status class',
      labelNames: ['method', 'route', 'status_class'],
      buckets: httpBuckets,
      registers,
    });
    this.webhookRejections = new Counter({
      name: 'switchboard_webhook_rejections_total',
      help: 'Webhooks answered 4xx/5xx, by channel and reason (bad_signature: a forged or unsigned Twilio request)',
      labelNames: ['channel', 'status_class', 'reason'],
      registers,
    });
    this.smtpRejections = new Counter({
      name: 'switchboard_smtp_rejections_total',
      help: 'SMTP commands refused by the listener, by stage and reply code (421/451 ask the sender to retry; 5xx refuse)',
      labelNames: ['stage', 'code'],
      registers,
    });
    this.jobFailures = new Counter({
      name: 'switchboard_job_failures_total',
      help: 'BullMQ job attempts that failed, per queue; final="true" when no retry is left',
      labelNames: ['queue', 'final'],
      registers,
    });
    this.sourceUp = new Gauge({
      name: 'switchboard_metrics_source_up',
      help: '1 when the last scrape could read this source (routing queues, reconciler, outbox), 0 when it failed',
      labelNames: ['source'],
      registers,
    });
    const metrics = this;
    new Gauge({
      name: 'switchboard_queue_waiting_contacts',
      help: 'Contacts waiting in each routing queue',
      labelNames: ['queue'],
      registers,
      collect() {
        this.reset();
        for (const { queue, waiting } of metrics.sources.queues ?? []) this.set({ queue }, waiting);
      },
    });
    new Gauge({
      name: 'switchboard_queue_offers_in_flight',
      help: 'Offers ringing at agent desks now, per routing queue',
      labelNames: ['queue'],
      registers,
      collect() {
        this.reset();
        for (const { queue, offersInFlight } of metrics.sources.queues ?? []) this.set({ queue }, offersInFlight);
      },
    });
    new Counter({
      name: 'switchboard_reconciler_repairs_total',
      help: 'Items the reconciler put back in Redis from MongoDB, per repair (waiting contacts, timers, ...)',
      labelNames: ['repair'],
      registers,
      collect() {
        for (const [repair, total] of Object.entries(metrics.sources.repairs ?? {})) {
          const seen = metrics.repairsSeen.get(repair) ?? 0;
          if (total > seen) this.inc({ repair }, total - seen);
          if (total !== seen) metrics.repairsSeen.set(repair, total);
          else if (!seen) this.inc({ repair }, 0);
        }
      },
    });
  }

  /** Registered once there is an outbox to read: an unlabelled gauge would otherwise show a false 0. */
  private registerOutboxLag(): void {
    if (this.registry.getSingleMetric('switchboard_outbox_lag_seconds')) return;
    const metrics = this;
    new Gauge({
      name: 'switchboard_outbox_lag_seconds',
      help: 'Age of the oldest outbox event not yet dispatched (0: none pending)',
      registers: [this.registry],
      collect() {
        // NaN, not a reassuring 0, when the outbox could not be read (source_up says why).
        this.set(metrics.sources.outboxLag ?? Number.NaN);
      },
    });
  }

  /** Connects a figure's owner (routing's queue stats, `Reconciler.stats()`, the outbox's lag); a later call replaces one. */
  provide(providers: Partial<MetricsProviders>): void {
    Object.assign(this.providers, providers);
    if (providers.queues) this.queueCache = undefined;
    if (providers.outboxLagSeconds) this.registerOutboxLag();
  }

  /** Express middleware: times each request and counts rejected webhooks. Mount it first. */
  httpMiddleware(): RequestHandler {
    return (req, res, next) => {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const route = routeLabel(req.route as { path?: unknown } | undefined, req.path, req.baseUrl);
        const statusClass = `${Math.floor(res.statusCode / 100)}xx`;
        this.httpDuration.observe({ method: knownMethods.has(req.method) ? req.method : 'other', route, status_class: statusClass }, seconds);
        if (res.statusCode >= 400 && (route.startsWith('/webhooks/') || (route === '(unmatched)' && req.path.startsWith('/webhooks/')))) {
          this.webhookRejections.inc({ channel: webhookChannel(route), status_class: statusClass, reason: rejectionReason(route, res.statusCode, res.locals.errorCode) });
        }
      });
      next();
    };
  }

  smtpRejected(rejection: SmtpRejection): void {
    this.smtpRejections.inc({ stage: rejection.stage, code: String(rejection.code) });
  }

  jobFailed(queue: string, final: boolean): void {
    this.jobFailures.inc({ queue, final: String(final) });
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    const [queues, repairs, outboxLag] = await Promise.all([
      this.queueFigures(),
      this.read('reconciler', this.providers.reconcilerRepairs),
      this.read('outbox', this.providers.outboxLagSeconds),
    ]);
    this.sources = { ...(queues ? { queues } : {}), ...(repairs ? { repairs } : {}), ...(outboxLag !== undefined ? { outboxLag } : {}) };
    const [process, app] = await Promise.all([processMetrics().metrics(), this.registry.metrics()]);
    return { contentType: this.registry.contentType, body: `${process}\n${app}` };
  }

  private queueFigures() {
    const provider = this.providers.queues;
    if (!provider) return Promise.resolve(undefined);
    const now = Date.now();
    if (!this.queueCache || now - this.queueCache.at > queueCacheMs) this.queueCache = { at: now, value: provider() };
    const value = this.queueCache.value;
    return this.read('routing', () => value);
  }

  /** Reads a provider; a failure (Redis down) is logged and shown as source_up 0, never a failed scrape. */
  private async read<T>(source: string, provider: (() => T | Promise<T>) | undefined): Promise<T | undefined> {
    if (!provider) return undefined;
    try {
      const value = await provider();
      this.sourceUp.set({ source }, 1);
      return value;
    } catch (error) {
      this.sourceUp.set({ source }, 0);
      this.log.warn({ err: error, source }, 'metrics source failed');
      return undefined;
    }
  }
}

/** The route's pattern (`/api/customers/:id`), or a fixed label: a raw path would carry ids and grow without bound. */
export function routeLabel(route: { path?: unknown } | undefined, path: string, baseUrl = ''): string {
  // baseUrl: where the route's router is mounted ('' for the routers mounted at the root).
  if (route && typeof route.path === 'string') return `${baseUrl}${route.path}`;
  if (route) return '(pattern)';
  return path.startsWith('/webhooks/') || path.startsWith('/api/') ? '(unmatched)' : '(static)';
}

/** `/webhooks/twilio/sms/status` → sms; a webhook path no route knows → unknown. */
function webhookChannel(route: string): string {
  const match = /^\/webhooks\/twilio\/(sms|voice)(\/|$)/.exec(route);
  return match ? match[1] : 'unknown';
}

function rejectionReason(route: string, status: number, errorCode: unknown): string {
  // On Twilio's routes only the signature check answers 403 (verifyTwilioSignature).
  if (status === 403 && route.startsWith('/webhooks/twilio/')) return 'bad_signature';
  return typeof errorCode === 'string' ? errorCode : String(status);
}

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type Express, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import { projectRoot } from '../config';
import type { Logger } from '../logger';
import { httpErrorHandler, notFoundHandler } from './error-handler';
import { buildOpenApiDocument } from './openapi';
import type { RouteRegistry } from './route';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
  /**
   * Whether the node can do its job at all without it (default true). A required store down makes
   * the node `not_ready` (503); an optional one makes it `degraded` (200): it still takes traffic.
   */
  required?: boolean;
}

export interface HttpAppOptions {
  log: Logger;
  version: string;
  registry: RouteRegistry;
  routers: Router[];
  readiness: ReadinessCheck[];
  /** Set while shutting down so load balancers stop sending traffic before connections close. */
  isDraining: () => boolean;
  /** The built browser UI (`npm run build` writes dist/web); false leaves the UI out. */
  webDir?: string | false;
  /** TRUST_PROXY: which proxies may name the client in X-Forwarded-For; `off` believes none. */
  trustProxy?: string;
  /** Runs first on every request (the metrics' latency timer). */
  observe?: RequestHandler;
}

/** Express's `trust proxy` from TRUST_PROXY: false, a hop count, or the list as Express reads it. */
export function trustProxySetting(value: string | undefined): boolean | number | string {
  if (!value || value === 'off') return false;
  return /^\d+$/.test(value) ? Number(value) : value;
}

const requestIdPattern = /^[A-Za-z0-9._-]{8,64}$/;

export function createHttpApp(options: HttpAppOptions): Express {
  const { log } = options;
  const app = express();
  app.disable('x-powered-by');
  // Not 'private ranges' by default: any client on such a network (a container bridge, the same VPC)
  // could then pick its own address and walk past the per-address login limits.
  app.set('trust proxy', trustProxySetting(options.trustProxy));
  if (options.observe) app.use(options.observe);

  app.use(
    pinoHttp({
      logger: log,
      // Reuse a caller's request id (load balancer, integrator) so one id follows the request.
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Paths only, never query strings: queries carry phone numbers and emails.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    }),
  );
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // Only our own bundle runs: no inline scripts, no eval, no third-party origins.
          'script-src': ["'self'"],
          // socket.io polls over HTTP, then upgrades to ws(s):// on the same host, which 'self' covers.
          // The agent's softphone (Twilio Voice SDK) signals to Twilio and plays its ringtones from there.
          'connect-src': ["'self'", 'wss://*.twilio.com', 'https://*.twilio.com'],
          'media-src': ["'self'", 'https://sdk.twilio.com', 'https://media.twiliocdn.com'],
          'img-src': ["'self'", 'data:'],
          // Same-origin requests need no upgrade behind TLS, and an on-premises install served over
          // plain HTTP (a LAN address) would have every asset rewritten to an https:// that is not there.
          'upgrade-insecure-requests': null,
        },
      },
    }),
  );
  app.use(express.json({ limit: '1mb' }));
  app.use(express.urlencoded({ extended: false, limit: '1mb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    if (options.isDraining()) {
      res.status(503).json({ status: 'draining', checks: {} });
      return;
    }
    const results = await Promise.all(
      options.readiness.map(async ({ name, check }) => {
        try {
          await check();
          return [name, 'ok'] as const;
        } catch (error) {
          // The reason only: a balancer probes every few seconds, and a stack per probe buries the outage's own lines.
          log.warn({ check: name, reason: error instanceof Error ? error.message : String(error) }, 'readiness check failed');
          return [name, 'down'] as const;
        }
      }),
    );
    // ready: 200, everything up. degraded: 200, an optional store down (Redis: contacts are still
    // stored and answered, and queued again when it returns), so a load balancer keeps sending
    // traffic: every node shares the same Redis, and taking them all out would refuse what they can
    // still store. not_ready: 503, a required store down (MongoDB: nothing can be stored), so the
    // balancer takes the node out and senders retry elsewhere or later.
    const down = results.flatMap(([name, state]) => (state === 'down' ? [name] : []));
    const requiredDown = options.readiness.some(({ name, required }) => required !== false && down.includes(name));
    const status = requiredDown ? 'not_ready' : down.length ? 'degraded' : 'ready';
    res.status(requiredDown ? 503 : 200).json({ status, down, checks: Object.fromEntries(results) });
  });

  for (const router of options.routers) app.use(router);

  const openApiDocument = () => buildOpenApiDocument(options.registry.routes, { version: options.version });
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  app.use('/api/docs', swaggerUi.serve, swaggerUi.setup(undefined, { swaggerOptions: { url: '/api/openapi.json' } }));

  const webDir = options.webDir ?? path.join(projectRoot(), 'dist', 'web');
  if (webDir) app.use(webUi(webDir));

  app.use(notFoundHandler);
  app.use(httpErrorHandler(log));
  return app;
}

// Paths the browser UI never owns: an unknown one there stays a JSON 404, not the app's page.
// /metrics is served on its own port (METRICS_PORT), never here: a JSON 404, not the UI.
const serverPaths = /^\/(api|webhooks|socket\.io|healthz|readyz|metrics)(\/|$)/;

/**
 * The browser UI: hashed assets cached for good, and index.html (never cached) for every other GET
 * that looks like a screen, so /agent or /wallboard survive a reload. The bundle is looked up per
 * request, so building it while the server runs is enough.
 */
function webUi(webDir: string): RequestHandler {
  const assets = express.static(webDir, {
    index: false,
    setHeaders: (res, file) => {
      if (file.startsWith(path.join(webDir, 'assets') + path.sep)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    },
  });
  const indexFile = path.join(webDir, 'index.html');
  return (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || serverPaths.test(req.path)) return next();
    assets(req, res, (error?: unknown) => {
      if (error) return next(error);
      // A missing file with an extension (a stale asset name, /favicon.ico) is a 404, not the page.
      if (path.extname(req.path) !== '') return next();
      if (!fs.existsSync(indexFile)) {
        res.status(503).type('text/plain').send('The web UI is not built yet. Run `npm run build`, then reload this page.\n');
        return;
      }
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(indexFile);
    });
  };
}

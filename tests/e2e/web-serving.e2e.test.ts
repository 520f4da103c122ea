import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { AppError } from '../../src/platform/errors';
import { createHttpApp } from '../../src/platform/http/app';
import { RouteRegistry } from '../../src/platform/http/route';
import { createLogger } from '../../src/platform/logger';
import { request } from '../support/test-app';

/** How express serves the browser UI: the SPA fallback, caching, the CSP, and a clear 503 before a build. */
describe('serving the web bundle', () => {
  const servers: http.Server[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'sb-web-'));
  });
  afterAll(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  async function serve(webDir: string): Promise<{ url: string }> {
    const registry = new RouteRegistry(() => Promise.reject(new AppError('unauthenticated', 'no')));
    const app = createHttpApp({ log: createLogger('silent'), version: 'test', registry, routers: [], readiness: [], isDraining: () => false, webDir });
    const server = http.createServer(app);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it('when the bundle is built, then screens get index.html uncached, assets are cached for good, and server paths stay JSON', async () => {
    const built = path.join(dir, 'built');
    fs.mkdirSync(path.join(built, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(built, 'index.html'), '<!doctype html><div id="root"></div>');
    fs.writeFileSync(path.join(built, 'assets', 'index-abc123.js'), 'console.log(1)');
    const app = await serve(built);

    for (const screen of ['/', '/agent', '/wallboard/anything']) {
      const page = await request(app, 'GET', screen);
      expect(page.status).toBe(200);
      expect(String(page.body)).toContain('<div id="root">');
      expect(page.headers.get('cache-control')).toBe('no-cache');
    }
    const asset = await request(app, 'GET', '/assets/index-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');

    const csp = (await request(app, 'GET', '/')).headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self'");
    expect(csp.split(';').find((directive) => directive.trim().startsWith('script-src'))).not.toContain('unsafe-inline');
    expect(csp).not.toContain('upgrade-insecure-requests');

    // Not the page: unknown API paths, a stale asset name, and writes.
    const api = await request(app, 'GET', '/api/nothing-here');
    expect(api.status).toBe(404);
    expect(api.body).toMatchObject({ error: { code: 'not_found' } });
    expect((await request(app, 'GET', '/assets/index-old999.js')).status).toBe(404);
    expect((await request(app, 'GET', '/webhooks/twilio/unknown')).status).toBe(404);
    expect((await request(app, 'POST', '/agent', { body: {} })).status).toBe(404);
  });

  it('when the bundle was never built, then the page says to run npm run build and the API still answers', async () => {
    const app = await serve(path.join(dir, 'missing'));
    const page = await request(app, 'GET', '/');
    expect(page.status).toBe(503);
    expect(String(page.body)).toContain('npm run build');
    expect((await request(app, 'GET', '/healthz')).status).toBe(200);
  });
});

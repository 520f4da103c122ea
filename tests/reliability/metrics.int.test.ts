import { randomBytes, randomInt } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendEmail, startEmailTestApp, type EmailTestApp } from '../support/email';
import { createUserAndLogin, request, startTestApp } from '../support/test-app';

/**
 * `/metrics` as Prometheus scrapes it: on its own listener (METRICS_PORT, loopback), with a bearer
 * token here, after real traffic through the edges (signed and forged Twilio webhooks, an API call,
 * SMTP past its rate limit, a failing BullMQ job).
 */
const token = randomBytes(24).toString('hex');

/** The value of one series in Prometheus text format (0 when absent); `labels` must all match. */
function valueOf(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('metrics for Prometheus', () => {
  let env: EmailTestApp;
  let scrapeUrl: string;

  beforeAll(async () => {
    env = await startEmailTestApp({ METRICS_TOKEN: token, SMTP_MAX_MESSAGES_PER_IP: 1 });
    scrapeUrl = `${env.app.metricsUrl}/metrics`;
  });
  afterAll(() => env?.destroy());

  const scrape = async () => {
    const response = await fetch(scrapeUrl, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };
  const text = (from: string) =>
    env.webhook('/webhooks/twilio/sms', { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: env.twilio.accountSid, From: from, To: '+862150000000', Body: 'hello', NumMedia: '0' });

  it('when a scrape comes without the token, or to the public API port, then no metrics are given', async () => {
    expect(new URL(scrapeUrl).hostname).toBe('127.0.0.1');
    expect(new URL(scrapeUrl).port).not.toBe(new URL(env.app.url).port);
    const anonymous = await fetch(scrapeUrl);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await anonymous.text()).not.toContain('switchboard_');
    const wrong = await fetch(scrapeUrl, { headers: { authorization: `Bearer ${'x'.repeat(token.length)}` } });
    expect(wrong.status).toBe(401);
    const publicPort = await request(env.app, 'GET', '/metrics');
    expect(publicPort.status).toBe(404);
    expect(JSON.stringify(publicPort.body)).not.toContain('switchboard_');
  });

  it('when webhooks, API calls, SMTP and jobs run, then their series change and route labels are patterns', async () => {
    const before = await scrape();
    expect(valueOf(before, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(before).toContain('process_cpu_user_seconds_total');

    // A signed text: stored, 200, and a contact waiting in the sms queue (no agent is signed in).
    const signed = await text(`+86139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`);
    expect(signed.status).toBe(200);
    // A forged one: 403 before anything is stored.
    const forged = await env.twilio.sendWebhook(`${env.app.url}/webhooks/twilio/sms`, { MessageSid: `SM${randomBytes(16).toString('hex')}`, From: '+8613900000000', To: '+862150000000', Body: 'x' }, { signature: 'bm90IGEgc2lnbmF0dXJl' });
    expect(forged.status).toBe(403);
    // An API call on a route with an id.
    const supervisor = await createUserAndLogin(env.app, 'supervisor');
    const customerId = '0123456789abcdef01234567';
    expect((await request(env.app, 'GET', `/api/customers/${customerId}`, { token: supervisor.token })).status).toBe(404);
    // SMTP: the second message from this address in the window is deferred with 451 at MAIL.
    const mail = { from: 'someone@example.net', to: env.supportEmail, subject: 'hi', text: 'hello' };
    expect((await sendEmail(env.smtpPort, mail)).accepted).toBe(true);
    expect(await sendEmail(env.smtpPort, mail)).toMatchObject({ accepted: false, responseCode: 451 });
    // A job that fails on its only attempt.
    const queueName = `metrics-probe-${randomBytes(3).toString('hex')}`;
    const failed = new Promise<void>((resolve) => env.app.queues.worker(queueName, async () => { throw new Error('probe'); })!.on('failed', () => resolve()));
    await env.app.queues.queue(queueName).add('probe', {});
    await failed;

    // Routing's figures are cached for 2 s: wait until the waiting text shows.
    let after = await scrape();
    for (let tries = 0; valueOf(after, 'switchboard_queue_waiting_contacts', { queue: 'sms' }) < 1 && tries < 40; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await scrape();
    }
    expect(valueOf(after, 'switchboard_queue_waiting_contacts', { queue: 'sms' })).toBe(1);
    expect(after).toMatch(/^switchboard_queue_offers_in_flight\{queue="sms"\} 0$/m);
    expect(valueOf(after, 'switchboard_metrics_source_up', { source: 'routing' })).toBe(1);

    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('switchboard_http_request_duration_seconds_count', { method: 'POST', route: '/webhooks/twilio/sms', status_class: '2xx' })).toBe(1);
    expect(delta('switchboard_http_request_duration_seconds_count', { method: 'POST', route: '/webhooks/twilio/sms', status_class: '4xx' })).toBe(1);
    expect(delta('switchboard_http_request_duration_seconds_count', { method: 'GET', route: '/api/customers/:id', status_class: '4xx' })).toBe(1);
    expect(delta('switchboard_webhook_rejections_total', { channel: 'sms', status_class: '4xx', reason: 'bad_signature' })).toBe(1);
    expect(delta('switchboard_smtp_rejections_total', { stage: 'mail', code: '451' })).toBe(1);
    expect(delta('switchboard_job_failures_total', { queue: queueName, final: 'true' })).toBe(1);
    // No raw path (with its id) ever becomes a label.
    expect(after).not.toContain(customerId);
    expect(after).toContain('route="/api/customers/:id"');
  });

  it('when the reconciler and the outbox are wired in, then their repairs and lag are scraped from them', async () => {
    let repairs: Record<string, number> = { 'waiting-contacts': 3 };
    env.app.metrics.provide({ reconcilerRepairs: () => repairs, outboxLagSeconds: async () => 4.5 });
    const first = await scrape();
    expect(valueOf(first, 'switchboard_reconciler_repairs_total', { repair: 'waiting-contacts' })).toBe(3);
    expect(valueOf(first, 'switchboard_outbox_lag_seconds')).toBe(4.5);
    repairs = { 'waiting-contacts': 5, 'sla-timers': 2 };
    const second = await scrape();
    expect(valueOf(second, 'switchboard_reconciler_repairs_total', { repair: 'waiting-contacts' })).toBe(5);
    expect(valueOf(second, 'switchboard_reconciler_repairs_total', { repair: 'sla-timers' })).toBe(2);
  });
});

describe('the metrics listener', () => {
  it('when its port is taken (two processes on one host with one setting), then the node still starts and serves its API', async () => {
    const squatter = http.createServer((_req, res) => res.end('someone else'));
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as AddressInfo).port;
    const app = await startTestApp({ METRICS_PORT: port });
    try {
      expect(app.metricsUrl).toBeUndefined();
      expect((await request(app, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await app.destroy();
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});

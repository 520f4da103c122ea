import { createLogger } from './logger';
import { Metrics, routeLabel } from './metrics';

const log = createLogger('silent');

/** The value of one series (labels as written by prom-client), or undefined when absent. */
function series(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((item) => item.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('Metrics', () => {
  it('when two apps run in one process, then each has its own registry and no name collides', async () => {
    const one = new Metrics(log);
    const two = new Metrics(log);
    one.jobFailed('sms-outbound', true);
    expect(series((await one.scrape()).body, 'switchboard_job_failures_total', 'queue="sms-outbound",final="true"')).toBe(1);
    expect(series((await two.scrape()).body, 'switchboard_job_failures_total', 'queue="sms-outbound",final="true"')).toBeUndefined();
    // The process's own figures are in both, once each.
    const text = (await two.scrape()).body;
    expect(text.match(/^# TYPE nodejs_eventloop_lag_seconds gauge$/gm)).toHaveLength(1);
    expect(series(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('when the reconciler reports growing totals, then the counter follows them and a repair with none shows 0', async () => {
    const metrics = new Metrics(log);
    let totals: Record<string, number> = { 'waiting-contacts': 2, 'sla-timers': 0 };
    metrics.provide({ reconcilerRepairs: () => totals });
    let text = (await metrics.scrape()).body;
    expect(series(text, 'switchboard_reconciler_repairs_total', 'repair="waiting-contacts"')).toBe(2);
    expect(series(text, 'switchboard_reconciler_repairs_total', 'repair="sla-timers"')).toBe(0);
    totals = { 'waiting-contacts': 7, 'sla-timers': 1 };
    text = (await metrics.scrape()).body;
    expect(series(text, 'switchboard_reconciler_repairs_total', 'repair="waiting-contacts"')).toBe(7);
    expect(series(text, 'switchboard_reconciler_repairs_total', 'repair="sla-timers"')).toBe(1);
  });

  it('when no outbox is wired, then there is no outbox series; once wired, its lag is read on each scrape', async () => {
    const metrics = new Metrics(log);
    expect((await metrics.scrape()).body).not.toContain('switchboard_outbox_lag_seconds');
    let lag = 12;
    metrics.provide({ outboxLagSeconds: () => lag });
    expect(series((await metrics.scrape()).body, 'switchboard_outbox_lag_seconds')).toBe(12);
    lag = 0;
    expect(series((await metrics.scrape()).body, 'switchboard_outbox_lag_seconds')).toBe(0);
  });

  it('when a source fails (Redis down), then the scrape still answers, with that source down and no made-up figure', async () => {
    const metrics = new Metrics(log);
    metrics.provide({
      outboxLagSeconds: () => { throw new Error('down'); },
      queues: () => Promise.reject(new Error('down')),
    });
    const text = (await metrics.scrape()).body;
    expect(series(text, 'switchboard_metrics_source_up', 'source="outbox"')).toBe(0);
    expect(series(text, 'switchboard_metrics_source_up', 'source="routing"')).toBe(0);
    expect(series(text, 'switchboard_outbox_lag_seconds')).toBeNaN();
    expect(text).not.toMatch(/^switchboard_queue_waiting_contacts\{/m);
  });

  it('when scrapes come close together, then routing is read once for both', async () => {
    const metrics = new Metrics(log);
    let reads = 0;
    metrics.provide({ queues: async () => (reads += 1, [{ queue: 'sms', waiting: 4, offersInFlight: 1 }]) });
    const first = (await metrics.scrape()).body;
    await metrics.scrape();
    expect(reads).toBe(1);
    expect(series(first, 'switchboard_queue_waiting_contacts', 'queue="sms"')).toBe(4);
    expect(series(first, 'switchboard_queue_offers_in_flight', 'queue="sms"')).toBe(1);
  });

  it('when a request matched no route, then its label is a fixed word, never the path', () => {
    expect(routeLabel({ path: '/api/customers/:id' }, '/api/customers/0123456789abcdef01234567')).toBe('/api/customers/:id');
    expect(routeLabel(undefined, '/api/nothing/0123456789abcdef01234567')).toBe('(unmatched)');
    expect(routeLabel(undefined, '/webhooks/twilio/nothing')).toBe('(unmatched)');
    expect(routeLabel(undefined, '/assets/index-abc123.js')).toBe('(static)');
    expect(routeLabel({ path: /^\/x/ }, '/x1')).toBe('(pattern)');
    expect(routeLabel({ path: '/:id' }, '/0123456789abcdef01234567', '/api/things')).toBe('/api/things/:id');
  });
});

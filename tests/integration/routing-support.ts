import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { credentialsFrom } from '../../src/auth';
import { createHttpApp } from '../../src/platform/http/app';
import { RouteRegistry } from '../../src/platform/http/route';
import { version } from '../../src/platform/version';
import { createRouting, type RoutingEvent, type RoutingModule, type RoutingOptions } from '../../src/routing';
import type { TestApp } from '../support/test-app';

/** Test queues: short timers so timeouts and wrap-ups happen within a test. */
export function testQueues(overrides: { reservationTimeoutSeconds?: number; wrapUpSeconds?: number } = {}) {
  const queue = (name: string, channels: string[], strategy = 'longest-idle') => ({
    name, channels, strategy, skills: {}, tierBonusSeconds: { standard: 0, gold: 60, vip: 180 },
    reservationTimeoutSeconds: overrides.reservationTimeoutSeconds ?? 20, wrapUpSeconds: overrides.wrapUpSeconds ?? 0, serviceLevelSeconds: 20,
  });
  return {
    defaultQueue: 'general',
    channelQueues: { sms: 'sms', email: 'email' },
    queues: [queue('general', ['voice']), queue('sales', ['voice']), queue('after-sales', ['voice']), queue('warranty', ['voice']), queue('sms', ['sms'], 'least-occupied'), queue('email', ['email'])],
  };
}

export interface RoutingHarness {
  routing: RoutingModule;
  events: RoutingEvent[];
  /** The routing REST API served over real HTTP with the app's authentication. */
  url: string;
  close(): Promise<void>;
}

/** A RoutingModule on the test app's stores, recording its events, with its REST routes served. */
export async function startRouting(app: TestApp, options: RoutingOptions = {}): Promise<RoutingHarness> {
  const routing = createRouting({ config: app.config, log: app.log, redis: app.redis, mongo: app.mongo, queues: app.queues, interactions: app.services.interactions, customers: app.services.customers }, options);
  const events: RoutingEvent[] = [];
  routing.onEvent((event) => {
    events.push(event);
  });
  await routing.start();
  const registry = new RouteRegistry((req) => app.services.auth.authenticate(credentialsFrom(req)));
  const server = http.createServer(createHttpApp({ log: app.log, version, registry, routers: [routing.router(registry)], readiness: [], isDraining: () => false }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    routing,
    events,
    url,
    close: async () => {
      await routing.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits until `find` returns something, polling; fails with `what` after the timeout. */
export async function eventually<T>(what: string, find: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const offersFor = (events: RoutingEvent[], interactionId: string) =>
  events.flatMap((event) => (event.type === 'offer' && event.reservation.interactionId === interactionId ? [event] : []));

let sidCounter = 0;
/** A fresh Twilio-shaped CallSid. */
export function callSid(): string {
  sidCounter += 1;
  return `CA${Date.now().toString(16).padStart(16, '0')}${sidCounter.toString(16).padStart(16, '0')}`;
}

/** An inbound text recorded as the SMS webhook records it (the customer resolved by phone); its interaction id. */
export async function textFrom(app: TestApp, phone: string, sid: string): Promise<string> {
  const { customer } = await app.services.customers.resolveCustomer({ phone });
  const recorded = await app.services.interactions.recordInboundEvent({
    externalId: `twilio-sms:${sid}`, customerId: customer.id, channel: 'sms', direction: 'inbound', entry: { kind: 'message', text: 'hello' },
  });
  return recorded.interaction.id;
}

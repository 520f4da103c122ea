import http from 'node:http';
import type { Connection } from 'mongoose';
import type { Services } from '../src/app';
import {
  blockSize,
  customerId,
  interactionRange,
  newCallerPrefix,
  phoneSpelling,
  randomStream,
  e164Phone,
  type DatasetSize,
} from './dataset';
import type { Operation } from './stats';

/** A scenario as reported: `target` is a p99 bound in ms, when the issue sets one. */
export interface Scenario {
  id: string;
  title: string;
  /** What one sample does, in a few words, for the report. */
  does: string;
  targetP99Ms?: number;
  operation: Operation<any, any>;
}

const timelinePage = 20;
// A fixed seed per scenario: two runs on the same dataset ask for the same customers.
const seedOf = (id: string) => [...id].reduce((hash, char) => Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0, 0x811c9dc5);

function customerPicker(id: string, size: DatasetSize, heavyOnly: boolean): (iteration: number) => number {
  const random = randomStream(seedOf(id));
  const blocks = size.customers / blockSize;
  return () => (heavyOnly ? Math.floor(random() * blocks) * blockSize : Math.floor(random() * size.customers));
}

function expect(condition: boolean, scenario: string, message: string): void {
  if (!condition) throw new Error(`${scenario}: wrong answer, ${message}; the dataset does not match this benchmark (try --reload)`);
}

function expectedPage(index: number): number {
  return Math.min(interactionRange(index).count, timelinePage);
}

// ---------------------------------------------------------------------------------------------
// In-process, through the domain services (what a webhook handler or job pays)

export function serviceScenarios(services: Services, size: DatasetSize, created: string[]): Scenario[] {
  const lookupPick = customerPicker('lookup.service', size, false);
  const fullPick = customerPicker('timeline.service.full', size, true);
  const anyPick = customerPicker('timeline.service.any', size, false);
  // New numbers differ on every run, so each sample really takes the create path.
  const newNumbers = randomStream(Date.now() >>> 0);
  return [
    {
      id: 'lookup.service',
      title: 'Customer lookup by phone (service)',
      does: 'customers.findByIdentity({ phone }) for a random existing customer, phone written 4 ways (E.164, national spaced/dashed, +86 spaced)',
      targetP99Ms: 5,
      operation: {
        input: (iteration: number) => {
          const index = lookupPick(iteration);
          return { index, phone: phoneSpelling(index, iteration) };
        },
        call: ({ phone }: { phone: string }) => services.customers.findByIdentity({ phone }),
        check: ({ index }: { index: number }, customer: Awaited<ReturnType<Services['customers']['findByIdentity']>>) =>
          expect(customer?.id === customerId(index), 'lookup.service', `customer ${index} not found by phone`),
      },
    },
    {
      id: 'timeline.service.full',
      title: 'Timeline first page, full (service)',
      does: 'interactions.getTimeline(id, { limit: 20 }) for a customer with 40 interactions: one read of the timeline document (summaries)',
      targetP99Ms: 20,
      operation: timelineOperation('timeline.service.full', fullPick, (id) => services.interactions.getTimeline(id, { limit: timelinePage })),
    },
    {
      id: 'timeline.service.any',
      title: 'Timeline first page, random customer (service)',
      does: 'same, for a uniformly random customer (99 % have 1–3 interactions, 1 % have 40)',
      targetP99Ms: 20,
      operation: timelineOperation('timeline.service.any', anyPick, (id) => services.interactions.getTimeline(id, { limit: timelinePage })),
    },
    {
      id: 'resolve.service.new',
      title: 'Resolve a new caller (service, create path)',
      does: 'customers.resolveCustomer({ phone }) for a number never seen: identity read + insert + customer upsert',
      operation: {
        input: () => ({ phone: `+86${newCallerPrefix}${String(Math.floor(newNumbers() * 1e8)).padStart(8, '0')}` }),
        call: ({ phone }: { phone: string }) => services.customers.resolveCustomer({ phone, name: 'Bench Caller' }),
        check: ({ phone }: { phone: string }, result: Awaited<ReturnType<Services['customers']['resolveCustomer']>>) => {
          created.push(result.customer.id);
          expect(result.created && result.customer.phones[0]?.value === phone, 'resolve.service.new', 'the number already had a customer');
        },
      },
    },
  ];
}

function timelineOperation(
  id: string,
  pick: (iteration: number) => number,
  fetch: (customer: string) => Promise<{ items: { customerId: string }[]; nextCursor: string | null }>,
): Operation<{ index: number }, Awaited<ReturnType<typeof fetch>>> {
  return {
    input: (iteration) => ({ index: pick(iteration) }),
    call: ({ index }) => fetch(customerId(index)),
    check: ({ index }, page) => {
      expect(page.items.length === expectedPage(index), id, `customer ${index} has ${page.items.length} items, expected ${expectedPage(index)}`);
      expect(page.items.every((item) => item.customerId === customerId(index)), id, `customer ${index} got another customer's interaction`);
      expect((page.nextCursor !== null) === interactionRange(index).count > timelinePage, id, `customer ${index} has a wrong nextCursor`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Floors: what the store itself costs, to tell the service's overhead from FerretDB's

export function floorScenarios(connection: Connection, size: DatasetSize): Scenario[] {
  if (!connection.db) throw new Error('mongo not connected');
  const identities = connection.db.collection<{ _id: string; customerId: string }>('customer_identities');
  const admin = connection.db.admin();
  const pick = customerPicker('floor.driver.findById', size, false);
  return [
    {
      id: 'floor.driver.ping',
      title: 'Floor: driver ping',
      does: 'db.admin().command({ ping: 1 }): one round trip to FerretDB, no storage',
      operation: { input: () => null, call: () => admin.command({ ping: 1 }), check: () => undefined },
    },
    {
      id: 'floor.driver.findById',
      title: 'Floor: driver findOne by _id',
      does: "customer_identities.findOne({ _id: 'phone:+86…' }) with the raw driver: one primary-key read",
      operation: {
        input: (iteration: number) => pick(iteration),
        call: (index: number) => identities.findOne({ _id: `phone:${e164Phone(index)}` }),
        check: (index: number, found: { customerId: string } | null) =>
          expect(found?.customerId === customerId(index), 'floor.driver.findById', `identity of customer ${index} missing`),
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Over real HTTP, as a client sees it (auth + validation + JSON on top of the service)

export interface HttpClient {
  get(path: string): Promise<{ status: number; body: string }>;
  post(path: string, body: unknown): Promise<{ status: number; body: string }>;
  /** Sends this bearer token from now on. */
  authorize(token: string): void;
  close(): void;
}

/** One keep-alive socket, one request at a time: latency, not throughput. */
export function httpClient(baseUrl: string): HttpClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(baseUrl);
  let authorization: Record<string, string> = {};
  const send = (method: string, path: string, payload?: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const headers = { ...authorization, accept: 'application/json', ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) };
      const request = http.request(
        { host: url.hostname, port: url.port, path, method, agent, headers },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  return {
    get: (path) => send('GET', path),
    post: (path, body) => send('POST', path, JSON.stringify(body)),
    authorize: (token) => {
      authorization = { authorization: `Bearer ${token}` };
    },
    close: () => agent.destroy(),
  };
}

export function httpScenarios(client: HttpClient, size: DatasetSize): Scenario[] {
  const lookupPick = customerPicker('lookup.http', size, false);
  const fullPick = customerPicker('timeline.http.full', size, true);
  const anyPick = customerPicker('timeline.http.any', size, false);
  const okJson = <T>(id: string, response: { status: number; body: string }): T => {
    expect(response.status === 200, id, `HTTP ${response.status}: ${response.body.slice(0, 200)}`);
    return JSON.parse(response.body) as T;
  };
  const timeline = (id: string, pick: (iteration: number) => number) =>
    timelineOperation(id, pick, async (customer) => okJson(id, await client.get(`/api/customers/${customer}/timeline?limit=${timelinePage}`)));
  return [
    {
      id: 'healthz.http',
      title: 'Floor: HTTP GET /healthz',
      does: 'express + helmet + pino-http with no auth and no store: the HTTP stack alone',
      operation: { input: () => null, call: () => client.get('/healthz'), check: (_input: null, response: { status: number }) => expect(response.status === 200, 'healthz.http', 'not 200') },
    },
    {
      id: 'lookup.http',
      title: 'Customer lookup by phone (HTTP)',
      does: 'GET /api/customers?phone=… with a Bearer token (auth re-reads the user: +1 read)',
      targetP99Ms: 5,
      operation: {
        input: (iteration: number) => {
          const index = lookupPick(iteration);
          return { index, phone: phoneSpelling(index, iteration) };
        },
        call: ({ phone }: { phone: string }) => client.get(`/api/customers?phone=${encodeURIComponent(phone)}`),
        check: ({ index }: { index: number }, response: { status: number; body: string }) => {
          const found = okJson<{ items: { id: string }[] }>('lookup.http', response);
          expect(found.items.length === 1 && found.items[0].id === customerId(index), 'lookup.http', `customer ${index} not found by phone`);
        },
      },
    },
    {
      id: 'timeline.http.full',
      title: 'Timeline first page, full (HTTP)',
      does: 'GET /api/customers/:id/timeline?limit=20, customer with 40 interactions (route also reads the customer)',
      targetP99Ms: 20,
      operation: timeline('timeline.http.full', fullPick),
    },
    {
      id: 'timeline.http.any',
      title: 'Timeline first page, random customer (HTTP)',
      does: 'same, uniformly random customer',
      targetP99Ms: 20,
      operation: timeline('timeline.http.any', anyPick),
    },
  ];
}

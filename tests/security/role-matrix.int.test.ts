/**
 * The role × action table in docs/security.md is what the server does: it is generated from the
 * route registry and the socket actions' role sets, and here every route and every socket action is
 * called as every role against the real app, and the answers are compared with the table.
 *
 * Inputs are empty (`{}` bodies, syntactically valid but unknown ids), so an allowed call is
 * expected to fail *after* the role gate (400, 404, 409, 503…), never with 401 or 403.
 */
import fs from 'node:fs';
import { z } from 'zod';
import {
  callers,
  renderRoleTable,
  routeAllows,
  securityDocPath,
  socketAllows,
  socketCallers,
  sortedRoutes,
  withRoleTable,
  type Caller,
} from '../../scripts/security-table';
import type { Role } from '../../src/platform/http/principal';
import type { RegisteredRoute } from '../../src/platform/http/route';
import { socketActions } from '../../src/realtime';
import { connectError, connectSocket, type TestSocket } from '../support/socket';
import { createUserAndLogin, request, startTestApp, type TestApp, type TestResponse, type TestUser } from '../support/test-app';

/**
 * Calls an allowed role may answer with 403 because of a row-level rule that already refuses the
 * empty input (e.g. "only your department's board"). Each entry names the rule; keep it short.
 * Key: `<caller> <METHOD path>` or `<caller> socket <action>`.
 */
const rowLevelForbidden: ReadonlyMap<string, string> = new Map([]);

/** Values tried, in order, for each path parameter until its schema accepts one. */
const paramCandidates = ['65a1b2c3d4e5f60718293a4b', '0123456789abcdef', 'T-000001', `CA${'0'.repeat(32)}`, 'general', '0', 'x'];

function fillPath(route: RegisteredRoute): string {
  const shape = route.params instanceof z.ZodObject ? (route.params.shape as Record<string, z.ZodType>) : {};
  return route.path.replace(/:([A-Za-z0-9_]+)/g, (_match, name: string) => {
    const schema = shape[name];
    const value = schema ? paramCandidates.find((candidate) => schema.safeParse(candidate).success) : undefined;
    return encodeURIComponent(value ?? paramCandidates[0]!);
  });
}

const rowName = (route: RegisteredRoute) => `${route.method.toUpperCase()} ${route.path}`;
const withBody = (route: RegisteredRoute) => ['post', 'put', 'patch'].includes(route.method);

interface Credentials {
  token?: string;
  apiKey?: string;
}

let app: TestApp;
const users = new Map<Role, TestUser>();
const credentials = new Map<Caller, Credentials>();

async function call(caller: Caller, route: RegisteredRoute): Promise<TestResponse> {
  return request(app, route.method.toUpperCase(), fillPath(route), { ...credentials.get(caller), ...(withBody(route) ? { body: {} } : {}) });
}

/** Signs the user in again: an allowed call may have ended its own session (e.g. sign out everywhere). */
async function signInAgain(caller: Caller): Promise<boolean> {
  const user = users.get(caller as Role);
  if (!user) return false;
  const response = await request(app, 'POST', '/api/auth/login', { body: { email: user.email, password: user.password } });
  if (response.status !== 200) return false;
  credentials.set(caller, { token: (response.body as { token: string }).token });
  return true;
}

const describeAnswer = (response: TestResponse) => `${response.status} ${JSON.stringify((response.body as { error?: unknown } | undefined)?.error ?? '')}`;

beforeAll(async () => {
  app = await startTestApp();
  const department = await app.services.departments.create({ code: 'matrix', name: 'Matrix', timezone: 'Asia/Shanghai' });
  for (const role of ['admin', 'supervisor', 'agent'] as const) users.set(role, await createUserAndLogin(app, role));
  users.set('department', await createUserAndLogin(app, 'department', { departmentId: department.id }));
  for (const [role, user] of users) credentials.set(role, { token: user.token });
  const key = await request(app, 'POST', '/api/api-keys', { token: users.get('admin')!.token, body: { name: 'erp', role: 'integration' } });
  if (key.status !== 201) throw new Error(`integration key not created: ${describeAnswer(key)}`);
  credentials.set('integration', { apiKey: (key.body as { key: string }).key });
  credentials.set('anonymous', {});
}, 60_000);

afterAll(async () => {
  await app?.destroy();
});

describe('role × action table', () => {
  it('when the table in docs/security.md is generated again from the code, then it is the same', () => {
    const document = fs.readFileSync(securityDocPath(), 'utf8');
    const expected = withRoleTable(document, renderRoleTable(app.routes, socketActions));
    if (expected !== document) {
      const have = new Set(document.split('\n'));
      const want = new Set(expected.split('\n'));
      const missing = [...want].filter((line) => !have.has(line));
      const stale = [...have].filter((line) => !want.has(line));
      throw new Error(
        'docs/security.md does not match the route registry and socket handlers: run `npm run docs:security` and commit the result.\n' +
          `rows the code has and the document lacks:\n  ${missing.join('\n  ') || '(none)'}\n` +
          `rows the document has and the code lacks:\n  ${stale.join('\n  ') || '(none)'}`,
      );
    }
  });

  it('when every route is called as every role, then roles outside its access list get 403 (401 without credentials) and roles in it pass the gate', async () => {
    expect(app.routes.length).toBeGreaterThan(50);
    const mismatches: string[] = [];
    const routes = sortedRoutes(app.routes);
    // Refusals first: they never run a handler, so nothing they do can change what the allowed calls see.
    for (const route of routes) {
      for (const caller of callers) {
        if (routeAllows(route, caller)) continue;
        const response = await call(caller, route);
        const wanted = caller === 'anonymous' ? 401 : 403;
        const code = (response.body as { error?: { code?: string } } | undefined)?.error?.code;
        if (response.status !== wanted || code !== (wanted === 401 ? 'unauthenticated' : 'forbidden')) {
          mismatches.push(`${caller} ${rowName(route)}: expected ${wanted}, got ${describeAnswer(response)}`);
        }
      }
    }
    for (const route of routes) {
      for (const caller of callers) {
        if (!routeAllows(route, caller)) continue;
        let response = await call(caller, route);
        if (response.status === 401 && (await signInAgain(caller))) response = await call(caller, route);
        const refused = response.status === 401 || (response.status === 403 && !rowLevelForbidden.has(`${caller} ${rowName(route)}`));
        // A 500 on empty input is a missing validation, also worth failing on here.
        if (refused || response.status === 500) mismatches.push(`${caller} ${rowName(route)}: allowed by the table, got ${describeAnswer(response)}`);
      }
    }
    // The sweep may have ended a session as its last call (sign out everywhere): the tests after it start signed in.
    for (const role of users.keys()) await signInAgain(role);
    expect(mismatches).toEqual([]);
  }, 60_000);

  it('when every socket action is sent as every role with a socket, then roles outside its set get forbidden and roles in it pass the gate', async () => {
    const mismatches: string[] = [];
    for (const role of socketCallers) {
      const client: TestSocket = await connectSocket(app.url, { token: credentials.get(role)!.token! });
      try {
        for (const [action, allowed] of Object.entries(socketActions)) {
          const ack = (await client.act(action, {})) as { ok: boolean; error?: { code: string } };
          const code = ack.ok ? 'ok' : ack.error?.code;
          if (!socketAllows(allowed, role)) {
            if (code !== 'forbidden') mismatches.push(`${role} socket ${action}: expected forbidden, got ${code}`);
          } else if (code === 'unauthenticated' || code === 'internal' || (code === 'forbidden' && !rowLevelForbidden.has(`${role} socket ${action}`))) {
            mismatches.push(`${role} socket ${action}: allowed by the table, got ${code}`);
          }
        }
      } finally {
        client.close();
      }
    }
    expect(mismatches).toEqual([]);
  }, 30_000);

  it('when an API key or no token opens a socket, then the handshake is refused', async () => {
    const apiKey = credentials.get('integration')!.apiKey!;
    const withKey = await connectError(app.url, { token: apiKey });
    expect(withKey.message).toMatch(/token|sign in|session/i);
    const withoutToken = await connectError(app.url, {});
    expect(withoutToken.message).toMatch(/token/i);
    // The socket columns of the table say the same.
    for (const allowed of Object.values(socketActions)) {
      expect(socketAllows(allowed, 'integration')).toBe(false);
      expect(socketAllows(allowed, 'anonymous')).toBe(false);
    }
  });

  // Fixed points that must hold whatever the lists become, so a loosened access list is caught
  // even though the sweep above derives its expectations from the same lists.
  it.each([
    ['agent', 'GET', '/api/users', 403],
    ['department', 'GET', '/api/users', 403],
    ['supervisor', 'POST', '/api/users', 403],
    ['supervisor', 'POST', '/api/api-keys', 403],
    ['agent', 'GET', '/api/webhooks', 403],
    ['agent', 'GET', '/api/reports/queues', 403],
    ['department', 'POST', '/api/interactions/65a1b2c3d4e5f60718293a4b/replies', 403],
    ['integration', 'GET', '/api/users', 403],
    ['integration', 'POST', '/api/api-keys', 403],
    ['anonymous', 'GET', '/api/customers', 401],
    ['anonymous', 'GET', '/api/tasks/65a1b2c3d4e5f60718293a4b', 401],
  ] as const)('when %s calls %s %s, then the answer is %i', async (caller, method, path, status) => {
    const response = await request(app, method, path, { ...credentials.get(caller), ...(method === 'POST' ? { body: {} } : {}) });
    expect(response.status).toBe(status);
  });

  it.each([
    ['department', 'state:set'],
    ['department', 'work:reply'],
    ['admin', 'state:set'],
    ['agent', 'queue:join'],
  ] as const)('when %s sends the socket action %s, then it is forbidden', async (role, action) => {
    const client = await connectSocket(app.url, { token: credentials.get(role)!.token! });
    try {
      await expect(client.act(action, {})).resolves.toMatchObject({ ok: false, error: { code: 'forbidden' } });
    } finally {
      client.close();
    }
  });

  // FAILS ON TODAY'S MAIN, on purpose: `anyRole` includes `integration`, so an ERP key reads every
  // customer, timeline and email body (issue 12, finding 3). Fixed by the authz branch, which limits
  // `integration` to the ERP task API; keep this test as the proof.
  it.each([
    ['GET', '/api/customers?phone=%2B8613800000000'],
    ['GET', '/api/customers/65a1b2c3d4e5f60718293a4b'],
    ['GET', '/api/customers/65a1b2c3d4e5f60718293a4b/timeline'],
    ['GET', '/api/interactions/65a1b2c3d4e5f60718293a4b'],
  ] as const)('when an integration key calls %s %s, then it is refused with 403', async (method, path) => {
    const response = await request(app, method, path, credentials.get('integration'));
    expect(response.status).toBe(403);
  });
});

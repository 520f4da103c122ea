import { Router, type Request } from 'express';
import { z } from 'zod';
import { AppError } from '../platform/errors';
import type { RouteRegistry } from '../platform/http/route';
import type { AuthService } from './auth.service';
import {
  apiKeyParams,
  apiKeySchema,
  createApiKeyBody,
  createUserBody,
  idParams,
  listUsersQuery,
  loginBody,
  loginResponse,
  publicUserSchema,
  updateUserBody,
} from './auth.schemas';

/** Pulls credentials out of the request for `AuthService.authenticate`. */
export function credentialsFrom(req: Request): { bearer?: string; apiKey?: string } {
  const header = req.headers.authorization;
  const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
  const apiKeyHeader = req.headers['x-api-key'];
  return { bearer, apiKey: typeof apiKeyHeader === 'string' ? apiKeyHeader : undefined };
}

export function authRoutes(registry: RouteRegistry, auth: AuthService): Router {
  const router = Router();
  const tag = 'Auth and users';

  registry.add(router, { method: 'post', path: '/api/auth/login', summary: 'Sign in with email and password', tag, access: 'public', body: loginBody, response: loginResponse },
    ({ body }, res) => auth.login(body.email, body.password, res.req.ip));

  // Integrations too: an ERP checks which key it holds (its role and departments), nothing more.
  registry.add(router, { method: 'get', path: '/api/auth/me', summary: 'The signed-in user, or the API key in use', tag, access: ['admin', 'supervisor', 'agent', 'department', 'integration'], response: publicUserSchema.or(z.object({ id: z.string(), kind: z.literal('api_key'), role: z.string(), name: z.string(), departmentIds: z.array(z.string()).optional() })) },
    async ({ principal }) =>
      principal.kind === 'api_key'
        ? { id: principal.id, kind: 'api_key', role: principal.role, name: principal.name, ...(principal.departmentIds ? { departmentIds: [...principal.departmentIds] } : {}) }
        : auth.getUser(principal.id));

  // Own settings only (the display language); everything else about a user is the admin's.
  registry.add(router, { method: 'patch', path: '/api/auth/me', summary: 'Change my own settings (display language)', tag, access: ['admin', 'supervisor', 'agent', 'department'], body: z.object({ locale: z.enum(['en', 'zh-CN']) }), response: publicUserSchema },
    ({ principal, body }) => (principal.kind === 'user' ? auth.updateUser(principal.id, body) : Promise.reject(new AppError('forbidden', 'An API key has no user settings; sign in as a user'))));

  registry.add(router, { method: 'post', path: '/api/auth/logout-all', summary: 'Sign out everywhere: every token of mine stops working and my sockets close', tag, access: ['admin', 'supervisor', 'agent', 'department'] },
    ({ principal }) => (principal.kind === 'user' ? auth.logoutAll(principal.id) : Promise.reject(new AppError('forbidden', 'An API key has no sessions; revoke the key instead (DELETE /api/api-keys/{id})'))));

  registry.add(router, { method: 'get', path: '/api/users', summary: 'List users', tag, access: ['admin', 'supervisor'], query: listUsersQuery, response: z.object({ items: z.array(publicUserSchema) }) },
    async ({ query }) => ({ items: await auth.listUsers(query) }));

  // The department board names assignees and offers them to the head for assignment; department
  // users may not list all users, so they get their own department's active colleagues only.
  registry.add(router, { method: 'get', path: '/api/users/colleagues', summary: "The caller's department colleagues (active department users)", tag, access: ['department'], response: z.object({ items: z.array(z.object({ id: z.string(), name: z.string() })) }) },
    async ({ principal }) => ({
      items: principal.departmentId
        ? (await auth.listUsers({ role: 'department', departmentId: principal.departmentId })).filter((user) => user.active).map((user) => ({ id: user.id, name: user.name }))
        : [],
    }));

  registry.add(router, { method: 'post', path: '/api/users', summary: 'Create a user', tag, access: ['admin'], body: createUserBody, response: publicUserSchema, successStatus: 201 },
    ({ body }) => auth.createUser(body));

  registry.add(router, { method: 'patch', path: '/api/users/:id', summary: 'Change a user (role, department, password, disable)', tag, access: ['admin'], params: idParams, body: updateUserBody, response: publicUserSchema },
    ({ params, body }) => auth.updateUser(params.id, body));

  registry.add(router, { method: 'post', path: '/api/users/:id/logout-all', summary: "Sign a user out everywhere (every token of theirs stops working, their sockets close)", tag, access: ['admin'], params: idParams },
    ({ params }) => auth.logoutAll(params.id));

  registry.add(router, { method: 'get', path: '/api/api-keys', summary: 'List integration API keys', tag, access: ['admin'], response: z.object({ items: z.array(apiKeySchema) }) },
    async () => ({ items: await auth.listApiKeys() }));

  registry.add(router, { method: 'post', path: '/api/api-keys', summary: 'Create an API key (the key is shown once)', tag, access: ['admin'], body: createApiKeyBody, response: z.object({ key: z.string(), apiKey: apiKeySchema }), successStatus: 201 },
    ({ body, principal }) => auth.createApiKey({ ...body, createdBy: principal.id }));

  registry.add(router, { method: 'delete', path: '/api/api-keys/:id', summary: 'Revoke an API key', tag, access: ['admin'], params: apiKeyParams, response: apiKeySchema },
    ({ params }) => auth.revokeApiKey(params.id));

  return router;
}

import type { Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import { AppError } from '../errors';
import { parseOrThrow } from '../validation';
import type { Principal, Role } from './principal';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec<
  Body extends z.ZodType | undefined,
  Query extends z.ZodType | undefined,
  Params extends z.ZodType | undefined,
> {
  method: Method;
  /** Express path, e.g. `/api/customers/:id`; documented as `/api/customers/{id}`. */
  path: string;
  summary: string;
  tag: string;
  /** Roles allowed to call; `public` routes skip authentication (login, health). */
  access: readonly Role[] | 'public';
  body?: Body;
  query?: Query;
  params?: Params;
  response?: z.ZodType;
  successStatus?: number;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<Body, Query, Params> {
  body: Body;
  query: Query;
  params: Params;
  principal: Principal;
  requestId: string;
}

export type Authenticate = (req: Request) => Promise<Principal>;

/** Everything registered, for the OpenAPI document. */
export type RegisteredRoute = RouteSpec<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>;

/**
 * Declares an HTTP route once: the same zod schemas validate the request and describe it in the
 * OpenAPI document, so the documentation cannot drift from what the server accepts. Role checks
 * happen here, on the server, before the handler runs.
 */
export class RouteRegistry {
  readonly routes: RegisteredRoute[] = [];

  /**
   * `limitCaller` runs after authentication on every non-public route (the per-user/key API rate
   * limit); it throws a `rate_limited` AppError whose details carry `retryAfterSeconds`.
   */
  constructor(
    private readonly authenticate: Authenticate,
    private readonly limitCaller?: (principal: Principal) => Promise<void>,
  ) {}

  add<
    Body extends z.ZodType | undefined = undefined,
    Query extends z.ZodType | undefined = undefined,
    Params extends z.ZodType | undefined = undefined,
  >(
    router: Router,
    spec: RouteSpec<Body, Query, Params>,
    handler: (
      input: RouteInput<Parsed<Body>, Parsed<Query>, Parsed<Params>>,
      res: Response,
    ) => Promise<unknown>,
  ): void {
    this.routes.push(spec as RegisteredRoute);
    const run: RequestHandler = async (req, res) => {
      try {
        await handle(req, res);
      } catch (error) {
        // 429/503 tell the client when to come back (the error handler writes the JSON body).
        const retryAfter = error instanceof AppError ? (error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds : undefined;
        if (typeof retryAfter === 'number' && !res.headersSent) res.setHeader('Retry-After', String(retryAfter));
        throw error;
      }
    };
    const handle = async (req: Request, res: Response) => {
      const principal = spec.access === 'public' ? anonymous : await this.authenticate(req);
      if (spec.access !== 'public') await this.limitCaller?.(principal);
      if (spec.access !== 'public' && !spec.access.includes(principal.role)) {
        throw new AppError('forbidden', `This action needs one of the roles: ${spec.access.join(', ')}`, {
          role: principal.role,
        });
      }
      const input = {
        body: spec.body ? parseOrThrow(spec.body, req.body ?? {}, 'body') : undefined,
        query: spec.query ? parseOrThrow(spec.query, req.query, 'query') : undefined,
        params: spec.params ? parseOrThrow(spec.params, req.params, 'params') : undefined,
        principal,
        requestId: String(req.id ?? ''),
      } as RouteInput<Parsed<Body>, Parsed<Query>, Parsed<Params>>;
      const result = await handler(input, res);
      if (res.headersSent) return;
      if (result === undefined) res.status(spec.successStatus ?? 204).end();
      else res.status(spec.successStatus ?? 200).json(result);
    };
    router[spec.method](spec.path, run);
  }
}

const anonymous: Principal = { kind: 'anonymous', id: 'anonymous', role: 'agent', name: 'anonymous' };

import { z } from 'zod';
import type { RegisteredRoute } from './route';

type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** Query and path objects become individual OpenAPI parameters. */
function toParameters(schema: z.ZodType | undefined, where: 'query' | 'path'): JsonSchema[] {
  if (!schema) return [];
  const json = toSchema(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

const errorBody: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
};

/** Builds the OpenAPI 3.1 document from the registered routes' zod schemas. */
export function buildOpenApiDocument(routes: readonly RegisteredRoute[], info: { version: string }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const openApiPath = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const success = String(route.successStatus ?? (route.response ? 200 : 204));
    const responses: Record<string, unknown> = {
      [success]: route.response
        ? { description: 'OK', content: { 'application/json': { schema: toSchema(route.response, 'output') } } }
        : { description: 'OK' },
      '400': { description: 'Invalid input; details name each field', content: { 'application/json': { schema: errorBody } } },
    };
    if (route.access !== 'public') {
      responses['401'] = { description: 'Missing or invalid credentials', content: { 'application/json': { schema: errorBody } } };
      responses['403'] = { description: 'Role not allowed', content: { 'application/json': { schema: errorBody } } };
    }
    (paths[openApiPath] ??= {})[route.method] = {
      summary: route.summary,
      tags: [route.tag],
      ...(route.access === 'public'
        ? { security: [] }
        : { description: `Roles: ${route.access.join(', ')}`, security: [{ bearer: [] }, { apiKey: [] }] }),
      parameters: [...toParameters(route.params, 'path'), ...toParameters(route.query, 'query')],
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(route.body, 'input') } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Switchboard API',
      version: info.version,
      description: 'Contact-center middleware: customers, the unified interaction log, routing and follow-up tasks.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      },
    },
    paths,
  };
}

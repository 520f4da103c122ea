import { Router } from 'express';
import { z } from 'zod';
import type { RouteRegistry } from '../platform/http/route';
import { objectIdSchema } from '../platform/validation';
import type { DepartmentService } from './department.service';

const departmentSchema = z.object({ id: z.string(), code: z.string(), name: z.string(), timezone: z.string(), headUserId: z.string().optional() });

const createDepartmentBody = z.object({
  code: z.string().regex(/^[a-z][a-z0-9-]{1,39}$/, 'lower-case letters, digits and -, e.g. after-sales'),
  name: z.string().trim().min(1).max(120),
  timezone: z.string().min(1).max(60).default('Asia/Shanghai'),
  headUserId: objectIdSchema.optional(),
});

export function departmentRoutes(registry: RouteRegistry, departments: DepartmentService): Router {
  const router = Router();
  const tag = 'Departments';

  registry.add(router, { method: 'get', path: '/api/departments', summary: 'List departments', tag, access: ['admin', 'supervisor', 'agent', 'department'], response: z.object({ items: z.array(departmentSchema) }) },
    async () => ({ items: await departments.list() }));

  registry.add(router, { method: 'post', path: '/api/departments', summary: 'Create a department', tag, access: ['admin'], body: createDepartmentBody, response: departmentSchema, successStatus: 201 },
    ({ body }) => departments.create(body));

  registry.add(router, { method: 'get', path: '/api/departments/:id', summary: 'One department', tag, access: ['admin', 'supervisor', 'agent', 'department'], params: z.object({ id: objectIdSchema }), response: departmentSchema },
    ({ params }) => departments.get(params.id));

  return router;
}

import { Router } from 'express';
import { z } from 'zod';
import type { RouteRegistry } from '../platform/http/route';
import { objectIdSchema } from '../platform/validation';
import type { DepartmentService } from './department.service';
import { businessHoursSchema, departmentSchema, taskTypeSchema, updateDepartmentBody } from './task.schemas';

const createDepartmentBody = z.object({
  code: z.string().regex(/^[a-z][a-z0-9-]{1,39}$/, 'lower-case letters, digits and -, e.g. after-sales'),
  name: z.string().trim().min(1).max(120),
  timezone: z.string().min(1).max(60).default('Asia/Shanghai'),
  headUserId: objectIdSchema.optional(),
  businessHours: businessHoursSchema.optional(),
  taskTypes: z.array(taskTypeSchema).max(50).optional(),
});

const departmentIdParams = z.object({ id: objectIdSchema });

export function departmentRoutes(registry: RouteRegistry, departments: DepartmentService): Router {
  const router = Router();
  const tag = 'Departments';

  registry.add(router, { method: 'get', path: '/api/departments', summary: 'List departments with their business hours and task types', tag, access: ['admin', 'supervisor', 'agent', 'department', 'integration'], response: z.object({ items: z.array(departmentSchema) }) },
    async ({ principal }) => ({ items: await departments.listFor(principal) }));

  registry.add(router, { method: 'post', path: '/api/departments', summary: 'Create a department', tag, access: ['admin'], body: createDepartmentBody, response: departmentSchema, successStatus: 201 },
    ({ body }) => departments.create(body));

  registry.add(router, { method: 'get', path: '/api/departments/:id', summary: 'One department', tag, access: ['admin', 'supervisor', 'agent', 'department', 'integration'], params: departmentIdParams, response: departmentSchema },
    ({ params, principal }) => departments.getFor(params.id, principal));

  registry.add(router, { method: 'patch', path: '/api/departments/:id', summary: 'Change name, time zone, head, business hours or task types (task types are replaced as a whole)', tag, access: ['admin'], params: departmentIdParams, body: updateDepartmentBody, response: departmentSchema },
    ({ params, body }) => departments.update(params.id, body));

  return router;
}

import express, { Router } from 'express';
import { z } from 'zod';
import { anyUserRole, type Role } from '../platform/http/principal';
import type { RouteRegistry } from '../platform/http/route';
import { sendDownload } from '../platform/http/download';
import { maxTaskAttachmentBytes, type TaskAttachments } from './task-attachments';
import type { TransitionAction } from './task.lifecycle';
import {
  attachmentParams,
  commentBody,
  fileTaskBody,
  listTasksQuery,
  taskIdParams,
  taskReferenceParams,
  taskSchema,
  transitionBody,
  watchersBody,
} from './task.schemas';
import type { TaskQuery, TaskService } from './task.service';

// An integration key files and reads tasks (of its departments) here and changes them only through
// /api/integrations/tasks/* (the ERP API); every other task route is for people.
const filingRoles: readonly Role[] = ['admin', 'supervisor', 'agent', 'integration'];
const readingRoles: readonly Role[] = [...anyUserRole, 'integration'];

const actionSummaries: Record<TransitionAction, string> = {
  accept: 'Take the task (department user): it becomes theirs; 409 when someone took it first',
  start: 'Start working on an accepted task',
  resolve: 'Resolve with a resolution (what was done)',
  reject: 'Send the task back to the filer with a reason',
  verify: 'Record that the customer confirmed the outcome',
  close: 'Close a resolved, verified or rejected task',
  reopen: 'Reopen a finished task',
  assign: 'Assign to a department user (department head, supervisors)',
  forward: 'Forward to another department with a reason',
};

/** The follow-up task API: filing, the boards, the lifecycle, feedback and attachments. */
export function taskRoutes(registry: RouteRegistry, tasks: TaskService, attachments: TaskAttachments): Router {
  const router = Router();
  const tag = 'Tasks';

  registry.add(router, { method: 'post', path: '/api/tasks', summary: 'File a follow-up task for a department', tag, access: filingRoles, body: fileTaskBody, response: taskSchema, successStatus: 201 },
    ({ body, principal }) => tasks.fileTask(body, principal));

  registry.add(router, {
    method: 'get', path: '/api/tasks', tag, access: readingRoles, query: listTasksQuery,
    summary: "A department board, the caller's tasks (mine) or a customer's tasks; department users see only their department",
    response: z.object({ items: z.array(taskSchema), limit: z.number(), offset: z.number() }),
  }, async ({ query, principal }) => {
    const { status, mine, ...rest } = query;
    const filter: TaskQuery = { ...rest, ...(status?.length ? { statuses: status } : {}) };
    if (mine === 'assigned') filter.assigneeId = principal.id;
    if (mine === 'filed') filter.createdById = principal.id;
    if (mine === 'watching') filter.watcherId = principal.id;
    return { items: await tasks.listTasks(filter, principal), limit: query.limit, offset: query.offset };
  });

  registry.add(router, { method: 'get', path: '/api/tasks/by-reference/:reference', summary: 'A task by its reference (T-000123), with history', tag, access: readingRoles, params: taskReferenceParams, response: taskSchema },
    ({ params, principal }) => tasks.getByReference(params.reference, principal));

  registry.add(router, { method: 'get', path: '/api/tasks/:id', summary: 'A task with its history', tag, access: readingRoles, params: taskIdParams, response: taskSchema },
    ({ params, principal }) => tasks.getTask(params.id, principal));

  for (const action of Object.keys(actionSummaries) as TransitionAction[]) {
    registry.add(router, { method: 'post', path: `/api/tasks/:id/${action}`, summary: actionSummaries[action], tag, access: anyUserRole, params: taskIdParams, body: transitionBody, response: taskSchema },
      ({ params, body, principal }) => tasks.perform(params.id, action, principal, body));
  }

  registry.add(router, { method: 'post', path: '/api/tasks/:id/comments', summary: 'Post feedback: internal, or visible to the customer', tag, access: anyUserRole, params: taskIdParams, body: commentBody, response: taskSchema, successStatus: 201 },
    ({ params, body, principal }) => tasks.comment(params.id, principal, body));

  registry.add(router, { method: 'put', path: '/api/tasks/:id/watchers', summary: 'Replace the watchers (they receive every change live)', tag, access: anyUserRole, params: taskIdParams, body: watchersBody, response: taskSchema },
    ({ params, body, principal }) => tasks.setWatchers(params.id, principal, body.watcherIds));

  // The file is the raw body (any media type), named by X-Filename; express.json has already
  // taken application/json bodies, so JSON files are best sent as application/octet-stream.
  // The body is read only inside the handler: after authentication and the task's visibility check.
  const rawBody = express.raw({ type: () => true, limit: maxTaskAttachmentBytes });
  registry.add(router, {
    method: 'post', path: '/api/tasks/:id/attachments', tag, access: anyUserRole, params: taskIdParams, response: taskSchema, successStatus: 201,
    summary: `Attach a file (raw body up to ${maxTaskAttachmentBytes / 1024 / 1024} MB; Content-Type and X-Filename headers)`,
  }, ({ params, principal }, res) => {
    const req = res.req;
    const readContent = () => new Promise<unknown>((resolve, reject) => rawBody(req, res, (error?: unknown) => (error ? reject(error) : resolve(req.body))));
    return attachments.upload(params.id, principal, { filename: req.get('x-filename'), contentType: req.get('content-type'), readContent });
  });

  registry.add(router, { method: 'get', path: '/api/tasks/:id/attachments/:attachmentId', summary: 'Download an attachment (same visibility as the task)', tag, access: anyUserRole, params: attachmentParams },
    async ({ params, principal }, res) => {
      const { attachment, stream, size } = await attachments.open(params.id, params.attachmentId, principal);
      await sendDownload(res, { contentType: attachment.contentType, filename: attachment.filename, size, stream });
      return undefined;
    });

  return router;
}

import { once } from 'node:events';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { AppError } from '../platform/errors';
import { supervisorRoles } from '../platform/http/principal';
import type { RouteRegistry } from '../platform/http/route';
import { objectIdSchema } from '../platform/validation';
import { nextDay, startOfLocalDay } from './intervals';
import { columns, csvLine, keyColumns, showRow, type ReportKind } from './report-columns';
import type { ReportInterval, ReportQuery, ReportRequest } from './report-query';

const tag = 'Reports';
const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
const instant = z
  .string()
  // A date-time without an offset would be read in the server's zone: refused rather than guessed.
  .refine((value) => dateOnly.test(value) || (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value))), 'must be a date (YYYY-MM-DD, a local day) or an ISO date-time with offset');
const range = {
  from: instant,
  to: instant,
  format: z.enum(['json', 'csv']).default('json'),
};
const interval = z.enum(['15m', 'hour', 'day']).default('hour');
const queueName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a queue name like after-sales');

/** `from` as its first instant; a date-only `to` includes that whole day, a date-time `to` is exclusive. */
function parseRange(query: { from: string; to: string }, timeZone: string): { from: Date; to: Date } {
  const from = dateOnly.test(query.from) ? startOfLocalDay(query.from, timeZone) : new Date(query.from);
  const to = dateOnly.test(query.to) ? startOfLocalDay(nextDay(query.to), timeZone) : new Date(query.to);
  if (to <= from) throw AppError.validation([{ field: 'query.to', message: 'must be after from' }]);
  return { from, to };
}

/** Historical reports, scorecards and their CSV export, for supervisors and admins. */
export function reportsRoutes(registry: RouteRegistry, query: ReportQuery, settings: { timeZone: string; thresholdSeconds(queue: string): number | undefined; settle(): Promise<void> }): Router {
  const router = Router();

  const answer = async (kind: ReportKind, request: ReportRequest, format: 'json' | 'csv', res: Response) => {
    // What this process's listeners are still counting is included (the rest is eventually there).
    await settings.settle();
    const extra = (key: string): Record<string, number | null> => (kind === 'queue' ? { thresholdSeconds: settings.thresholdSeconds(key) ?? null } : {});
    if (format === 'json') {
      const items = [];
      for await (const row of query.rows(request)) items.push(showRow(kind, row, extra(row.key)));
      return { timeZone: settings.timeZone, interval: request.interval, from: request.from.toISOString(), to: request.to.toISOString(), items };
    }
    // Rows are written as buckets are read: a year of quarters never sits in memory.
    const rows = query.rows(request);
    const first = await rows.next();
    res.status(200).type('text/csv; charset=utf-8').setHeader('content-disposition', `attachment; filename="${kind}-report.csv"`);
    const header = [...keyColumns(kind), 'start', 'end', ...(kind === 'queue' ? ['thresholdSeconds'] : []), ...columns[kind]];
    res.write(csvLine(header));
    try {
      for (let next = first; !next.done; next = await rows.next()) {
        const shown = showRow(kind, next.value, extra(next.value.key));
        if (!res.write(csvLine(header.map((column) => shown[column])))) await once(res, 'drain');
      }
      res.end();
    } catch (error) {
      res.destroy(error as Error);
    }
    return undefined;
  };

  const list = <K extends string, S extends z.ZodType<string>>(path: string, kind: ReportKind, keyName: K, keySchema: S, summary: string) =>
    registry.add(
      router,
      { method: 'get', path, summary, tag, access: supervisorRoles, query: z.object({ ...range, interval, [keyName]: keySchema.optional() }) },
      ({ query: params }, res) => {
        const { from, to } = parseRange(params, settings.timeZone);
        const key = (params as Record<string, string | undefined>)[keyName];
        return answer(kind, { dim: kind, from, to, interval: params.interval as ReportInterval, ...(key !== undefined ? { key } : {}) }, params.format, res);
      },
    );

  list('/api/reports/queues', 'queue', 'queue', queueName, 'Queue figures per interval: offered, answered, abandoned, SL, ASA, AHT, FCR, CSAT (JSON or CSV)');
  list('/api/reports/agents', 'agent', 'agentId', objectIdSchema, 'Agent figures per interval: handled, AHT, occupancy, FCR, CSAT, tasks (JSON or CSV)');
  list('/api/reports/channels', 'channel', 'channel', z.enum(['voice', 'sms', 'email', 'web', 'fax', 'manual']), 'Channel figures per interval (JSON or CSV)');

  registry.add(
    router,
    {
      method: 'get', path: '/api/reports/departments', summary: 'Task turnaround per department (or per department and task type with by=type) per interval (JSON or CSV)', tag, access: supervisorRoles,
      query: z.object({ ...range, interval, departmentId: objectIdSchema.optional(), by: z.enum(['department', 'type']).default('department') }),
    },
    ({ query: params }, res) => {
      const { from, to } = parseRange(params, settings.timeZone);
      const base = { from, to, interval: params.interval as ReportInterval };
      if (params.by === 'type') return answer('task_type', { ...base, dim: 'task_type', ...(params.departmentId ? { keyPrefix: `${params.departmentId}/` } : {}) }, params.format, res);
      return answer('department', { ...base, dim: 'department', ...(params.departmentId ? { key: params.departmentId } : {}) }, params.format, res);
    },
  );

  registry.add(
    router,
    { method: 'get', path: '/api/reports/scorecards/agents', summary: 'One row per agent over whole local days: handled, AHT, occupancy, CSAT, FCR, tasks within SLA', tag, access: supervisorRoles, query: z.object({ ...range, agentId: objectIdSchema.optional() }) },
    ({ query: params }, res) => {
      const { from, to } = parseRange(params, settings.timeZone);
      return answer('agent', { dim: 'agent', from, to, interval: 'total', ...(params.agentId ? { key: params.agentId } : {}) }, params.format, res);
    },
  );

  registry.add(
    router,
    { method: 'get', path: '/api/reports/scorecards/departments', summary: 'One row per department over whole local days: tasks resolved, turnaround, within SLA, reopened, CSAT', tag, access: supervisorRoles, query: z.object({ ...range, departmentId: objectIdSchema.optional() }) },
    ({ query: params }, res) => {
      const { from, to } = parseRange(params, settings.timeZone);
      return answer('department', { dim: 'department', from, to, interval: 'total', ...(params.departmentId ? { key: params.departmentId } : {}) }, params.format, res);
    },
  );

  return router;
}

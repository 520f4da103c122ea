import { z } from 'zod';
import { objectIdSchema } from '../platform/validation';
import { weekdays } from './department.model';
import { taskActions, taskPriorities, taskStatuses } from './task.contracts';

// ---------------------------------------------------------------------------------------------
// Tasks

const actorSchema = z.object({ kind: z.enum(['user', 'api_key', 'customer', 'system']), id: z.string(), name: z.string() });

export const historyEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  action: z.enum(taskActions),
  actor: actorSchema,
  fromStatus: z.enum(taskStatuses).optional(),
  toStatus: z.enum(taskStatuses).optional(),
  comment: z.string().optional(),
  visibility: z.enum(['internal', 'customer']).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

const attachmentSchema = z.object({ id: z.string(), filename: z.string(), contentType: z.string(), size: z.number(), sha256: z.string(), uploadedBy: z.string(), at: z.string() });

export const taskSchema = z.object({
  id: z.string(),
  reference: z.string().describe('Human reference quoted to customers, e.g. T-000123'),
  departmentId: z.string(),
  typeCode: z.string(),
  title: z.string(),
  description: z.string(),
  fields: z.record(z.string(), z.string()),
  checklist: z.array(z.object({ item: z.string(), done: z.boolean() })),
  priority: z.enum(taskPriorities),
  status: z.enum(taskStatuses),
  ownerId: z.string().optional().describe('The one person answerable for the task right now'),
  assigneeId: z.string().optional(),
  createdBy: actorSchema,
  customerId: z.string(),
  interactionId: z.string().optional(),
  customerChannel: z.enum(['voice', 'sms', 'email']).optional(),
  watcherIds: z.array(z.string()),
  slaMinutes: z.number(),
  dueAt: z.string(),
  warnedAt: z.string().optional(),
  breachedAt: z.string().optional(),
  acceptedAt: z.string().optional(),
  resolvedAt: z.string().optional(),
  rejectedAt: z.string().optional(),
  verifiedAt: z.string().optional(),
  closedAt: z.string().optional(),
  resolution: z.string().optional(),
  rejectionReason: z.string().optional(),
  reopenCount: z.number(),
  attachments: z.array(attachmentSchema),
  version: z.number().describe('Send back as expectedVersion to refuse a change made on a stale copy'),
  createdAt: z.string(),
  updatedAt: z.string(),
  history: z.array(historyEntrySchema).optional().describe('Oldest first; omitted in lists'),
});

export const taskIdParams = z.object({ id: objectIdSchema });
export const taskReferenceParams = z.object({ reference: z.string().regex(/^T-\d{6,}$/, 'must look like T-000123') });
export const attachmentParams = z.object({ id: objectIdSchema, attachmentId: objectIdSchema });

const typeCodeSchema = z.string().trim().min(1).max(60);

export const fileTaskBody = z.object({
  departmentId: objectIdSchema,
  typeCode: typeCodeSchema,
  title: z.string().trim().min(1).max(200),
  description: z.string().trim().max(10_000).optional(),
  priority: z.enum(taskPriorities).optional().describe("Defaults to the task type's priority"),
  fields: z.record(z.string().max(60), z.string().max(500)).optional().describe("Values of the task type's fields, e.g. { vin: 'LVTDB21B1ND123456' }"),
  customerId: objectIdSchema,
  interactionId: objectIdSchema.optional().describe('The contact the task was filed from; notifications go back by its channel'),
  watcherIds: z.array(objectIdSchema).max(50).optional(),
});

export const transitionBody = z.object({
  comment: z.string().trim().max(5_000).optional(),
  resolution: z.string().trim().max(5_000).optional().describe('resolve: what was done (may be sent to the customer)'),
  reason: z.string().trim().max(5_000).optional().describe('reject / forward: why'),
  assigneeId: objectIdSchema.optional().describe('assign: the department user to own it'),
  toDepartmentId: objectIdSchema.optional().describe('forward: where to'),
  toTypeCode: typeCodeSchema.optional().describe('forward: the task type there (defaults to the same code)'),
  expectedVersion: z.number().int().min(1).optional().describe('Refused with 409 when the task moved past this version'),
});

export const commentBody = z.object({
  text: z.string().trim().min(1).max(5_000),
  visibility: z.enum(['internal', 'customer']).default('internal').describe('customer comments may be sent to the customer; internal ones never leave'),
});

export const watchersBody = z.object({ watcherIds: z.array(objectIdSchema).max(50) });

const commaList = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean))
  .pipe(z.array(z.enum(taskStatuses)));

export const listTasksQuery = z.object({
  departmentId: objectIdSchema.optional(),
  status: commaList.optional().describe(`Comma list of ${taskStatuses.join(', ')}`),
  typeCode: typeCodeSchema.optional(),
  assigneeId: objectIdSchema.optional(),
  mine: z.enum(['assigned', 'filed', 'watching']).optional().describe('Tasks assigned to, filed by or watched by the caller'),
  customerId: objectIdSchema.optional(),
  priority: z.enum(taskPriorities).optional(),
  overdue: z
    .enum(['true', 'false'])
    .optional()
    .transform((flag) => flag === 'true')
    .describe('Only tasks still owed and past their due time'),
  sort: z.enum(['dueAt', '-createdAt', '-updatedAt']).default('dueAt'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

// ---------------------------------------------------------------------------------------------
// Departments

const hhmm = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const timeOfDay = z.string().regex(hhmm, 'must be HH:MM (00:00 to 24:00)');
const minutesOf = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3));

const openingSchema = z
  .object({ start: timeOfDay, end: timeOfDay })
  .refine((opening) => minutesOf(opening.end) > minutesOf(opening.start), { message: 'end must be after start', path: ['end'] });

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), 'is not a calendar date');

export const businessHoursSchema = z.object({
  weekly: z.partialRecord(z.enum(weekdays), z.array(openingSchema).max(6)).superRefine((weekly, context) => {
    for (const [day, openings] of Object.entries(weekly)) {
      const sorted = [...(openings ?? [])].sort((a, b) => minutesOf(a.start) - minutesOf(b.start));
      for (let index = 1; index < sorted.length; index++) {
        if (minutesOf(sorted[index].start) < minutesOf(sorted[index - 1].end)) context.addIssue({ code: 'custom', message: 'opening hours overlap', path: [day] });
      }
    }
  }),
  holidays: z.array(isoDate).max(366).default([]),
});

const compiles = (pattern: string) => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
};

const taskTypeFieldSchema = z.object({
  key: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,39}$/, 'letters, digits and _, starting with a letter, e.g. vin or partNumber'),
  label: z.string().trim().min(1).max(80),
  pattern: z.string().max(500).refine(compiles, 'is not a valid regular expression').optional(),
  required: z.boolean().default(false),
});

const template = z.string().trim().min(1).max(1_000);

export const taskTypeSchema = z
  .object({
    code: z.string().regex(/^[a-z][a-z0-9-]{1,39}$/, 'lower-case letters, digits and -, e.g. warranty-claim'),
    name: z.string().trim().min(1).max(120),
    slaMinutes: z.number().int().positive('must be more than 0 business minutes').max(525_600),
    defaultPriority: z.enum(taskPriorities).default('normal'),
    fields: z.array(taskTypeFieldSchema).max(20).default([]),
    checklist: z.array(z.string().trim().min(1).max(200)).max(30).default([]),
    notifyCustomerOnCreate: z.boolean().default(false),
    templates: z.object({ created: template.optional(), resolved: template.optional(), verification: template.optional() }).default({}),
  })
  .superRefine((type, context) => {
    const keys = type.fields.map((field) => field.key);
    keys.forEach((key, index) => {
      if (keys.indexOf(key) !== index) context.addIssue({ code: 'custom', message: `field key ${key} is used twice`, path: ['fields', index, 'key'] });
    });
  });

export const departmentSchema = z.object({
  id: z.string(),
  code: z.string(),
  name: z.string(),
  timezone: z.string(),
  headUserId: z.string().optional(),
  businessHours: businessHoursSchema,
  taskTypes: z.array(taskTypeSchema),
});

export const updateDepartmentBody = z
  .object({
    name: z.string().trim().min(1).max(120).optional(),
    timezone: z.string().min(1).max(60).optional().describe('IANA zone, e.g. Asia/Shanghai'),
    headUserId: objectIdSchema.optional().describe('Receives escalations; owns unassigned tasks'),
    businessHours: businessHoursSchema.optional(),
    taskTypes: z
      .array(taskTypeSchema)
      .max(50)
      .optional()
      .superRefine((types, context) => {
        const codes = (types ?? []).map((type) => type.code);
        codes.forEach((code, index) => {
          if (codes.indexOf(code) !== index) context.addIssue({ code: 'custom', message: `task type code ${code} is used twice`, path: [index, 'code'] });
        });
      }),
  })
  .refine((body) => Object.keys(body).length > 0, 'send at least one of name, timezone, headUserId, businessHours, taskTypes');

import { Schema, type Connection, type Model } from 'mongoose';
import type { TaskPriority } from './task.contracts';

/** Opening hours in the department's zone: `HH:MM` local times, per weekday; holidays are closed all day. */
export interface BusinessHours {
  /** Keys mon…sun; a missing or empty day is closed. `end` may be 24:00. */
  weekly: Partial<Record<Weekday, Array<{ start: string; end: string }>>>;
  /** Local dates (YYYY-MM-DD) the department is closed. */
  holidays: string[];
}

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];

export interface TaskTypeField {
  key: string;
  label: string;
  /** A regular expression the value must match, e.g. a 17-character VIN. */
  pattern?: string;
  required: boolean;
}

/** Customer message templates; `{reference}`, `{title}`, `{resolution}`, `{department}` are filled in. */
export interface TaskTypeTemplates {
  created?: string;
  resolved?: string;
  verification?: string;
}

export interface TaskType {
  code: string;
  name: string;
  /** Due time is this many minutes of the department's business hours after filing. */
  slaMinutes: number;
  defaultPriority: TaskPriority;
  fields: TaskTypeField[];
  checklist: string[];
  /** Tell the customer when the task is filed, not only when it is resolved. */
  notifyCustomerOnCreate: boolean;
  templates: TaskTypeTemplates;
}

/** A department that receives follow-up tasks (after-sales, parts, warranty…). Members are users with its departmentId. */
export interface DepartmentDocument {
  _id: string;
  /** Short stable handle for integrations and templates, e.g. `parts`. */
  code: string;
  name: string;
  /** IANA zone for due times and quiet hours, e.g. Asia/Shanghai. */
  timezone: string;
  /** Receives escalations; owns unassigned tasks. */
  headUserId?: string;
  businessHours: BusinessHours;
  taskTypes: TaskType[];
  createdAt: Date;
  updatedAt: Date;
}

const taskTypeSchema = new Schema<TaskType>(
  {
    code: { type: String, required: true },
    name: { type: String, required: true },
    slaMinutes: { type: Number, required: true },
    defaultPriority: { type: String, required: true, default: 'normal' },
    fields: { type: [{ _id: false, key: String, label: String, pattern: String, required: Boolean }], default: [] },
    checklist: { type: [String], default: [] },
    notifyCustomerOnCreate: { type: Boolean, default: false },
    templates: { type: Schema.Types.Mixed, default: () => ({}) },
  },
  { _id: false },
);

const departmentSchema = new Schema<DepartmentDocument>(
  {
    _id: { type: String, required: true },
    code: { type: String, required: true },
    name: { type: String, required: true },
    timezone: { type: String, required: true },
    headUserId: String,
    businessHours: { type: Schema.Types.Mixed, default: () => defaultBusinessHours() },
    taskTypes: { type: [taskTypeSchema], default: [] },
  },
  { timestamps: true, versionKey: false, minimize: false },
);
// One department per code: integrations address departments by code.
departmentSchema.index({ code: 1 }, { unique: true });

/** Monday to Friday, 09:00–18:00: what a department gets until an admin says otherwise. */
export function defaultBusinessHours(): BusinessHours {
  const day = [{ start: '09:00', end: '18:00' }];
  return { weekly: { mon: day, tue: day, wed: day, thu: day, fri: day }, holidays: [] };
}

export function departmentModel(connection: Connection): Model<DepartmentDocument> {
  return connection.models.Department ?? connection.model<DepartmentDocument>('Department', departmentSchema, 'departments');
}

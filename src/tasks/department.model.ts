import { Schema, type Connection, type Model } from 'mongoose';

/**
 * A department that receives follow-up tasks (after-sales, parts, warranty…). Task types, SLAs and
 * business hours arrive with the tasks module; this is the part users and the seed need first.
 */
export interface DepartmentDocument {
  _id: string;
  /** Short stable handle for integrations and templates, e.g. `parts`. */
  code: string;
  name: string;
  /** IANA zone for due times and quiet hours, e.g. Asia/Shanghai. */
  timezone: string;
  headUserId?: string;
  createdAt: Date;
  updatedAt: Date;
}

const departmentSchema = new Schema<DepartmentDocument>(
  {
    _id: { type: String, required: true },
    code: { type: String, required: true },
    name: { type: String, required: true },
    timezone: { type: String, required: true },
    headUserId: String,
  },
  { timestamps: true, versionKey: false },
);
// One department per code: integrations address departments by code.
departmentSchema.index({ code: 1 }, { unique: true });

export function departmentModel(connection: Connection): Model<DepartmentDocument> {
  return connection.models.Department ?? connection.model<DepartmentDocument>('Department', departmentSchema, 'departments');
}

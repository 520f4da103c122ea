import { Types, type Connection, type Model } from 'mongoose';
import { AppError, isDuplicateKeyError } from '../platform/errors';
import { isTimeZone } from '../platform/zoned-time';
import type { Principal } from '../platform/http/principal';
import type { Logger } from '../platform/logger';
import { defaultBusinessHours, departmentModel, type BusinessHours, type DepartmentDocument, type TaskType } from './department.model';

export interface Department {
  id: string;
  code: string;
  name: string;
  timezone: string;
  headUserId?: string;
  businessHours: BusinessHours;
  taskTypes: TaskType[];
}

export type DepartmentChanges = Partial<Pick<Department, 'name' | 'timezone' | 'headUserId' | 'businessHours' | 'taskTypes'>>;

function toDepartment(stored: DepartmentDocument): Department {
  return {
    id: stored._id,
    code: stored.code,
    name: stored.name,
    timezone: stored.timezone,
    ...(stored.headUserId ? { headUserId: stored.headUserId } : {}),
    businessHours: stored.businessHours ?? defaultBusinessHours(),
    taskTypes: stored.taskTypes ?? [],
  };
}

/** Departments are few and rarely change: a small repository lives inside the service. */
export class DepartmentService {
  private readonly Department: Model<DepartmentDocument>;

  constructor(connection: Connection, private readonly log: Logger) {
    this.Department = departmentModel(connection);
  }

  async create(input: { code: string; name: string; timezone: string; headUserId?: string; businessHours?: BusinessHours; taskTypes?: TaskType[] }): Promise<Department> {
    if (!isTimeZone(input.timezone)) throw AppError.validation([{ field: 'timezone', message: 'is not an IANA time zone, e.g. Asia/Shanghai' }]);
    try {
      const created = await this.Department.create({ _id: new Types.ObjectId().toHexString(), ...input });
      this.log.info({ departmentId: created._id, code: input.code }, 'department created');
      return toDepartment(created.toObject());
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new AppError('conflict', 'A department with this code exists', [{ field: 'code', message: 'is already taken' }]);
      throw error;
    }
  }

  async update(id: string, changes: DepartmentChanges): Promise<Department> {
    if (changes.timezone !== undefined && !isTimeZone(changes.timezone)) throw AppError.validation([{ field: 'timezone', message: 'is not an IANA time zone, e.g. Asia/Shanghai' }]);
    const codes = changes.taskTypes?.map((type) => type.code) ?? [];
    if (new Set(codes).size !== codes.length) throw AppError.validation([{ field: 'taskTypes', message: 'each task type code must be unique within the department' }]);
    const stored = await this.Department.findByIdAndUpdate(id, { $set: changes }, { returnDocument: 'after' }).lean<DepartmentDocument>().exec();
    if (!stored) throw AppError.notFound('Department', id);
    this.log.info({ departmentId: id, fields: Object.keys(changes) }, 'department updated');
    return toDepartment(stored);
  }

  /** The department and one of its task types; 400 naming the field when the type is not offered there. */
  async taskType(departmentId: string, typeCode: string): Promise<{ department: Department; type: TaskType }> {
    const department = await this.get(departmentId);
    const type = department.taskTypes.find((candidate) => candidate.code === typeCode);
    if (!type) {
      const known = department.taskTypes.map((candidate) => candidate.code).join(', ') || 'none yet';
      throw AppError.validation([{ field: 'typeCode', message: `is not a task type of ${department.name} (known: ${known})` }]);
    }
    return { department, type };
  }

  async list(): Promise<Department[]> {
    return (await this.Department.find({}).sort({ name: 1 }).lean<DepartmentDocument[]>().exec()).map(toDepartment);
  }

  async get(id: string): Promise<Department> {
    const stored = await this.Department.findById(id).lean<DepartmentDocument>().exec();
    if (!stored) throw AppError.notFound('Department', id);
    return toDepartment(stored);
  }

  /** The departments the caller may see: all, or only its own for an API key limited to departments. */
  async listFor(principal: Pick<Principal, 'departmentIds'>): Promise<Department[]> {
    const all = await this.list();
    return principal.departmentIds ? all.filter((department) => principal.departmentIds!.includes(department.id)) : all;
  }

  /** One department as the caller may see it; another's is 404, as if it did not exist. */
  async getFor(id: string, principal: Pick<Principal, 'departmentIds'>): Promise<Department> {
    if (principal.departmentIds && !principal.departmentIds.includes(id)) throw AppError.notFound('Department', id);
    return this.get(id);
  }

  async exists(id: string): Promise<boolean> {
    return (await this.Department.findById(id, { _id: 1 }).lean().exec()) !== null;
  }

  async findByCode(code: string): Promise<Department | null> {
    const stored = await this.Department.findOne({ code }).lean<DepartmentDocument>().exec();
    return stored ? toDepartment(stored) : null;
  }
}

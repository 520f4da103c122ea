import { Types, type Connection, type Model } from 'mongoose';
import { AppError, isDuplicateKeyError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { departmentModel, type DepartmentDocument } from './department.model';

export interface Department {
  id: string;
  code: string;
  name: string;
  timezone: string;
  headUserId?: string;
}

function toDepartment(stored: DepartmentDocument): Department {
  return { id: stored._id, code: stored.code, name: stored.name, timezone: stored.timezone, ...(stored.headUserId ? { headUserId: stored.headUserId } : {}) };
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Departments are few and rarely change: a small repository lives inside the service. */
export class DepartmentService {
  private readonly Department: Model<DepartmentDocument>;

  constructor(connection: Connection, private readonly log: Logger) {
    this.Department = departmentModel(connection);
  }

  async create(input: { code: string; name: string; timezone: string; headUserId?: string }): Promise<Department> {
    if (!isValidTimeZone(input.timezone)) throw AppError.validation([{ field: 'timezone', message: 'is not an IANA time zone, e.g. Asia/Shanghai' }]);
    try {
      const created = await this.Department.create({ _id: new Types.ObjectId().toHexString(), ...input });
      this.log.info({ departmentId: created._id, code: input.code }, 'department created');
      return toDepartment(created.toObject());
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new AppError('conflict', 'A department with this code exists', [{ field: 'code', message: 'is already taken' }]);
      throw error;
    }
  }

  async list(): Promise<Department[]> {
    return (await this.Department.find({}).sort({ name: 1 }).lean<DepartmentDocument[]>().exec()).map(toDepartment);
  }

  async get(id: string): Promise<Department> {
    const stored = await this.Department.findById(id).lean<DepartmentDocument>().exec();
    if (!stored) throw AppError.notFound('Department', id);
    return toDepartment(stored);
  }

  async exists(id: string): Promise<boolean> {
    return (await this.Department.findById(id, { _id: 1 }).lean().exec()) !== null;
  }

  async findByCode(code: string): Promise<Department | null> {
    const stored = await this.Department.findOne({ code }).lean<DepartmentDocument>().exec();
    return stored ? toDepartment(stored) : null;
  }
}

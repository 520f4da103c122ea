import { z } from 'zod';
import { AppError, type FieldProblem } from './errors';

/** Maps zod issues to field problems named the way a client sent them (`body.email`, `query.cursor`). */
export function toFieldProblems(error: z.ZodError, location?: string): FieldProblem[] {
  return error.issues.map((issue) => {
    const fieldPath = issue.path.map(String).join('.');
    const field = [location, fieldPath].filter(Boolean).join('.') || location || '(root)';
    return { field, message: issue.message };
  });
}

/** Parses `value` or throws a 400 AppError naming every bad field. */
export function parseOrThrow<Schema extends z.ZodType>(schema: Schema, value: unknown, location?: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (!result.success) throw AppError.validation(toFieldProblems(result.error, location));
  return result.data;
}

export const objectIdSchema = z.string().regex(/^[0-9a-f]{24}$/i, 'must be a 24-character hex id');

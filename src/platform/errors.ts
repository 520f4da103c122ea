/**
 * One error type for the whole application. `code` is stable and machine-readable (clients branch on
 * it), `status` is the HTTP mapping, `operational` says whether it is an expected outcome (bad input,
 * not found) or a bug that deserves a stack trace in the logs.
 */
export type ErrorCode =
  | 'validation_failed'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

const statusByCode: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export interface FieldProblem {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> | FieldProblem[] | undefined = undefined,
    readonly operational = true,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
    this.status = statusByCode[code];
  }

  static validation(problems: FieldProblem[]): AppError {
    const fields = problems.map((problem) => problem.field).join(', ');
    return new AppError('validation_failed', `Invalid input: ${fields}`, problems);
  }

  static notFound(what: string, id?: string): AppError {
    return new AppError('not_found', `${what} not found`, id ? { id } : undefined);
  }
}

/** The JSON body every failed HTTP request answers with. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export function toErrorBody(error: AppError): ErrorBody {
  return { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
}

/** Mongo's duplicate-key error, used for idempotent inserts on deterministic ids. */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

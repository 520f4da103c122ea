import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, toErrorBody } from '../errors';
import type { Logger } from '../logger';
import { outageError } from '../store-outage';

/** Turns anything thrown into an AppError; unknown errors become `internal` without leaking details. */
export function normalizeError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const candidate = error as { type?: string; status?: number; message?: string };
  // body-parser signals malformed or oversized bodies with typed errors and a 4xx status.
  if (candidate?.type === 'entity.parse.failed') {
    return AppError.validation([{ field: 'body', message: 'is not valid JSON' }]);
  }
  if (candidate?.type === 'entity.too.large') {
    return new AppError('validation_failed', 'Request body is too large', [{ field: 'body', message: 'is too large' }]);
  }
  // BullMQ's UnrecoverableError: a job that cannot succeed by retrying (e.g. no SMTP_OUT_URL, a
  // permanent refusal). Expected and already recorded on the interaction, so not a bug.
  if ((error as Error)?.name === 'UnrecoverableError') {
    return new AppError('conflict', (error as Error).message, undefined, true, { cause: error });
  }
  if (candidate?.type === 'encoding.unsupported' || candidate?.type === 'charset.unsupported') {
    return AppError.validation([{ field: 'body', message: 'has an unsupported encoding' }]);
  }
  // A store outage is expected and retryable: 503 with Retry-After (Twilio and clients retry), not a 500 bug.
  const outage = outageError(error);
  if (outage) return outage;
  return new AppError('internal', 'Something went wrong on our side; it has been logged. Try again.', undefined, false, {
    cause: error,
  });
}

/** The single HTTP error handler: one log line per failure, one JSON shape per answer. */
export function httpErrorHandler(log: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const appError = normalizeError(error);
    // For the metrics middleware, which labels rejected webhooks by code.
    res.locals.errorCode = appError.code;
    const context = { requestId: req.id, method: req.method, route: req.route?.path ?? req.path, code: appError.code };
    if (appError.operational) {
      // Field names only: the offending values may be customer data.
      const fields = Array.isArray(appError.details) ? appError.details.map((problem) => problem.field) : undefined;
      log.info({ ...context, status: appError.status, fields }, 'request rejected');
    } else {
      log.error({ ...context, err: appError.cause ?? appError }, 'request failed');
    }
    if (res.headersSent) return;
    // Also for errors thrown outside the RouteRegistry (webhooks): 429/503 say when to come back.
    const retryAfter = (appError.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (typeof retryAfter === 'number' && !res.getHeader('Retry-After')) res.setHeader('Retry-After', String(retryAfter));
    res.status(appError.status).json(toErrorBody(appError));
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('not_found', `No route for ${req.method} ${req.path}`));
};

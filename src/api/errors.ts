/** The API's one error type and its one error middleware: `{ error: { code, message } }`. */
import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) => new ApiError(400, 'bad_request', message, details);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);
export const conflict = (message: string) => new ApiError(409, 'conflict', message);

/** `body.targets[0]: Invalid target ...` for each problem, so a client sees every mistake at once. */
export function fromZod(err: ZodError, where: string): ApiError {
  const problems = err.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`);
  return new ApiError(400, 'invalid_request', problems.join('; '), { problems });
}

export function errorMiddleware(development: boolean): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let apiError: ApiError;
    if (err instanceof ApiError) apiError = err;
    else if (err instanceof ZodError) apiError = fromZod(err, 'request');
    else if (err?.type === 'entity.parse.failed') apiError = badRequest(`Request body is not valid JSON: ${err.message}`);
    else if (err?.type === 'entity.too.large') apiError = new ApiError(413, 'too_large', `Request body over ${err.limit} bytes`);
    else {
      apiError = new ApiError(500, 'internal', 'Internal error');
      console.error(`[api] ${req.method} ${req.originalUrl} failed:`, err);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A request refused before its body was read (an upload over the limit) leaves unread bytes
    // on the connection: close it, or the client's next request on it would hang.
    if (!req.complete) res.setHeader('Connection', 'close');
    const body: Record<string, unknown> = { code: apiError.code, message: apiError.message };
    if (apiError.details !== undefined) body.details = apiError.details;
    if (development && apiError.status >= 500 && err instanceof Error) body.stack = err.stack;
    res.status(apiError.status).json({ error: body });
  };
}

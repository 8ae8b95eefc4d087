/** The API's one error type and its one error middleware: `{ error: { code, message } }`. */
import type { ErrorRequestHandler, Request, Response } from 'express';
import { ZodError } from 'zod';
import { outageError, outageOf } from './outages';

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

/** How long a refused request's connection may go on sending its body before it is cut, in ms. */
const DRAIN_GRACE_MS = 2000;

/** Every error as an ApiError: outages as 503, anything unforeseen as a 500 that says nothing of the server. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ZodError) return fromZod(err, 'request');
  const e = err as { type?: string; message?: string; limit?: number } | undefined;
  if (e?.type === 'entity.parse.failed') return badRequest(`Request body is not valid JSON: ${e.message}`);
  if (e?.type === 'entity.too.large') return new ApiError(413, 'too_large', `Request body over ${e.limit} bytes`);
  const outage = outageOf(err);
  if (outage) return outageError(outage);
  return new ApiError(500, 'internal', 'Internal error; the API log has the details (search it for this response\'s X-Request-Id)');
}

/** Headers that go with an error answer (Retry-After on 503 and 429). */
export function errorHeaders(apiError: ApiError): Record<string, string> {
  const retryAfter = (apiError.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
  return retryAfter !== undefined && (apiError.status === 503 || apiError.status === 429) ? { 'Retry-After': String(Math.max(1, Math.ceil(retryAfter))) } : {};
}

/**
 * A request refused before its body was read (an upload over the limit, a missing token) leaves
 * unread bytes on the connection: close it after the answer, and cut it if the client goes on
 * sending, or a slow client would hold it open as long as it likes.
 */
export function closeAfterAnswer(req: Request, res: Response): void {
  if (req.complete) return;
  res.setHeader('Connection', 'close');
  const socket = req.socket;
  res.once('finish', () => {
    if (req.complete || !socket || socket.destroyed) return;
    const timer = setTimeout(() => socket.destroy(), DRAIN_GRACE_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

export function errorMiddleware(development: boolean): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const apiError = toApiError(err);
    if (apiError.code === 'internal') req.log?.error({ err }, `${req.method} ${req.originalUrl} failed`);
    else if (apiError.status === 503) req.log?.warn(`${req.method} ${req.originalUrl}: ${apiError.message}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    closeAfterAnswer(req, res);
    const body: Record<string, unknown> = { code: apiError.code, message: apiError.message };
    if (apiError.details !== undefined) body.details = apiError.details;
    if (development && apiError.code === 'internal' && err instanceof Error) body.stack = err.stack;
    res.set(errorHeaders(apiError)).status(apiError.status).json({ error: body });
  };
}

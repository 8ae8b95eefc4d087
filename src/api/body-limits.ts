/**
 * What a client may send, and how slowly. Node's own request timeout cannot tell a slow
 * anonymous upload from a large authorized one, so it is off and these take its place:
 * - every request body must arrive within KILN_REQUEST_TIMEOUT_MS (else 408 and the connection
 *   is closed), unless an upload route lifted that deadline after checking the token and role;
 *   then the upload is cut only after KILN_UPLOAD_IDLE_TIMEOUT_MS without a byte;
 * - JSON bodies are read only after authorization, up to a size limit named in the 413.
 * Headers have their own limit (server.headersTimeout, KILN_HEADERS_TIMEOUT_MS). Event streams
 * are GET requests without a body: none of these limits cut them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type RequestHandler } from 'express';
import { ApiError } from './errors';

const deadlines = new WeakMap<IncomingMessage, NodeJS.Timeout>();

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** Called by the server for every request, before routing. */
export function startBodyDeadline(req: IncomingMessage, res: ServerResponse, ms: number): void {
  if (!hasBody(req)) return;
  const socket = req.socket;
  const timer = setTimeout(() => {
    if (req.complete) return;
    if (!res.headersSent) {
      const body = JSON.stringify({ error: { code: 'request_timeout', message: `The request body did not arrive within ${ms} ms (KILN_REQUEST_TIMEOUT_MS); the connection is closed` } });
      res.writeHead(408, { 'Content-Type': 'application/json', Connection: 'close' }).end(body);
      res.once('finish', () => socket.destroy());
    } else {
      socket.destroy();
    }
  }, ms);
  timer.unref();
  const clear = () => clearTimeout(timer);
  req.once('end', clear);
  res.once('close', clear);
  deadlines.set(req, timer);
}

/** For upload routes, after requireRole: no overall deadline, but cut after `idleMs` without a byte. */
export function allowLongUpload(idleMs: number): RequestHandler {
  return (req, _res, next) => {
    clearTimeout(deadlines.get(req));
    if (!req.complete) {
      const socket = req.socket;
      const cut = () => socket.destroy();
      socket.setTimeout(idleMs, cut);
      req.once('end', () => socket.setTimeout(0, cut));
    }
    next();
  };
}

/** express.json with a 413 that names the limit and its setting. */
export function jsonBody(limit: number, setting: string): RequestHandler {
  const parse = express.json({ limit });
  return (req, res, next) =>
    parse(req, res, (err?: unknown) => {
      if ((err as { type?: string } | undefined)?.type === 'entity.too.large') {
        return next(new ApiError(413, 'too_large', `Request body is over the limit of ${limit} bytes (${setting})`, { limit }));
      }
      next(err);
    });
}

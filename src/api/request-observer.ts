/**
 * Every API request, seen once at the server (before Express, so the resolve fast path is seen
 * too): a request id (the client's X-Request-Id when it is a sane one, else a new UUID) sent
 * back in X-Request-Id and bound to `req.log`, one JSON log line when it ends (successful probes,
 * scrapes and resolves are not logged: they would drown the rest), and its latency in
 * kiln_http_request_duration_seconds by route template.
 *
 * Written here rather than with pino-http, which made two child loggers per request (one of them
 * serializing the request, through the redaction) whether or not anything was logged: on the
 * resolve fast path that cost about as much as the answer (docs/performance.md). Here `req.log` is
 * made on first use, and the closing line is written only when its level is logged.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Histogram, type Registry } from 'prom-client';
import type { Logger } from '../log';

declare module 'node:http' {
  interface IncomingMessage {
    /** The request's logger: every line carries its reqId. */
    log: Logger;
    /** The request id, also sent back in X-Request-Id. */
    id: string;
  }
}

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,64}$/;
/** Answered often and uneventfully: logged only when they fail. */
const QUIET = /^\/(healthz|readyz|metrics|v1\/resolve)(\?|$)|^\/dashboard\/assets\//;

type Observed = IncomingMessage & { route?: { path?: unknown }; baseUrl?: string; routeTemplate?: string };
type Level = 'silent' | 'info' | 'warn' | 'error';

/** The route template (`/v1/builds/:id`), never the raw path: labels must stay few. */
function routeOf(req: Observed): string {
  if (req.routeTemplate) return req.routeTemplate;
  const path = req.route?.path;
  if (typeof path === 'string') return `${req.baseUrl ?? ''}${path}` || '/';
  return 'unmatched';
}

function levelOf(req: IncomingMessage, res: ServerResponse, err: Error | undefined): Level {
  // An outage's 503s are expected while it lasts; the error middleware logged its cause.
  if (!err && res.statusCode === 503) return 'warn';
  if (err || res.statusCode >= 500) return 'error';
  if (QUIET.test(req.url ?? '') && res.statusCode < 400) return 'silent';
  return 'info';
}

export function requestObserver(log: Logger, registry: Registry): (req: IncomingMessage, res: ServerResponse) => void {
  const latency = new Histogram({
    name: 'kiln_http_request_duration_seconds',
    help: 'Time from request to the end of the answer, by method, route template and status (event streams excluded).',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return (req, res) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && CLIENT_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    req.id = id;
    let reqLog: Logger | undefined;
    // Made on first use: most requests log nothing, and a child logger costs more than a resolve.
    Object.defineProperty(req, 'log', {
      configurable: true,
      get: () => (reqLog ??= log.child({ reqId: id })),
      set: (value: Logger) => {
        reqLog = value;
      },
    });
    const started = process.hrtime.bigint();
    const startedMs = Date.now();
    const done = (err?: Error): void => {
      res.removeListener('finish', done);
      res.removeListener('close', done);
      res.removeListener('error', done);
      if (res.writableFinished && !String(res.getHeader('content-type') ?? '').startsWith('text/event-stream')) {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        latency.observe({ method: req.method ?? 'GET', route: routeOf(req as Observed), status: String(res.statusCode) }, seconds);
      }
      const level = levelOf(req, res, err);
      if (level === 'silent' || !log.isLevelEnabled(level)) return;
      const line: Record<string, unknown> = {
        req: { method: req.method, url: req.url, remoteAddress: req.socket?.remoteAddress },
        res: { statusCode: res.statusCode },
        responseTime: Date.now() - startedMs,
      };
      // A 5xx's cause, if any, was logged where it happened; an error the response emitted is logged here.
      if (err) line.err = err;
      const msg = err || res.statusCode >= 500 ? 'request errored' : !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted';
      req.log[level](line, msg);
    };
    res.on('finish', done);
    res.on('close', done);
    res.on('error', done);
  };
}

/**
 * Every API request, seen once at the server (before Express, so the resolve fast path is seen
 * too): a request id (the client's X-Request-Id when it is a sane one, else a new UUID) sent
 * back in X-Request-Id and bound to `req.log`, one JSON log line when it ends (successful probes,
 * scrapes and resolves are not logged: they would drown the rest), and its latency in
 * kiln_http_request_duration_seconds by route template.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pinoHttp from 'pino-http';
import { Histogram, type Registry } from 'prom-client';
import type { Logger } from '../log';

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,64}$/;
/** Answered often and uneventfully: logged only when they fail. */
const QUIET = /^\/(healthz|readyz|metrics|v1\/resolve)(\?|$)|^\/dashboard\/assets\//;

type Observed = IncomingMessage & { route?: { path?: unknown }; baseUrl?: string; routeTemplate?: string };

/** The route template (`/v1/builds/:id`), never the raw path: labels must stay few. */
function routeOf(req: Observed): string {
  if (req.routeTemplate) return req.routeTemplate;
  const path = req.route?.path;
  if (typeof path === 'string') return `${req.baseUrl ?? ''}${path}` || '/';
  return 'unmatched';
}

export function requestObserver(log: Logger, registry: Registry): (req: IncomingMessage, res: ServerResponse) => void {
  const latency = new Histogram({
    name: 'kiln_http_request_duration_seconds',
    help: 'Time from request to the end of the answer, by method, route template and status (event streams excluded).',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const logger = pinoHttp({
    logger: log,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && CLIENT_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customAttributeKeys: { reqId: 'reqId' },
    // Every line a request's handlers log carries its reqId; the request itself is on the closing line.
    quietReqLogger: true,
    customLogLevel: (req, res, err) => {
      // An outage's 503s are expected while it lasts; the error middleware logged its cause.
      if (!err && res.statusCode === 503) return 'warn';
      if (err || res.statusCode >= 500) return 'error';
      if (QUIET.test(req.url ?? '') && res.statusCode < 400) return 'silent';
      return 'info';
    },
    // pino-http invents an Error for every 5xx; the real one, if any, was logged where it happened.
    customErrorObject: (_req, _res, err, val) => (err?.message?.startsWith('failed with status code') ? { ...val, err: undefined } : val),
    serializers: {
      req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({ method: req.method, url: req.url, remoteAddress: req.remoteAddress }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
  return (req, res) => {
    logger(req, res);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      if (String(res.getHeader('content-type') ?? '').startsWith('text/event-stream')) return;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      latency.observe({ method: req.method ?? 'GET', route: routeOf(req as Observed), status: String(res.statusCode) }, seconds);
    });
  };
}

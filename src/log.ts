/**
 * Structured logs: one JSON object per line on stdout (pino), for a log shipper to index. Every
 * line carries `component` (kiln-api, kiln-worker, ...); API request lines carry `reqId`
 * (src/api/request-observer.ts), worker lines `workerId` and, during a build, `buildKey` and
 * `target`. Secrets never reach a line: bearer tokens and cookies are redacted.
 */
import os from 'node:os';
import pino, { type Logger } from 'pino';
import type { KilnConfig } from './config';

export type { Logger };

export function createLogger(level: KilnConfig['logLevel'], component: string): Logger {
  return pino({
    level,
    base: { component, pid: process.pid, host: os.hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names, not numbers: "level":"error" is what people grep for.
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
  });
}

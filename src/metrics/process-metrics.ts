/**
 * Each process's own Prometheus registry (prom-client): the API's and every worker's. What both
 * kinds of process count lives here (storage and Redis errors); the API adds HTTP latency and the
 * farm's state (src/api/metrics), a worker its build and phase durations (src/worker/build-metrics.ts).
 * A registry per process context, not prom-client's global one, so a test can run an API and
 * workers in one process without their numbers mixing.
 */
import { Counter, Registry } from 'prom-client';

export class ProcessMetrics {
  readonly registry = new Registry();

  /** Store operations that failed for a reason other than the object's state (absent, changed). */
  readonly storageErrors = new Counter({
    name: 'kiln_storage_errors_total',
    help: 'Storage operations that failed (storage unreachable, read-only, full, refusing), by operation.',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  /** Errors a Redis connection reported (refused, reset, timed out). */
  readonly redisErrors = new Counter({
    name: 'kiln_redis_errors_total',
    help: 'Errors reported by Redis connections (refused, reset, timed out).',
    registers: [this.registry],
  });
}

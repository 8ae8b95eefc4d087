/**
 * What /healthz and /readyz report: Redis and storage, each checked for real and cheaply.
 * - Redis: a PING on the API's connection (fails within KILN_REDIS_TIMEOUT_MS while it is down).
 * - Storage: a HEAD of `health/probe` (reachable, credentials accepted) on every check, and a
 *   small overwrite of it at most every 30 s (writable: not read-only, not full).
 * Concurrent checks share one reading, so probes hammering the endpoints cost Redis and storage little.
 */
import type { FarmContext } from '../context';
import { storageFailureReason } from '../storage/guarded-store';
import { StorageUnavailableError } from '../storage/errors';
import { PROBE_KEY } from '../storage/layout';

export { PROBE_KEY };
const WRITE_EVERY_MS = 30_000;

export interface DependencyHealth {
  ok: boolean;
  /** Why not, when not ok: an error code or name, never a path. */
  error?: string;
  latencyMs?: number;
}

export interface Health {
  redis: DependencyHealth;
  storage: DependencyHealth & { kind: string; writable?: boolean };
}

function reasonOf(err: unknown): string {
  return err instanceof StorageUnavailableError ? err.reason : storageFailureReason(err);
}

export class HealthChecks {
  private running: Promise<Health> | null = null;
  private lastWrite: { at: number; error?: string } | null = null;

  constructor(private readonly ctx: FarmContext) {}

  check(): Promise<Health> {
    this.running ??= Promise.all([this.redis(), this.storage()])
      .then(([redis, storage]) => ({ redis, storage }))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async redis(): Promise<DependencyHealth> {
    const started = Date.now();
    try {
      await this.ctx.redis.ping();
      return { ok: true, latencyMs: Date.now() - started };
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string };
      return { ok: false, error: e.code ?? (e.name && e.name !== 'Error' ? e.name : e.message?.slice(0, 80)) ?? 'unknown error' };
    }
  }

  private async storage(): Promise<Health['storage']> {
    const kind = this.ctx.store.kind;
    const started = Date.now();
    try {
      await this.ctx.store.head(PROBE_KEY);
    } catch (err) {
      return { ok: false, kind, error: reasonOf(err) };
    }
    const latencyMs = Date.now() - started;
    if (!this.lastWrite || Date.now() - this.lastWrite.at > WRITE_EVERY_MS || this.lastWrite.error) {
      const error = await this.ctx.store.put(PROBE_KEY, `written by the API's health check at ${new Date().toISOString()}\n`, { contentType: 'text/plain' }).then(
        () => undefined,
        (err: unknown) => reasonOf(err),
      );
      this.lastWrite = { at: Date.now(), error };
    }
    const writeError = this.lastWrite.error;
    return writeError ? { ok: false, kind, writable: false, error: `not writable: ${writeError}`, latencyMs } : { ok: true, kind, writable: true, latencyMs };
  }
}

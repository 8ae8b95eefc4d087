/**
 * A worker waits storage outages out instead of burning builds on them (docs/recovery.md): when a
 * build meets an unavailable store, the job goes back to the queue without using an attempt, the
 * worker stops taking jobs, and a probe (a small write, so that a read-only or full store counts as
 * down) resumes it once the store answers again. The live-worker entry carries the pause, so the
 * API can tell a waiting build why it waits.
 */
import type { Logger } from '../log';
import type { ArtifactStore } from '../storage/artifact-store';
import { StorageUnavailableError } from '../storage/errors';
import { PROBE_KEY } from '../storage/layout';

export interface OutageState {
  dependency: 'storage';
  reason: string;
  since: string;
}

export interface Suspendable {
  suspend(): void;
  resume(): void;
}

export class OutagePause {
  private state: OutageState | null = null;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly store: ArtifactStore,
    /** Where the worker takes jobs from (src/queue/job-source.ts), once it has started. */
    private readonly jobs: () => Suspendable | undefined,
    private readonly logger: Logger,
    private readonly probeMs: number,
    /** Told when the worker pauses or resumes (it beats, so the API learns at once). */
    private readonly changed: () => void,
  ) {}

  get current(): OutageState | null {
    return this.state;
  }

  /** The storage outage an error reports, or null when the error is anything else. */
  static of(err: unknown): OutageState | null {
    if (!(err instanceof StorageUnavailableError)) return null;
    return { dependency: 'storage', reason: err.reason, since: new Date().toISOString() };
  }

  /** Stops taking jobs (the caller's job is already handed back) until the probe succeeds. */
  begin(outage: OutageState): void {
    if (this.state || this.stopped) return;
    this.state = outage;
    this.logger.warn({ outage }, `storage unavailable (${outage.reason}): pausing until it is back`);
    // Called from inside the job being handed back: the loop ends it, then takes nothing more.
    this.jobs()?.suspend();
    this.changed();
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.probe(), this.probeMs);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    if (this.stopped || !this.state) return;
    try {
      await this.store.put(PROBE_KEY, `written by a worker's outage probe at ${new Date().toISOString()}\n`, { contentType: 'text/plain' });
    } catch (err) {
      const outage = OutagePause.of(err);
      if (outage) this.state = { ...this.state, reason: outage.reason };
      return this.schedule();
    }
    const lasted = Date.now() - Date.parse(this.state.since);
    this.logger.info({ lastedMs: lasted }, `storage is back after ${Math.round(lasted / 1000)} s: resuming`);
    this.state = null;
    this.jobs()?.resume();
    this.changed();
  }

  /** At shutdown: no more probes, and nothing resumed. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * The GPU idle guard. TensorRT picks kernels by timing them on the GPU, so a build on a GPU that
 * something else is using gets slower engines. Before a build the guard asks NVML (through an
 * injected telemetry function) whether other compute processes run on the worker's GPU or its
 * utilisation is above a threshold; during the build it keeps watching for other processes.
 *
 * Policies (per worker, KILN_GPU_IDLE_POLICY):
 * - `wait` (default): wait up to `waitSeconds` for the GPU to become idle, then build anyway and
 *   flag the build; a process appearing during the build flags it too;
 * - `flag`: build at once; the report says what was seen;
 * - `refuse`: fail the attempt with GpuBusyError (a transient error: the queue retries it later,
 *   possibly on another worker), before the build or as soon as another process appears during it.
 * Whatever the policy, `build.details.gpuIdle` records the readings.
 *
 * During a build the GPU is busy with the worker's own trtexec, so only other processes count
 * then, not utilisation. NVML reports host PIDs: inside a container with its own PID namespace the
 * worker's trtexec shows up under a PID the worker does not know. When no NVML PID matches the
 * worker's own while its trtexec runs, the guard counts as many unknown processes as it has trtexec
 * runs as its own, and notes that it did.
 */
import type { GpuProcess, GpuTelemetry } from '../../native/types';

export const IDLE_POLICIES = ['wait', 'flag', 'refuse'] as const;
export type IdlePolicy = (typeof IDLE_POLICIES)[number];

export interface IdleGuardOptions {
  policy: IdlePolicy;
  /** How long `wait` waits for an idle GPU, in seconds. */
  waitSeconds: number;
  /** Utilisation above this (percent) counts as busy before a build. */
  utilizationPercent: number;
  /** One NVML reading of the worker's GPU (gpuTelemetry(index), or a fake in tests). */
  telemetry: () => Promise<GpuTelemetry>;
  /** How often to read NVML while waiting and during a build, in ms. (Default: 2000) */
  pollMs?: number;
  /** PIDs that are the worker itself (the worker process and any helper). (Default: none) */
  ownPids?: number[];
}

export interface GpuReading {
  at: string;
  utilizationGpu: number | null;
  memoryUsedBytes: number | null;
  /** Compute processes that are not the worker's; null when NVML could not list them. */
  others: GpuProcess[] | null;
  busy: boolean;
  /** Why the GPU counts as busy, or why the reading is incomplete. */
  why: string | null;
}

export interface IdleReport {
  policy: IdlePolicy;
  utilizationPercent: number;
  /** The first reading before the build. */
  before: GpuReading;
  /** The reading the build started on (the same as `before` unless the guard waited). */
  start: GpuReading;
  waitedSeconds: number;
  during: { samples: number; busySamples: number; otherPids: number[]; firstBusy: GpuReading | null };
  /** True when the build ran (in part) on a busy GPU: its timings, and maybe its engine, may be off. */
  flagged: boolean;
  notes: string[];
}

/** The GPU was busy and the policy is `refuse`: retry later (BullMQ retries plain errors). */
export class GpuBusyError extends Error {
  override name = 'GpuBusyError';
}

export interface IdleWatch {
  /** Stops watching and returns the full report. */
  stop(): IdleReport;
}

export class IdleGuard {
  readonly policy: IdlePolicy;
  private readonly pollMs: number;

  constructor(private readonly options: IdleGuardOptions) {
    if (!IDLE_POLICIES.includes(options.policy)) {
      throw new TypeError(`Expected one of ${IDLE_POLICIES.join(', ')} for policy but received ${String(options.policy)}`);
    }
    this.policy = options.policy;
    this.pollMs = options.pollMs ?? 2000;
  }

  /** One reading; `running` = PIDs of the worker's trtexec now running (their load is expected). */
  async read(running: number[] = []): Promise<GpuReading & { note?: string }> {
    const at = new Date().toISOString();
    let t: GpuTelemetry;
    try {
      t = await this.options.telemetry();
    } catch (err) {
      // A guard that cannot read NVML must not stop the farm: the build goes on, and says so.
      return { at, utilizationGpu: null, memoryUsedBytes: null, others: null, busy: false, why: `NVML reading failed: ${(err as Error).message}` };
    }
    const own = new Set([...(this.options.ownPids ?? []), ...running]);
    let others: GpuProcess[] | null = null;
    let note: string | undefined;
    if (t.processes) {
      others = t.processes.filter((p) => !own.has(p.pid));
      const matched = t.processes.length - others.length;
      if (running.length > 0 && matched === 0 && others.length > 0) {
        const assumed = Math.min(running.length, others.length);
        others = others.slice(assumed);
        note = `no NVML PID matched the worker's trtexec (a PID namespace?), so ${assumed} unknown process(es) were taken for it`;
      }
    }
    const reasons: string[] = [];
    if (others && others.length > 0) reasons.push(`${others.length} other compute process(es) (PIDs ${others.map((p) => p.pid).join(', ')})`);
    // Utilisation only counts before a build: during one, the worker's trtexec is what keeps it busy.
    const utilization = t.utilizationGpu;
    if (running.length === 0 && utilization !== null && utilization > this.options.utilizationPercent) {
      reasons.push(`utilization ${utilization}% > ${this.options.utilizationPercent}%`);
    }
    const why = reasons.length > 0 ? reasons.join(' and ') : t.processes === null ? 'NVML could not list compute processes' : null;
    return { at, utilizationGpu: utilization, memoryUsedBytes: t.memoryUsedBytes, others, busy: reasons.length > 0, why, ...(note ? { note } : {}) };
  }

  /**
   * Before a build: waits or refuses as the policy says. Resolves with the report so far; throws
   * GpuBusyError (refuse) or the signal's reason (aborted while waiting).
   */
  async beforeBuild(signal: AbortSignal, log: (line: string) => void = () => undefined): Promise<IdleReport> {
    const started = Date.now();
    const before = strip(await this.read());
    const notes: string[] = [];
    if (!before.busy && before.why) notes.push(before.why);
    let start = before;
    if (before.busy) {
      if (this.policy === 'refuse') {
        throw new GpuBusyError(`GPU busy before the build: ${before.why}; KILN_GPU_IDLE_POLICY=refuse, so this attempt is given back to be retried`);
      }
      if (this.policy === 'wait' && this.options.waitSeconds > 0) {
        log(`GPU busy: ${before.why}; waiting up to ${this.options.waitSeconds} s for it to become idle`);
        const deadline = started + this.options.waitSeconds * 1000;
        while (start.busy && Date.now() < deadline) {
          await sleep(Math.min(this.pollMs, Math.max(0, deadline - Date.now())), signal);
          start = strip(await this.read());
        }
      }
      if (start.busy) {
        const waited = this.policy === 'wait' ? ` after waiting ${this.options.waitSeconds} s` : '';
        log(`GPU still busy${waited}: ${start.why}; building anyway and flagging the build (KILN_GPU_IDLE_POLICY=${this.policy})`);
      } else {
        log(`GPU idle after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
    }
    return {
      policy: this.policy,
      utilizationPercent: this.options.utilizationPercent,
      before,
      start,
      waitedSeconds: (Date.now() - started) / 1000,
      during: { samples: 0, busySamples: 0, otherPids: [], firstBusy: null },
      flagged: start.busy,
      notes,
    };
  }

  /**
   * Watches during a build. `running()` names the worker's trtexec PIDs; `onBusy` is called on the
   * first busy reading (the toolchain aborts the build there under `refuse`).
   */
  watch(report: IdleReport, running: () => number[], onBusy: (reading: GpuReading) => void): IdleWatch {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async () => {
      const reading = await this.read(running());
      if (stopped) return;
      report.during.samples++;
      if (reading.note && !report.notes.includes(reading.note)) report.notes.push(reading.note);
      if (reading.busy) {
        report.during.busySamples++;
        for (const p of reading.others ?? []) if (!report.during.otherPids.includes(p.pid)) report.during.otherPids.push(p.pid);
        if (!report.during.firstBusy) {
          report.during.firstBusy = strip(reading);
          report.flagged = true;
          onBusy(report.during.firstBusy);
        }
      }
      if (!stopped) timer = setTimeout(() => void tick(), this.pollMs);
    };
    timer = setTimeout(() => void tick(), this.pollMs);
    return {
      stop() {
        stopped = true;
        clearTimeout(timer);
        return report;
      },
    };
  }
}

function strip(reading: GpuReading & { note?: string }): GpuReading {
  const { note: _note, ...rest } = reading;
  return rest;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

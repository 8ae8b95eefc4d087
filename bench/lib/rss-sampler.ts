/**
 * Watches another process's memory from outside: VmRSS from /proc/<pid>/status every 50 ms, and
 * VmHWM (the kernel's own peak, which no sample can miss). The peak is reset at the start of each
 * phase by writing 5 to /proc/<pid>/clear_refs where the kernel allows it; where it does not, a
 * phase's peak is its highest sample.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const KiB = 1024;

export interface PhaseMemory {
  /** Highest VmRSS sampled during the phase, bytes. */
  sampledPeakBytes: number;
  /** VmHWM at the end of the phase (peak since the reset), bytes; null when it could not be reset. */
  hwmBytes: number | null;
  /** The larger of the two: the phase's peak RSS. */
  peakBytes: number;
  samples: number;
}

export interface Phase {
  end(): PhaseMemory;
}

export class RssSampler {
  private timer?: NodeJS.Timeout;
  private current: { max: number; samples: number } | null = null;

  constructor(private readonly pid: number, private readonly intervalMs = 50) {}

  start(): void {
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Current VmRSS and VmHWM, bytes. */
  read(): { rss: number; hwm: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * KiB;
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  }

  phase(): Phase {
    const reset = this.resetPeak();
    const state = { max: this.read().rss, samples: 1 };
    this.current = state;
    return {
      end: () => {
        const { rss, hwm } = this.read();
        state.max = Math.max(state.max, rss);
        state.samples++;
        if (this.current === state) this.current = null;
        const hwmBytes = reset ? hwm : null;
        return { sampledPeakBytes: state.max, hwmBytes, peakBytes: Math.max(state.max, hwmBytes ?? 0), samples: state.samples };
      },
    };
  }

  private sample(): void {
    if (!this.current) return;
    try {
      this.current.max = Math.max(this.current.max, this.read().rss);
      this.current.samples++;
    } catch {
      // The process is gone; the phase ends with what was seen.
    }
  }

  private resetPeak(): boolean {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }
}

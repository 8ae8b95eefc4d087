/**
 * What else loaded the host while a benchmark measured. /proc/stat's aggregate line gives the time
 * every CPU spent busy; process.cpuUsage() the time this process (the worker and ONNX Runtime's
 * threads in it) spent; the difference is everybody else. Working in shares of /proc/stat's own
 * total avoids assuming USER_HZ. A benchmark on a shared machine is not wrong, but its numbers are
 * not comparable with a quiet one's: the report marks it noisy instead of passing it off as clean
 * (docs/benchmark-conditions.md).
 */
import { readFileSync } from 'node:fs';
import type { BenchmarkConditions, GpuLoadReading, HostLoad } from '../../core/report';

/** Other processes using more than this many cores on average make a measurement noisy. */
export const NOISY_OTHER_CORES = 0.25;

interface CpuTimes {
  busy: number;
  total: number;
  cores: number;
}

/** The aggregate `cpu` line of /proc/stat: busy = total - idle - iowait, in its own ticks. */
export function parseProcStat(text: string): CpuTimes {
  const lines = text.split('\n');
  const fields = lines[0]?.trim().split(/\s+/) ?? [];
  if (fields[0] !== 'cpu') throw new Error(`Expected /proc/stat to start with an aggregate "cpu" line but received "${lines[0]?.slice(0, 60)}"`);
  const ticks = fields.slice(1).map(Number);
  // user nice system idle iowait irq softirq steal [guest guest_nice, already counted in user/nice]
  const total = ticks.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const cores = lines.filter((l) => /^cpu\d+\s/.test(l)).length;
  return { busy: total - idle, total, cores: Math.max(1, cores) };
}

export interface HostLoadWatch {
  /** Ends the watch: the load over the time since it started, or null where /proc cannot be read. */
  stop(): HostLoad | null;
}

export function watchHostLoad(readProc: (file: string) => string = (file) => readFileSync(file, 'utf8')): HostLoadWatch {
  const read = (): CpuTimes | null => {
    try {
      return parseProcStat(readProc('/proc/stat'));
    } catch {
      return null;
    }
  };
  const start = read();
  const startCpu = process.cpuUsage();
  const startNs = process.hrtime.bigint();
  return {
    stop() {
      const end = read();
      if (!start || !end) return null;
      const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
      const own = process.cpuUsage(startCpu);
      const total = end.total - start.total;
      const busyCores = total > 0 ? ((end.busy - start.busy) / total) * end.cores : 0;
      const ownCores = seconds > 0 ? (own.user + own.system) / 1e6 / seconds : 0;
      let loadAverage1m = 0;
      try {
        loadAverage1m = Number(readProc('/proc/loadavg').split(/\s+/)[0]) || 0;
      } catch {
        // loadavg is context only; the busy shares above decide.
      }
      return { cores: end.cores, busyCores: round(busyCores), otherCores: round(Math.max(0, busyCores - ownCores)), loadAverage1m, seconds: round(seconds) };
    },
  };
}

/** Clean, or noisy with the reasons: other processes on the host above the threshold, or a busy GPU. */
export function judgeConditions(input: { threads: number | null; referenceThreads?: number; host: HostLoad | null; gpu?: GpuLoadReading[] }): BenchmarkConditions {
  const reasons: string[] = [];
  if (input.host && input.host.otherCores > NOISY_OTHER_CORES) {
    reasons.push(`other processes kept ${input.host.otherCores.toFixed(2)} of ${input.host.cores} CPU cores busy (more than ${NOISY_OTHER_CORES}) while measuring`);
  }
  for (const reading of input.gpu ?? []) {
    if (reading.busy) {
      reasons.push(`the GPU idle guard saw ${reading.why ?? 'a busy GPU'} at ${reading.at}`);
      break;
    }
  }
  return {
    threads: input.threads,
    ...(input.referenceThreads !== undefined ? { referenceThreads: input.referenceThreads } : {}),
    host: input.host,
    ...(input.gpu ? { gpu: input.gpu } : {}),
    quality: reasons.length > 0 ? 'noisy' : 'clean',
    reasons,
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

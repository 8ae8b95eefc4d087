/**
 * A short history of each worker's telemetry, for the dashboard's fleet page: a capped Redis list
 * per worker (newest last) that the worker appends to on every heartbeat. It expires on its own
 * shortly after the worker stops beating, like the worker's registration.
 *
 * Call from the worker's heartbeat, next to `WorkerRegistry.beat`:
 *   await pushTelemetry(ctx.redis, ctx.keys, workerId, sample, { ttlMs: heartbeatMs * 3 });
 * with `sample` from `gpuSample(nvmlTelemetry)` on a GPU worker, or `cpuSampler.sample()` on a CPU one.
 */
import os from 'node:os';
import type { Redis } from 'ioredis';
import type { GpuTelemetry } from '../native/types';
import type { RedisKeys } from './redis';

/** Samples kept per worker: 10 minutes at the default 5 s heartbeat. (Default: 120) */
export const TELEMETRY_SAMPLES_KEPT = 120;

export interface TelemetrySample {
  /** When it was measured (ISO 8601). */
  at: string;
  /** What was measured: the worker's GPU, or the host's CPUs. */
  source: 'gpu' | 'cpu';
  /** Busy share of the last interval, 0..100 (GPU: kernels running; CPU: all cores together). */
  utilizationPercent: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  temperatureC?: number | null;
  powerWatts?: number | null;
}

export function telemetryKey(keys: RedisKeys, workerId: string): string {
  return `${keys.worker(workerId)}:telemetry`;
}

export interface PushOptions {
  /** Samples kept (Default: TELEMETRY_SAMPLES_KEPT). */
  keep?: number;
  /** The list expires this long after the last push, in ms (Default: 10 minutes). */
  ttlMs?: number;
}

export async function pushTelemetry(redis: Redis, keys: RedisKeys, workerId: string, sample: TelemetrySample, options: PushOptions = {}): Promise<void> {
  const key = telemetryKey(keys, workerId);
  const keep = options.keep ?? TELEMETRY_SAMPLES_KEPT;
  await redis
    .multi()
    .rpush(key, JSON.stringify(sample))
    .ltrim(key, -keep, -1)
    .pexpire(key, options.ttlMs ?? 10 * 60 * 1000)
    .exec();
}

/** Oldest first; at most `limit` of the newest samples. */
export async function readTelemetry(redis: Redis, keys: RedisKeys, workerId: string, limit = TELEMETRY_SAMPLES_KEPT): Promise<TelemetrySample[]> {
  const items = await redis.lrange(telemetryKey(keys, workerId), -limit, -1);
  return items.map((json) => JSON.parse(json) as TelemetrySample);
}

/** One NVML reading as a sample. */
export function gpuSample(t: GpuTelemetry): TelemetrySample {
  return {
    at: t.at,
    source: 'gpu',
    utilizationPercent: t.utilizationGpu,
    memoryUsedBytes: t.memoryUsedBytes,
    memoryTotalBytes: t.memoryTotalBytes,
    temperatureC: t.temperatureC,
    powerWatts: t.powerWatts,
  };
}

/** CPU utilisation between successive calls (from os.cpus() tick counters) and host memory. */
export class CpuSampler {
  private last = CpuSampler.ticks();

  private static ticks(): { busy: number; total: number } {
    let busy = 0;
    let total = 0;
    for (const cpu of os.cpus()) {
      const t = cpu.times;
      const all = t.user + t.nice + t.sys + t.idle + t.irq;
      total += all;
      busy += all - t.idle;
    }
    return { busy, total };
  }

  sample(): TelemetrySample {
    const now = CpuSampler.ticks();
    const total = now.total - this.last.total;
    const busy = now.busy - this.last.busy;
    this.last = now;
    const totalMem = os.totalmem();
    return {
      at: new Date().toISOString(),
      source: 'cpu',
      utilizationPercent: total > 0 ? Math.round((busy / total) * 1000) / 10 : null,
      memoryUsedBytes: totalMem - os.freemem(),
      memoryTotalBytes: totalMem,
    };
  }
}

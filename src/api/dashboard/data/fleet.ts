/** Every live worker with its hardware, current build and recent telemetry. */
import type { FarmContext } from '../../../context';
import type { BuildRecord } from '../../../state/build-records';
import type { WorkerInfo } from '../../../state/worker-registry';
import { readTelemetry, type TelemetrySample } from '../../../state/worker-telemetry';
import { formatBytes } from '../format';

export interface FleetWorker {
  info: WorkerInfo;
  current: BuildRecord | null;
  telemetry: TelemetrySample[];
}

export async function fleetData(ctx: FarmContext): Promise<FleetWorker[]> {
  const workers = await ctx.workers.live();
  const current = new Map((await ctx.builds.getMany(workers.map((w) => w.currentBuild).filter((id): id is string => Boolean(id)))).map((b) => [b.buildKey, b]));
  return Promise.all(
    workers.map(async (info) => {
      let telemetry = await readTelemetry(ctx.redis, ctx.keys, info.id);
      // Until the heartbeat keeps a history, the latest reading in the registration is all there is.
      if (telemetry.length === 0 && info.telemetry) telemetry = [fromRegistration(info.telemetry, info.lastBeat)];
      return { info, current: info.currentBuild ? (current.get(info.currentBuild) ?? null) : null, telemetry };
    }),
  );
}

function fromRegistration(t: Record<string, unknown>, at: string): TelemetrySample {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    at: typeof t.at === 'string' ? t.at : at,
    source: 'utilizationGpu' in t ? 'gpu' : 'cpu',
    utilizationPercent: num(t.utilizationPercent ?? t.utilizationGpu),
    memoryUsedBytes: num(t.memoryUsedBytes),
    memoryTotalBytes: num(t.memoryTotalBytes),
    temperatureC: num(t.temperatureC),
    powerWatts: num(t.powerWatts),
  };
}

/** Hardware facts as label/value pairs, whatever the worker registered (CPU or GPU, any driver). */
export function hardwareFacts(info: WorkerInfo): { label: string; value: string }[] {
  const h = info.hardware;
  const facts: { label: string; value: string }[] = [];
  const str = (v: unknown) => (v === null || v === undefined || v === '' ? null : Array.isArray(v) ? v.join(' ') : String(v));
  const add = (label: string, ...candidates: unknown[]) => {
    const value = candidates.map(str).find((v) => v !== null);
    if (value) facts.push({ label, value });
  };
  const gpu = (Array.isArray(h.gpus) ? h.gpus[0] : h.gpu) as Record<string, unknown> | undefined;
  add('GPU', h.gpuName, h.name, gpu?.name);
  add('CC', h.cc, h.computeCapability, gpu?.cc);
  const mem = h.memoryTotalBytes ?? gpu?.memoryTotalBytes;
  if (typeof mem === 'number') facts.push({ label: 'GPU memory', value: formatBytes(mem) });
  add('Driver', h.driverVersion, gpu?.driverVersion);
  add('TensorRT', info.toolchains.tensorrt?.startsWith('unavailable') ? null : info.toolchains.tensorrt);
  add('CPU', h.cpuModel);
  add('Cores', h.cores);
  add('ISA', h.arch && h.isa ? `${h.arch} ${h.isa}` : null);
  add('ONNX Runtime', info.toolchains.onnxruntime?.startsWith('unavailable') ? null : info.toolchains.onnxruntime);
  return facts;
}

/**
 * What a GPU worker builds with TensorRT: its trtexec (KILN_TRTEXEC, else the PATH, else
 * /usr/src/tensorrt/bin/trtexec) and its TensorRT version, read from trtexec's own banner, crossed
 * with the GPU NVML found: the CC target, the SKU target, and the hardware-compatible targets the
 * GPU and TensorRT allow (gpuTargets). Without trtexec the GPU is still registered, with no target
 * and the reason.
 */
import { platformOf } from '../../../core/platform';
import { gpuTargets } from '../../../core/tensorrt/gpu-targets';
import type { Capabilities } from '../toolchain';
import { isFound, locateTrtexec, type LocateOptions, type TrtexecFound } from './locate';

/** The GPU a worker builds on: NVML's facts (GpuInfo), or the same facts given by a test. */
export interface WorkerGpu {
  /** NVML's index (for telemetry; trtexec is pinned separately). */
  index: number;
  name: string;
  /** SKU slug, e.g. `nvidia-geforce-rtx-4080`. */
  sku: string;
  /** Compute capability, e.g. `8.9`; null when NVML could not tell. */
  cc: string | null;
  uuid: string | null;
  memoryTotalBytes: number | null;
  driverVersion: string | null;
  cudaDriverVersion?: string | null;
  pciBusId?: string | null;
}

export interface TensorRtDetection {
  capabilities: Capabilities;
  trtexec: TrtexecFound | null;
}

/** The GPU as registered in the worker's hardware facts. */
export function gpuHardware(gpu: WorkerGpu): Record<string, unknown> {
  return {
    gpu: {
      index: gpu.index,
      name: gpu.name,
      sku: gpu.sku,
      cc: gpu.cc,
      platform: platformOf(),
      uuid: gpu.uuid,
      memoryTotalBytes: gpu.memoryTotalBytes,
      driverVersion: gpu.driverVersion,
      cudaDriverVersion: gpu.cudaDriverVersion ?? null,
      pciBusId: gpu.pciBusId ?? null,
    },
  };
}

export async function detectTensorRt(gpu: WorkerGpu, locate: LocateOptions): Promise<TensorRtDetection> {
  const hardware = gpuHardware(gpu);
  const found = await locateTrtexec(locate);
  if (!isFound(found)) {
    return { trtexec: null, capabilities: { toolchain: 'tensorrt', targets: [], hardware, unavailableReason: found.reason } };
  }
  if (!gpu.cc) {
    const reason = `NVML did not report the compute capability of GPU ${gpu.index} (${gpu.name}), so no engine target is known`;
    return { trtexec: found, capabilities: { toolchain: 'tensorrt', version: found.version, targets: [], hardware, unavailableReason: reason } };
  }
  const targets = gpuTargets({ trt: found.version, cc: gpu.cc, sku: gpu.sku, platform: platformOf() });
  return {
    trtexec: found,
    capabilities: {
      toolchain: 'tensorrt',
      version: found.version,
      targets: [targets.cc, targets.sku, ...targets.hwCompat],
      refused: targets.refused,
      hardware: { ...hardware, trtexec: found.path },
    },
  };
}

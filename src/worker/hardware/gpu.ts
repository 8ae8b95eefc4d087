/**
 * The worker's view of its GPUs: what NVML found (or why nothing), which of them `--gpu` selects,
 * and how to pin a process to one.
 */
import { listGpus, NativeAddonError, NvmlError, NvmlUnavailableError, type GpuInfo, type NvmlCallOptions } from '../../native';

export type GpuDetection = { ok: true; gpus: GpuInfo[] } | { ok: false; reason: string };

/**
 * The GPUs of this machine, or why there are none to use: no addon, no driver, an NVML failure,
 * or NVML seeing no GPU. Never rejects for those; a CPU-only machine gets `ok: false`.
 */
export async function detectGpus(options: NvmlCallOptions = {}): Promise<GpuDetection> {
  try {
    const gpus = await listGpus(options);
    if (gpus.length === 0) return { ok: false, reason: 'NVML works but sees no GPU' };
    return { ok: true, gpus };
  } catch (err) {
    if (err instanceof NativeAddonError || err instanceof NvmlUnavailableError || err instanceof NvmlError) {
      return { ok: false, reason: err.message };
    }
    throw err;
  }
}

export class GpuSelectionError extends Error {
  override name = 'GpuSelectionError';
}

/**
 * The GPUs a `--gpu` value names: `all`, or NVML indices and/or UUIDs separated by commas
 * (`0,1`, `GPU-36aa2363-...`). Throws GpuSelectionError naming what is accepted.
 */
export function selectGpus(gpus: GpuInfo[], selection: string): GpuInfo[] {
  const value = selection.trim();
  if (value === 'all') return [...gpus];
  const items = value.split(',').map((item) => item.trim());
  if (value === '' || items.some((item) => item === '')) {
    throw new GpuSelectionError(
      `Expected "all" or GPU indices or UUIDs separated by commas (e.g. 0,1) for --gpu but received "${selection}"`,
    );
  }
  const known = gpus.map((gpu) => String(gpu.index)).join(', ') || 'none';
  const chosen: GpuInfo[] = [];
  for (const item of items) {
    const gpu = /^\d+$/.test(item) ? gpus.find((g) => g.index === Number(item)) : gpus.find((g) => g.uuid === item);
    if (!gpu) {
      throw new GpuSelectionError(`Expected one of the GPUs NVML sees (${known}) for --gpu but received "${item}"`);
    }
    if (!chosen.includes(gpu)) chosen.push(gpu);
  }
  return chosen;
}

/**
 * Environment that pins a child process (trtexec) to one GPU, which it then sees as device 0.
 * By UUID, because CUDA numbers GPUs fastest-first while NVML numbers them in PCI order; the
 * PCI order setting makes the index fallback agree with NVML when no UUID is known.
 */
export function cudaEnvFor(gpu: GpuInfo): { CUDA_VISIBLE_DEVICES: string; CUDA_DEVICE_ORDER: 'PCI_BUS_ID' } {
  return { CUDA_VISIBLE_DEVICES: gpu.uuid ?? String(gpu.index), CUDA_DEVICE_ORDER: 'PCI_BUS_ID' };
}

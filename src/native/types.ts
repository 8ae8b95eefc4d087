/**
 * Public types of Kiln's NVML binding.
 *
 * Glossary:
 * - NVML: NVIDIA's management library (libnvidia-ml.so.1, part of the driver), the library behind
 *   `nvidia-smi`. No CUDA toolkit is needed to use it.
 * - index: NVML's GPU index, in PCI bus order. CUDA numbers GPUs fastest-first unless
 *   CUDA_DEVICE_ORDER=PCI_BUS_ID, so pin a process to a GPU by its `uuid`
 *   (CUDA_VISIBLE_DEVICES=GPU-...), not by index.
 * - CC: CUDA compute capability, `major.minor` (`9.0` for Hopper): what a TensorRT engine is built for.
 * - SKU: the GPU model as a slug of NVML's name (`nvidia-h100-80gb-hbm3`).
 *
 * Fields a driver cannot answer (an older driver, a query unsupported on this GPU) are null.
 */

export interface NvmlOptions {
  /** The NVML library to dlopen: a soname searched like any library, or a path (Default: 'libnvidia-ml.so.1'). */
  library?: string;
}

export interface GpuInfo {
  /** NVML's index (PCI bus order). */
  index: number;
  /** NVML's name, e.g. `NVIDIA H100 80GB HBM3`. */
  name: string;
  /** SKU slug of `name`, e.g. `nvidia-h100-80gb-hbm3`. */
  sku: string;
  /** CUDA compute capability, e.g. `9.0`. */
  cc: string | null;
  memoryTotalBytes: number | null;
  /** e.g. `GPU-36aa2363-923a-fef0-8fbe-922e985aca37`; CUDA_VISIBLE_DEVICES accepts it. */
  uuid: string | null;
  /** PCI device and vendor id as nvidia-smi prints them, e.g. `0x233010DE` (device 0x2330, NVIDIA 0x10DE). */
  pciDeviceId: string | null;
  /** e.g. `00000000:19:00.0`. */
  pciBusId: string | null;
  /** e.g. `580.159.04`. */
  driverVersion: string | null;
  /** The newest CUDA version the driver supports, e.g. `13.0`. */
  cudaDriverVersion: string | null;
}

export interface GpuProcess {
  pid: number;
  /** Null when the driver cannot tell (some containers, Windows WDDM). */
  usedMemoryBytes: number | null;
}

export interface GpuTelemetry {
  index: number;
  /** Percent of the last sample period (1/6 s to 1 s) during which a kernel was running. */
  utilizationGpu: number | null;
  /** Percent of the last sample period during which device memory was read or written. */
  utilizationMemory: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  /**
   * Compute processes on this GPU, this process included if it uses the GPU. Null when NVML
   * cannot list them, which is not the same as none. PIDs are the host's: inside a container
   * they may name processes the container cannot see.
   */
  processes: GpuProcess[] | null;
  temperatureC: number | null;
  smClockMHz: number | null;
  memClockMHz: number | null;
  powerWatts: number | null;
  /** When the reading was taken (ISO 8601). */
  at: string;
}

/** What the compiled addon exports; only src/native calls it, with arguments already validated. */
export interface NvmlAddon {
  listGpus(library: string, callback: (err: RawFailure | null, result?: RawGpuList) => void): void;
  gpuTelemetry(library: string, index: number, callback: (err: RawFailure | null, result?: RawTelemetry) => void): void;
}

/** An error as the addon reports it, before src/native gives it a class. */
export interface RawFailure extends Error {
  kind: 'unavailable' | 'nvml' | 'range';
  nvmlFunction: string | null;
  nvmlReturn: number | null;
  gpuCount: number | null;
}

export interface RawGpu {
  index: number;
  name: string;
  ccMajor: number | null;
  ccMinor: number | null;
  memoryTotalBytes: number | null;
  uuid: string | null;
  pciDeviceId: number | null;
  pciBusId: string | null;
}

export interface RawGpuList {
  gpus: RawGpu[];
  driverVersion: string | null;
  /** e.g. 13000 for 13.0. */
  cudaDriverVersion: number | null;
}

/** What the addon returns: the public reading before power is converted and the time is stamped. */
export type RawTelemetry = Omit<GpuTelemetry, 'powerWatts' | 'at'> & { powerMilliwatts: number | null };

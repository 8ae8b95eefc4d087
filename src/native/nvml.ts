/**
 * GPU discovery and telemetry through NVML. Arguments are validated here, before the addon is
 * called; the addon's own errors become NvmlUnavailableError, NvmlError or RangeError.
 */
import { gpuSkuSlug } from '../core/gpu-sku';
import { NvmlError, NvmlUnavailableError } from './errors';
import { nvmlAddon } from './load-addon';
import { nvmlReturnName } from './nvml-return';
import type { GpuInfo, GpuTelemetry, NvmlAddon, NvmlOptions, RawFailure, RawGpuList, RawTelemetry } from './types';

export const DEFAULT_NVML_LIBRARY = 'libnvidia-ml.so.1';

/** `addon`: an addon loaded from elsewhere (tests, the device probe) instead of the default one. */
export interface NvmlCallOptions extends NvmlOptions {
  addon?: NvmlAddon;
}

/**
 * Every GPU NVML sees. Rejects with NvmlUnavailableError without an NVIDIA driver, with
 * NativeAddonError when the addon was not built.
 */
export async function listGpus(options: NvmlCallOptions = {}): Promise<GpuInfo[]> {
  const library = libraryOf(options);
  const addon = options.addon ?? nvmlAddon();
  const raw = await new Promise<RawGpuList>((resolve, reject) => {
    addon.listGpus(library, (err, result) => (err ? reject(toError(err)) : resolve(result as RawGpuList)));
  });
  return raw.gpus.map((gpu) => ({
    index: gpu.index,
    name: gpu.name,
    sku: gpuSkuSlug(gpu.name),
    cc: gpu.ccMajor === null || gpu.ccMinor === null ? null : `${gpu.ccMajor}.${gpu.ccMinor}`,
    memoryTotalBytes: gpu.memoryTotalBytes,
    uuid: gpu.uuid,
    pciDeviceId: gpu.pciDeviceId === null ? null : formatPciDeviceId(gpu.pciDeviceId),
    pciBusId: gpu.pciBusId,
    driverVersion: raw.driverVersion,
    cudaDriverVersion: raw.cudaDriverVersion === null ? null : formatCudaVersion(raw.cudaDriverVersion),
  }));
}

/** What GPU `index` (NVML's index) is doing now. */
export async function gpuTelemetry(index: number, options: NvmlCallOptions = {}): Promise<GpuTelemetry> {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
    throw new TypeError(`Expected a non-negative integer for index but received ${String(index)} of type ${typeof index}`);
  }
  const library = libraryOf(options);
  const addon = options.addon ?? nvmlAddon();
  const raw = await new Promise<RawTelemetry>((resolve, reject) => {
    addon.gpuTelemetry(library, index, (err, result) =>
      err ? reject(toError(err, index)) : resolve(result as RawTelemetry),
    );
  });
  const { powerMilliwatts, ...readings } = raw;
  return {
    ...readings,
    powerWatts: powerMilliwatts === null ? null : powerMilliwatts / 1000,
    at: new Date().toISOString(),
  };
}

/** 13000 -> `13.0`, 12080 -> `12.8` (NVML encodes major * 1000 + minor * 10). */
export function formatCudaVersion(version: number): string {
  return `${Math.floor(version / 1000)}.${Math.floor((version % 1000) / 10)}`;
}

/** 0x233010de -> `0x233010DE`, as nvidia-smi prints pci.device_id. */
export function formatPciDeviceId(id: number): string {
  return `0x${id.toString(16).toUpperCase().padStart(8, '0')}`;
}

function libraryOf(options: NvmlCallOptions): string {
  const library = options.library ?? DEFAULT_NVML_LIBRARY;
  if (typeof library !== 'string' || library.length === 0 || library.includes('\0')) {
    throw new TypeError(
      `Expected a non-empty string (a library name or path) for library but received ${String(library)} of type ${typeof library}`,
    );
  }
  return library;
}

function toError(raw: RawFailure, index?: number): Error {
  const code = raw.nvmlReturn === null ? null : nvmlReturnName(raw.nvmlReturn);
  if (raw.kind === 'unavailable') {
    return new NvmlUnavailableError(code ? `${raw.message} (${code})` : raw.message, raw.nvmlFunction, code);
  }
  if (raw.kind === 'range') {
    const count = raw.gpuCount ?? 0;
    const seen = count === 0 ? 'NVML sees no GPU' : `an index below ${count}: NVML sees ${count} GPU${count === 1 ? '' : 's'}`;
    return new RangeError(`Expected a GPU index (${seen}) for index but received ${String(index)}`);
  }
  return new NvmlError(`${raw.message} (${code})`, raw.nvmlFunction ?? 'unknown', code ?? 'NVML_ERROR_UNKNOWN');
}

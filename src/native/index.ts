/** Kiln's NVML binding: which NVIDIA GPUs this machine has, and what they are doing. */
export { listGpus, gpuTelemetry, DEFAULT_NVML_LIBRARY, formatCudaVersion, formatPciDeviceId, type NvmlCallOptions } from './nvml';
export { loadAddon, nvmlAddon, defaultAddonCandidates, ADDON_FILE, BUILD_LOG } from './load-addon';
export { NativeAddonError, NvmlUnavailableError, NvmlError, type AddonLoadFailure } from './errors';
export { nvmlReturnName } from './nvml-return';
export type { GpuInfo, GpuTelemetry, GpuProcess, NvmlOptions, NvmlAddon } from './types';

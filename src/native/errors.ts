/** Errors of Kiln's NVML binding; each means one thing a caller can act on. */

export interface AddonLoadFailure {
  path: string;
  reason: string;
}

/** The compiled addon could not be loaded: it was not built, or not for this platform or Node. */
export class NativeAddonError extends Error {
  override name = 'NativeAddonError';
  constructor(
    message: string,
    readonly failures: AddonLoadFailure[],
  ) {
    super(message);
  }
}

/**
 * NVML cannot be used here: no NVIDIA driver (libnvidia-ml.so.1 missing), a library that is not
 * NVML, or nvmlInit failed (e.g. the kernel module is not loaded). A CPU-only machine gets this.
 */
export class NvmlUnavailableError extends Error {
  override name = 'NvmlUnavailableError';
  constructor(
    message: string,
    /** The NVML function that failed, when one did (nvmlInit_v2). */
    readonly nvmlFunction: string | null = null,
    /** Its nvmlReturn_t name, e.g. `NVML_ERROR_DRIVER_NOT_LOADED`. */
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

/** An NVML call that Kiln cannot do without failed, e.g. a GPU that fell off the bus. */
export class NvmlError extends Error {
  override name = 'NvmlError';
  constructor(
    message: string,
    readonly nvmlFunction: string,
    /** nvmlReturn_t name, e.g. `NVML_ERROR_GPU_IS_LOST`. */
    readonly code: string,
  ) {
    super(message);
  }
}

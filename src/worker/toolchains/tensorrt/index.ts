/**
 * The GPU toolchain: TensorRT engines built, validated and measured by trtexec on one GPU, one
 * toolchain per GPU worker. Unlike the CPU toolchain it is created with what it runs on (the GPU
 * NVML found, the store for the fleet timing caches, how trtexec is pinned to the GPU), so it is a
 * factory rather than a constant.
 */
import { hostname } from 'node:os';
import type { GpuTelemetry } from '../../../native/types';
import { gpuSample, type TelemetrySample } from '../../../state/worker-telemetry';
import type { ArtifactStore } from '../../../storage/artifact-store';
import type { IdleGuard } from '../../gpu/idle-guard';
import type { Toolchain } from '../toolchain';
import { benchmarkTensorRt } from './benchmark';
import { buildTensorRt, type TensorRtBuilt } from './build';
import { detectTensorRt, type WorkerGpu } from './detect';
import type { LocateOptions } from './locate';
import type { TensorRtSetup } from './setup';
import { validateTensorRt } from './validate';

export interface TensorRtToolchainOptions {
  /** Where the fleet timing caches live (the worker's store). */
  store: ArtifactStore;
  /** The GPU this toolchain builds on. */
  gpu: WorkerGpu;
  /** An explicit trtexec, as KILN_TRTEXEC; when given it is the only one tried. (Default: none) */
  trtexec?: string;
  /** The PATH searched for trtexec when no explicit one is given. (Default: none) */
  searchPath?: string;
  /** Tried after the PATH. (Default: ['/usr/src/tensorrt/bin/trtexec']) */
  fallbackPaths?: string[];
  /** trtexec's --device (0 when CUDA_VISIBLE_DEVICES pins the GPU). (Default: none, trtexec's 0) */
  device?: number;
  /** Added to trtexec's environment, e.g. cudaEnvFor(gpu). (Default: none) */
  env?: Record<string, string>;
  /** Checks the GPU is idle before and during builds. (Default: none, no check) */
  idleGuard?: IdleGuard;
  /** NVML reading of the GPU for heartbeats. (Default: none, no telemetry) */
  telemetry?: () => Promise<GpuTelemetry>;
  /** Between SIGTERM and SIGKILL when a build is cancelled, in ms. (Default: 5000) */
  killGraceMs?: number;
  /** Who builds, in the timing-cache history. (Default: the host name and the GPU's name) */
  workerLabel?: string;
}

export function createTensorRtToolchain(options: TensorRtToolchainOptions): Toolchain<TensorRtBuilt> {
  let setup: TensorRtSetup | null = null;
  let unavailable = 'detect() has not run';
  const ready = (): TensorRtSetup => {
    if (!setup) throw new Error(`TensorRT is not available on this worker: ${unavailable}`);
    return setup;
  };
  const locate: LocateOptions = { explicitPath: options.trtexec, searchPath: options.searchPath, fallbackPaths: options.fallbackPaths };
  return {
    name: 'tensorrt',
    async detect() {
      const detection = await detectTensorRt(options.gpu, locate);
      const { gpu } = options;
      if (detection.trtexec && gpu.cc) {
        setup = {
          store: options.store,
          trtexec: detection.trtexec,
          gpu: { ...gpu, cc: gpu.cc },
          device: options.device,
          env: options.env,
          idleGuard: options.idleGuard,
          killGraceMs: options.killGraceMs ?? 5000,
          workerLabel: options.workerLabel ?? `${hostname()} ${gpu.name}`,
        };
      } else {
        setup = null;
        unavailable = detection.capabilities.unavailableReason ?? 'unknown';
      }
      return detection.capabilities;
    },
    build: async (ctx) => buildTensorRt(ctx, ready()),
    validate: async (ctx, built) => validateTensorRt(ctx, built, ready()),
    benchmark: async (ctx, built) => benchmarkTensorRt(ctx, built, ready()),
    ...(options.telemetry ? { telemetry: async (): Promise<TelemetrySample> => gpuSample(await options.telemetry!()) } : {}),
  };
}

export { benchmarkTensorRt } from './benchmark';
export { buildTensorRt, ENGINE_FILE, LAYER_INFO_FILE, TIMING_CACHE_FILE, type TensorRtBuilt } from './build';
export { detectTensorRt, gpuHardware, type TensorRtDetection, type WorkerGpu } from './detect';
export { validateTensorRt, REFERENCE_NAME } from './validate';

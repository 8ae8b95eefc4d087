/**
 * One GPU worker: a KilnWorker whose only toolchain is TensorRT on one GPU. trtexec is pinned to
 * that GPU by CUDA_VISIBLE_DEVICES=<uuid> (so it sees the GPU as CUDA device 0, whatever order CUDA
 * would number the machine's GPUs in) and told `--device=0`; NVML, which ignores
 * CUDA_VISIBLE_DEVICES, is asked about the GPU by its NVML index for telemetry and the idle guard.
 *
 * A GPU worker does not build CPU targets: a machine with GPUs runs one `kiln worker` for its CPU
 * next to `kiln worker --gpu all`, so CPU builds never compete with a GPU build for the worker's
 * attention (GPU builds still use the CPU for validation against ONNX Runtime).
 */
import os from 'node:os';
import type { KilnConfig } from '../../config';
import type { FarmContext } from '../../context';
import { gpuTelemetry } from '../../native';
import type { GpuInfo } from '../../native/types';
import { cudaEnvFor } from '../hardware/gpu';
import { KilnWorker } from '../kiln-worker';
import { createTensorRtToolchain } from '../toolchains/tensorrt';
import { IdleGuard } from './idle-guard';

/** `<worker id or host>-gpu<index>`: one id per GPU, stable across restarts. */
export function gpuWorkerId(config: Pick<KilnConfig, 'workerId'>, gpu: Pick<GpuInfo, 'index'>, base = config.workerId ?? os.hostname()): string {
  return `${base}-gpu${gpu.index}`;
}

export function createGpuWorker(config: KilnConfig, ctx: FarmContext, gpu: GpuInfo): KilnWorker {
  const telemetry = () => gpuTelemetry(gpu.index, { library: config.nvmlLibrary });
  const toolchain = createTensorRtToolchain({
    store: ctx.store,
    gpu,
    trtexec: config.trtexec,
    searchPath: config.searchPath,
    device: 0,
    env: cudaEnvFor(gpu),
    idleGuard: new IdleGuard({ ...config.gpuIdle, telemetry, ownPids: [process.pid] }),
    telemetry,
    workerLabel: config.workerId ?? `${os.hostname()} GPU ${gpu.index} (${gpu.name})`,
  });
  // Heartbeats carry the toolchain's GPU reading, even when no target is served (no trtexec).
  return new KilnWorker(config, ctx, { toolchains: [toolchain] });
}

/**
 * Every toolchain Kiln knows. A worker detects each and serves the targets of those it has: a CPU
 * worker runs allToolchains() (ONNX Runtime); a GPU worker runs one TensorRT toolchain made for its
 * GPU by createTensorRtToolchain (src/worker/gpu/gpu-worker.ts).
 */
import { createOnnxRuntimeToolchain } from './onnxruntime';
import type { Toolchain } from './toolchain';

/** Fresh instances: each worker owns its toolchains' long-lived processes. */
export function allToolchains(): Toolchain[] {
  return [createOnnxRuntimeToolchain()];
}

export { createTensorRtToolchain, type TensorRtToolchainOptions } from './tensorrt';
export type { Toolchain } from './toolchain';

/**
 * Every toolchain Kiln knows. A worker detects each and serves the targets of those it has: a CPU
 * worker runs allToolchains() (ONNX Runtime); a GPU worker runs one TensorRT toolchain made for its
 * GPU by createTensorRtToolchain (src/worker/gpu/gpu-worker.ts).
 */
import { onnxRuntimeToolchain } from './onnxruntime';
import type { Toolchain } from './toolchain';

export function allToolchains(): Toolchain[] {
  return [onnxRuntimeToolchain];
}

export { createTensorRtToolchain, type TensorRtToolchainOptions } from './tensorrt';
export type { Toolchain } from './toolchain';

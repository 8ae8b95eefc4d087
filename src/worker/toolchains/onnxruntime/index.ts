/** The CPU toolchain: ONNX Runtime's own graph optimiser, validated and measured with ONNX Runtime. */
import type { Toolchain } from '../toolchain';
import { benchmarkOnnxRuntime } from './benchmark';
import { buildOnnxRuntime } from './build';
import { detectOnnxRuntime } from './detect';
import { validateOnnxRuntime } from './validate';

export const onnxRuntimeToolchain: Toolchain = {
  name: 'onnxruntime',
  detect: () => detectOnnxRuntime(),
  build: buildOnnxRuntime,
  validate: validateOnnxRuntime,
  benchmark: benchmarkOnnxRuntime,
};

export { batchSizes, benchmarkOnnxRuntime } from './benchmark';
export { buildOnnxRuntime } from './build';
export { detectOnnxRuntime, localTargetKey, targetFor } from './detect';
export { validateOnnxRuntime } from './validate';
export { OPTIMIZED_MODEL_FILE, REFERENCE_NAME, onnxRuntimeOptions } from './options';
export { onnxRuntimeVersion } from './version';

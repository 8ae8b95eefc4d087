/** The CPU toolchain: ONNX Runtime's own graph optimiser, validated and measured with ONNX Runtime. */
import type { Toolchain } from '../toolchain';
import { benchmarkOnnxRuntime } from './benchmark';
import { buildOnnxRuntime } from './build';
import { detectOnnxRuntime } from './detect';
import { OptimizerProcess } from './optimizer-process';
import { validateOnnxRuntime } from './validate';

/** One per worker: it owns the worker's optimiser process, ended by close(). */
export function createOnnxRuntimeToolchain(): Toolchain {
  const optimizer = new OptimizerProcess();
  return {
    name: 'onnxruntime',
    detect: () => detectOnnxRuntime(),
    build: (ctx) => buildOnnxRuntime(ctx, optimizer),
    validate: validateOnnxRuntime,
    benchmark: benchmarkOnnxRuntime,
    close: () => optimizer.close(),
  };
}

/** A shared instance for code that builds outside a worker (tests); its idle child never holds the process open. */
export const onnxRuntimeToolchain: Toolchain = createOnnxRuntimeToolchain();

export { batchSizes, benchmarkOnnxRuntime } from './benchmark';
export { buildOnnxRuntime } from './build';
export { OptimizerProcess, RECYCLE_AFTER_BUILDS } from './optimizer-process';
export { detectOnnxRuntime, localTargetKey } from './detect';
export { validateOnnxRuntime } from './validate';
export { OPTIMIZED_MODEL_FILE, REFERENCE_NAME, onnxRuntimeOptions } from './options';

/**
 * The ONNX Runtime section of a build spec's options. A spec made by makeBuildSpec from parsed
 * options always has it; a hand-built spec without it gets the schema's defaults.
 */
import type { BuildSpec } from '../../../core/build-spec';
import { OnnxRuntimeOptionsSchema } from '../../../core/options';

export type OnnxRuntimeOptions = ReturnType<typeof OnnxRuntimeOptionsSchema.parse>;

export function onnxRuntimeOptions(spec: BuildSpec): OnnxRuntimeOptions {
  return spec.options.onnxruntime ?? OnnxRuntimeOptionsSchema.parse({});
}

/** File name of the built artifact inside the work dir and the artifact set. */
export const OPTIMIZED_MODEL_FILE = 'model.optimized.onnx';

/** What the validation report names as its reference. */
export const REFERENCE_NAME = 'onnxruntime-cpu (optimizations disabled)';

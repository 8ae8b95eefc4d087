/**
 * Shapes for a TensorRT build and the runs on its engine.
 *
 * An engine accepts, per dynamic input, the shapes between its optimization profile's min and max
 * and is tuned for opt. When a request names no profile, Kiln derives one from the model and the
 * options, so that validation and the benchmark can run on what was built:
 * - non-batch symbolic dims: min = opt = max = options.shapes (as for every toolchain);
 * - a dynamic batch dim: min 1, opt = the batch of options.shapes (else 1), max =
 *   options.benchmark.maxBatch (at least opt), so the benchmark can measure every batch size it
 *   is asked to.
 * The validation runs at options.shapes (batch 1 by default), moved to the profile's opt shape
 * when a user-given profile does not accept it; the benchmark runs at batch 1, 2, 4, ... up to the
 * profile's largest batch, capped by options.benchmark.maxBatch.
 */
import type { ModelInfo, TensorInfo } from '../../../core/onnx/model-info';
import type { BuildOptions } from '../../../core/options';
import { batchInfo, isSymbolic, resolveShapes, type Shapes } from '../../shapes';
import { BuildInputError } from '../toolchain';
import type { ShapeProfile } from '../../../core/tensorrt/options';

type Model = Pick<ModelInfo, 'inputs'>;
type Options = Pick<BuildOptions, 'shapes' | 'benchmark' | 'validation'> & { tensorrt: { profiles?: ShapeProfile[] } };

export function isDynamic(input: TensorInfo): boolean {
  return input.dims.some(isSymbolic);
}

/** The profiles to build with: the request's, else one derived as above; none for a static model. */
export function buildProfiles(model: Model, options: Options): ShapeProfile[] | undefined {
  if (options.tensorrt.profiles) {
    checkProfileInputs(model, options.tensorrt.profiles);
    return options.tensorrt.profiles;
  }
  const dynamic = model.inputs.filter(isDynamic);
  if (dynamic.length === 0) return undefined;
  const batch = batchInfo(model);
  const opt = resolveShapes(model, options.shapes);
  let min = opt;
  let max = opt;
  if (batch.dynamic) {
    const optBatch = opt[model.inputs[0].name][0];
    min = resolveShapes(model, options.shapes, { batch: 1 });
    max = resolveShapes(model, options.shapes, { batch: Math.max(options.benchmark.maxBatch, optBatch) });
  }
  return [Object.fromEntries(dynamic.map((input) => [input.name, { min: min[input.name], opt: opt[input.name], max: max[input.name] }]))];
}

function checkProfileInputs(model: Model, profiles: ShapeProfile[]): void {
  const inputs = new Map(model.inputs.map((input) => [input.name, input]));
  profiles.forEach((profile, i) => {
    for (const [name, range] of Object.entries(profile)) {
      const input = inputs.get(name);
      if (!input) {
        throw new BuildInputError(
          `options.tensorrt.profiles[${i}] names input "${name}", which the model does not have (its inputs: ${[...inputs.keys()].map((n) => `"${n}"`).join(', ')})`,
        );
      }
      if (range.min.length !== input.dims.length) {
        throw new BuildInputError(`Expected ${input.dims.length} dims for input "${name}" in options.tensorrt.profiles[${i}] but received ${range.min.length}`);
      }
    }
  });
}

/** Whether `dims` lies within the profile's range for `name` (an input the profile leaves out always does). */
function accepts(profile: ShapeProfile | undefined, name: string, dims: number[]): boolean {
  const range = profile?.[name];
  if (!range) return true;
  return dims.length === range.min.length && dims.every((d, i) => d >= range.min[i] && d <= range.max[i]);
}

/**
 * The shapes validation runs at: options.shapes and the user's tensors, the profile's opt shapes
 * for inputs they leave out, then each input moved to opt if the profile does not accept it.
 */
export function validationShapesFor(model: Model, options: Options, profile: ShapeProfile | undefined): Shapes {
  const given: Shapes = {};
  const sources: Record<string, string> = {};
  for (const [name, range] of Object.entries(profile ?? {})) {
    given[name] = range.opt;
    sources[name] = 'options.tensorrt.profiles[0]';
  }
  for (const [name, tensor] of Object.entries(options.validation.inputs ?? {})) {
    given[name] = [...tensor.dims];
    sources[name] = `options.validation.inputs["${name}"].dims`;
  }
  for (const [name, shape] of Object.entries(options.shapes ?? {})) {
    given[name] = shape;
    delete sources[name];
  }
  const shapes = resolveShapes(model, given, { sources });
  for (const name of Object.keys(shapes)) {
    if (!accepts(profile, name, shapes[name])) shapes[name] = [...profile![name].opt];
  }
  return shapes;
}

/** Batch sizes to measure: 1, 2, 4, ... within the profile's batch range, up to options.benchmark.maxBatch. */
export function benchmarkBatches(model: Model, options: Options, profile: ShapeProfile | undefined): { dynamic: boolean; batches: number[] } {
  const batch = batchInfo(model);
  const first = model.inputs[0];
  const range = first ? profile?.[first.name] : undefined;
  if (!batch.dynamic || !range) return { dynamic: false, batches: [batch.fixedBatch] };
  const low = range.min[0];
  const high = Math.min(range.max[0], Math.max(options.benchmark.maxBatch, low));
  const batches = new Set<number>([low]);
  for (let b = 1; b < high; b *= 2) if (b > low) batches.add(b);
  batches.add(high);
  return { dynamic: high > low, batches: [...batches].sort((a, b) => a - b) };
}

/** The shapes of a benchmark run at `batch`: every input at its opt shape with the batch dim set. */
export function benchmarkShapes(model: Model, options: Options, profile: ShapeProfile | undefined, batch: number, dynamic: boolean): Shapes {
  const base = validationShapesFor(model, { ...options, validation: { ...options.validation, inputs: undefined } }, profile);
  if (!dynamic) return base;
  return Object.fromEntries(
    model.inputs.map((input) => [input.name, isSymbolic(input.dims[0]) ? [batch, ...base[input.name].slice(1)] : base[input.name]]),
  );
}

/** Only the dynamic inputs' shapes: what trtexec's --shapes takes. */
export function dynamicShapes(model: Model, shapes: Shapes): Shapes {
  return Object.fromEntries(model.inputs.filter(isDynamic).map((input) => [input.name, shapes[input.name]]));
}

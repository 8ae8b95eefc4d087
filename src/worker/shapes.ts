/**
 * Concrete input shapes for running a model: validation and benchmarks need a number for every
 * dim. A leading symbolic (or unnamed) dim is the batch dim: it defaults to 1 and the benchmark
 * varies it. Every other symbolic dim comes from `options.shapes`; a dim name given for one input
 * also fills the same name in the others (BERT's `input_ids` and `attention_mask` share `seq`).
 */
import type { Dim, ModelInfo, TensorInfo } from '../core/onnx/model-info';
import { BuildInputError } from './toolchains/toolchain';

export type Shapes = Record<string, number[]>;

export interface ResolveShapesOptions {
  /** Replaces every symbolic leading dim (the batch dim), even one given in `shapes`. */
  batch?: number;
  /** Where each given shape came from, for error messages (Default: options.shapes). */
  sources?: Record<string, string>;
}

export interface BatchInfo {
  /** True when every input has a symbolic (or unnamed) leading dim of one name. */
  dynamic: boolean;
  /** That dim's name; null when unnamed or not dynamic. */
  dimName: string | null;
  /** The model's own batch size when not dynamic: the inputs' shared fixed leading dim, else 1. */
  fixedBatch: number;
}

/** Example value shown for a symbolic dim in error messages. */
const EXAMPLE_DIM = 128;

export function isSymbolic(dim: Dim): dim is string | null {
  return typeof dim !== 'number';
}

export function batchInfo(model: Pick<ModelInfo, 'inputs'>): BatchInfo {
  const leading = model.inputs.map((input) => (input.dims.length > 0 ? input.dims[0] : undefined));
  const symbolic = leading.length > 0 && leading.every((dim) => dim !== undefined && isSymbolic(dim));
  if (symbolic) {
    const names = new Set(leading.filter((dim): dim is string => typeof dim === 'string'));
    if (names.size <= 1) return { dynamic: true, dimName: names.size === 1 ? [...names][0] : null, fixedBatch: 1 };
  }
  const fixed = new Set(leading.filter((dim): dim is number => typeof dim === 'number'));
  return { dynamic: false, dimName: null, fixedBatch: fixed.size === 1 ? [...fixed][0] : 1 };
}

/**
 * Resolves one concrete shape per model input. Throws BuildInputError naming every input whose
 * dims cannot be resolved, and for given shapes that name no input, have the wrong rank, contradict
 * a fixed dim, or give one dim name two values.
 */
export function resolveShapes(
  model: Pick<ModelInfo, 'inputs'>,
  given: Shapes | undefined = {},
  options: ResolveShapesOptions = {},
): Shapes {
  const inputs = new Map(model.inputs.map((input) => [input.name, input]));
  const { batch } = options;
  const sourceOf = (name: string) => options.sources?.[name] ?? 'options.shapes';
  if (batch !== undefined && !(Number.isInteger(batch) && batch > 0)) {
    throw new BuildInputError(`Expected a positive integer for batch but received ${batch}`);
  }

  for (const [name, shape] of Object.entries(given)) {
    const input = inputs.get(name);
    if (!input) {
      const known = model.inputs.map((i) => `"${i.name}"`).join(', ') || 'none';
      throw new BuildInputError(`${sourceOf(name)} names input "${name}", which the model does not have (its inputs: ${known})`);
    }
    checkGivenShape(input, shape, sourceOf(name));
  }

  const named = namedDimValues(model.inputs, given, batch, sourceOf);
  const shapes: Shapes = {};
  const unresolved: string[] = [];
  for (const input of model.inputs) {
    const shape = resolveOne(input, given[input.name], named, batch);
    if (shape) shapes[input.name] = shape;
    else unresolved.push(describeUnresolved(input, named, batch));
  }
  if (unresolved.length > 0) throw new BuildInputError(unresolved.join('; '));
  return shapes;
}

function checkGivenShape(input: TensorInfo, shape: number[], source: string): void {
  if (shape.length !== input.dims.length) {
    throw new BuildInputError(
      `Expected ${input.dims.length} dims for input "${input.name}" ${formatDims(input.dims)} but ${source} gives ` +
        `${shape.length}: [${shape.join(', ')}]`,
    );
  }
  shape.forEach((value, i) => {
    const dim = input.dims[i];
    if (!Number.isInteger(value) || value <= 0) {
      throw new BuildInputError(`Expected a positive integer for dim ${i} of input "${input.name}" but received ${value}`);
    }
    if (typeof dim === 'number' && dim !== value) {
      throw new BuildInputError(
        `Expected ${dim} for dim ${i} of input "${input.name}" ${formatDims(input.dims)} (fixed in the model) but ${source} gives ${value}`,
      );
    }
  });
}

/** Values of named dims from the given shapes; one name with two values is an error. */
function namedDimValues(
  inputs: TensorInfo[],
  given: Shapes,
  batch: number | undefined,
  sourceOf: (name: string) => string,
): Map<string, number> {
  const values = new Map<string, number>();
  const origin = new Map<string, string>();
  const leadingNames = new Set(
    inputs.map((input) => input.dims[0]).filter((dim): dim is string => typeof dim === 'string'),
  );
  if (batch !== undefined) for (const name of leadingNames) values.set(name, batch);
  for (const input of inputs) {
    const shape = given[input.name];
    if (!shape) continue;
    input.dims.forEach((dim, i) => {
      if (typeof dim !== 'string') return;
      // An explicit batch overrides the batch value given in shapes, so skip the batch name then.
      if (batch !== undefined && leadingNames.has(dim)) return;
      const previous = values.get(dim);
      if (previous !== undefined && previous !== shape[i]) {
        throw new BuildInputError(
          `Dim "${dim}" is ${previous} in ${sourceOf(origin.get(dim)!)} for input "${origin.get(dim)}" but ${shape[i]} in ` +
            `${sourceOf(input.name)} for input "${input.name}"; one dim name must have one value`,
        );
      }
      values.set(dim, shape[i]);
      origin.set(dim, input.name);
    });
  }
  // The batch dim defaults to 1, wherever its name appears.
  for (const name of leadingNames) if (!values.has(name)) values.set(name, 1);
  return values;
}

function resolveOne(
  input: TensorInfo,
  shape: number[] | undefined,
  named: Map<string, number>,
  batch: number | undefined,
): number[] | null {
  const out: number[] = [];
  for (let i = 0; i < input.dims.length; i++) {
    const dim = input.dims[i];
    if (typeof dim === 'number') out.push(dim);
    else if (i === 0 && batch !== undefined) out.push(batch);
    else if (shape) out.push(shape[i]);
    else if (typeof dim === 'string' && named.has(dim)) out.push(named.get(dim)!);
    else if (i === 0) out.push(1);
    else return null;
  }
  return out;
}

function describeUnresolved(input: TensorInfo, named: Map<string, number>, batch: number | undefined): string {
  const missing = input.dims
    .map((dim, i) => ({ dim, i }))
    .filter(({ dim, i }) => i > 0 && isSymbolic(dim) && !(typeof dim === 'string' && named.has(dim)))
    .map(({ dim, i }) => (dim === null ? `dim ${i} (unnamed)` : dim));
  const example = input.dims.map((dim, i) => {
    if (typeof dim === 'number') return dim;
    if (i === 0) return batch ?? 1;
    if (typeof dim === 'string' && named.has(dim)) return named.get(dim)!;
    return EXAMPLE_DIM;
  });
  // The CLI's flag first (what most people type), then the API's field.
  return (
    `input "${input.name}" ${formatDims(input.dims)} has symbolic dims [${missing.join(', ')}]: give its shape, e.g. ` +
    `--shapes ${shellWord(`${input.name}=${example.join('x')}`)} (options.shapes: { "${input.name}": [${example.join(', ')}] })`
  );
}

/** A word a shell passes through unchanged: quoted when it holds anything but safe characters. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_.:/=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export function formatDims(dims: Dim[]): string {
  return `[${dims.map((dim) => (dim === null ? '?' : String(dim))).join(', ')}]`;
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((product, dim) => product * dim, 1);
}

/**
 * The inputs a validation (and a benchmark) runs on: seeded pseudo-random tensors, or the user's
 * own. The same seed gives the same bytes on every machine and every toolchain, so a reference and
 * a candidate, or two builds of one spec, see identical inputs.
 *
 * Each input draws from its own stream, seeded by (seed, input name), so adding an input to a model
 * does not change the values of the others.
 * - floats: uniform in [0, 1), or in options.validation.inputRanges[name] when given;
 * - integers: uniform integers in [min, max) from inputRanges[name] (Default: [0, 10));
 * - bool: true or false with equal odds.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import type { ModelInfo } from '../../core/onnx/model-info';
import type { TensorValues } from '../../core/options';
import { elementCount, type Shapes } from '../shapes';
import { BuildInputError } from '../toolchains/toolchain';
import { elementTypeOf, writeNumber, type ElementType, type TypedArray } from './element-types';

export interface HostTensor {
  name: string;
  /** ONNX element type name: float, float16, int64, bool, ... */
  type: string;
  dims: number[];
  /** float16 as IEEE half bits; bool as 0/1 bytes; (u)int64 as bigints. */
  data: TypedArray;
  source: 'seeded' | 'user';
}

export interface InputOptions {
  seed: number;
  inputRanges?: Record<string, [number, number]>;
  inputs?: Record<string, TensorValues>;
}

export const DEFAULT_INT_RANGE: [number, number] = [0, 10];
export const DEFAULT_FLOAT_RANGE: [number, number] = [0, 1];
/** Significand bits per float type: u in [0, 1) on that grid stays below 1 after rounding. */
const FLOAT_STEP_BITS: Record<string, number> = { float: 24, float16: 11, double: 32 };
/** 2^28 elements (1 GiB of float32) per input: beyond that a worker is better off failing clearly. */
export const MAX_INPUT_ELEMENTS = 2 ** 28;

/** One tensor per model input, in the model's input order. */
export function makeInputs(model: Pick<ModelInfo, 'inputs'>, shapes: Shapes, options: InputOptions): Record<string, HostTensor> {
  const names = model.inputs.map((input) => input.name);
  checkNamesExist(names, options.inputRanges, 'options.validation.inputRanges');
  checkNamesExist(names, options.inputs, 'options.validation.inputs');

  const out: Record<string, HostTensor> = {};
  for (const input of model.inputs) {
    const dims = shapes[input.name];
    if (!dims) throw new Error(`No shape was resolved for input "${input.name}"`);
    const type = elementTypeOf(input.elementType, `input "${input.name}"`);
    const count = elementCount(dims);
    if (count > MAX_INPUT_ELEMENTS) {
      throw new BuildInputError(
        `Expected at most ${MAX_INPUT_ELEMENTS} elements for input "${input.name}" but its shape [${dims.join(', ')}] has ${count}; ` +
          'give smaller shapes in options.shapes (or a smaller options.benchmark.maxBatch)',
      );
    }
    const given = options.inputs?.[input.name];
    out[input.name] = given
      ? userTensor(input.name, type, dims, given)
      : seededTensor(input.name, type, dims, options.seed, options.inputRanges?.[input.name]);
  }
  return out;
}

export function seededTensor(
  name: string,
  type: ElementType,
  dims: number[],
  seed: number,
  range?: [number, number],
): HostTensor {
  const count = elementCount(dims);
  const data = type.create(count);
  const next = mulberry32((seed ^ fnv1a(name)) >>> 0);
  if (type.kind === 'bool') {
    if (range) throw new BuildInputError(`options.validation.inputRanges does not apply to bool input "${name}"`);
    for (let i = 0; i < count; i++) data[i] = next() < 0.5 ? 1 : 0;
  } else {
    const [min, max] = checkRange(name, type, range ?? (type.kind === 'int' ? DEFAULT_INT_RANGE : DEFAULT_FLOAT_RANGE));
    const width = max - min;
    // Quantise u to the type's precision, so rounding to float32 (or half) never turns it into 1.
    const steps = 2 ** (FLOAT_STEP_BITS[type.name] ?? 32);
    for (let i = 0; i < count; i++) {
      const u = next();
      writeNumber(type, data, i, type.kind === 'int' ? min + Math.floor(u * width) : min + (Math.floor(u * steps) / steps) * width);
    }
  }
  return { name, type: type.name, dims: [...dims], data, source: 'seeded' };
}

function checkRange(name: string, type: ElementType, range: [number, number]): [number, number] {
  const [min, max] = range;
  const shown = `[${min}, ${max})`;
  if (!(min < max)) {
    throw new BuildInputError(`Expected min < max in options.validation.inputRanges for input "${name}" but received ${shown}`);
  }
  if (type.kind === 'int') {
    if (!Number.isInteger(min) || !Number.isInteger(max)) {
      throw new BuildInputError(`Expected integer bounds in options.validation.inputRanges for ${type.name} input "${name}" but received ${shown}`);
    }
    if (min < type.min || max - 1 > type.max) {
      throw new BuildInputError(
        `Expected a range within [${type.min}, ${type.max + 1}) for ${type.name} input "${name}" but received ${shown}`,
      );
    }
  } else if (min < type.min || max > type.max) {
    throw new BuildInputError(`Expected a range within [${type.min}, ${type.max}] for ${type.name} input "${name}" but received ${shown}`);
  }
  return [min, max];
}

function userTensor(name: string, type: ElementType, dims: number[], given: TensorValues): HostTensor {
  const what = `options.validation.inputs["${name}"]`;
  if (given.dims.length !== dims.length || given.dims.some((d, i) => d !== dims[i])) {
    throw new BuildInputError(
      `Expected dims [${dims.join(', ')}] for ${what} (the input's resolved shape; set options.shapes to change it) ` +
        `but received [${given.dims.join(', ')}]`,
    );
  }
  const count = elementCount(dims);
  if (given.data.length !== count) {
    throw new BuildInputError(`Expected ${count} values for ${what} (dims [${dims.join(', ')}]) but received ${given.data.length}`);
  }
  const data = type.create(count);
  for (let i = 0; i < count; i++) {
    const value = given.data[i];
    const ok =
      Number.isFinite(value) &&
      value >= type.min &&
      value <= type.max &&
      (type.kind === 'float' || Number.isInteger(value));
    if (!ok) {
      const accepted = type.kind === 'float' ? `a finite number within ±${type.max}` : `an integer in [${type.min}, ${type.max}]`;
      throw new BuildInputError(`Expected ${accepted} for ${type.name} element ${i} of ${what} but received ${value}`);
    }
    writeNumber(type, data, i, value);
  }
  return { name, type: type.name, dims: [...dims], data, source: 'user' };
}

function checkNamesExist(names: string[], record: Record<string, unknown> | undefined, option: string): void {
  for (const key of Object.keys(record ?? {})) {
    if (!names.includes(key)) {
      throw new BuildInputError(
        `${option} names input "${key}", which the model does not have (its inputs: ${names.map((n) => `"${n}"`).join(', ') || 'none'})`,
      );
    }
  }
}

/**
 * Writes a tensor's elements as raw little-endian bytes with no header: the format of trtexec's
 * `--loadInputs=name:file`.
 */
export async function writeRawTensor(path: string, tensor: Pick<HostTensor, 'data'>): Promise<void> {
  const { data } = tensor;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  await writeFile(path, os.endianness() === 'LE' ? bytes : swapBytes(bytes, data.BYTES_PER_ELEMENT));
}

function swapBytes(bytes: Buffer, width: number): Buffer {
  const out = Buffer.from(bytes);
  if (width === 2) out.swap16();
  else if (width === 4) out.swap32();
  else if (width === 8) out.swap64();
  return out;
}

/** mulberry32: a tiny 32-bit PRNG with a full 2^32 period; plenty for test inputs, and easy to port. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the name's UTF-16 code units: mixes the input name into its stream's seed. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

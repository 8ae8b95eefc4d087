/**
 * ONNX element types as host memory: which typed array holds them, how wide they are and which
 * values they can take. Toolchain independent; a toolchain maps these names to its own tensor
 * types.
 */
import { BuildInputError } from '../toolchains/toolchain';

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export type ElementKind = 'float' | 'int' | 'bool';

export interface ElementType {
  /** ONNX name, as in ModelInfo: float, float16, double, int64, bool, ... */
  name: string;
  kind: ElementKind;
  bytes: number;
  /** Smallest and largest value; for float16 the typed array holds IEEE half bits. */
  min: number;
  max: number;
  create(length: number): TypedArray;
}

const int = (name: string, bytes: number, min: number, max: number, create: (n: number) => TypedArray): ElementType => ({
  name,
  kind: 'int',
  bytes,
  min,
  max,
  create,
});

export const ELEMENT_TYPES: Record<string, ElementType> = {
  float: { name: 'float', kind: 'float', bytes: 4, min: -3.4028234663852886e38, max: 3.4028234663852886e38, create: (n) => new Float32Array(n) },
  double: { name: 'double', kind: 'float', bytes: 8, min: -Number.MAX_VALUE, max: Number.MAX_VALUE, create: (n) => new Float64Array(n) },
  float16: { name: 'float16', kind: 'float', bytes: 2, min: -65504, max: 65504, create: (n) => new Uint16Array(n) },
  int8: int('int8', 1, -128, 127, (n) => new Int8Array(n)),
  uint8: int('uint8', 1, 0, 255, (n) => new Uint8Array(n)),
  int16: int('int16', 2, -32768, 32767, (n) => new Int16Array(n)),
  uint16: int('uint16', 2, 0, 65535, (n) => new Uint16Array(n)),
  int32: int('int32', 4, -2147483648, 2147483647, (n) => new Int32Array(n)),
  uint32: int('uint32', 4, 0, 4294967295, (n) => new Uint32Array(n)),
  // 64-bit integers are generated and given as JS numbers, so only the safe-integer range is usable.
  int64: int('int64', 8, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, (n) => new BigInt64Array(n)),
  uint64: int('uint64', 8, 0, Number.MAX_SAFE_INTEGER, (n) => new BigUint64Array(n)),
  bool: { name: 'bool', kind: 'bool', bytes: 1, min: 0, max: 1, create: (n) => new Uint8Array(n) },
};

export function elementTypeOf(name: string, what: string): ElementType {
  const type = ELEMENT_TYPES[name];
  if (!type) {
    throw new BuildInputError(
      `Expected ${what} to have one of the element types ${Object.keys(ELEMENT_TYPES).join(', ')} but it is ${name}`,
    );
  }
  return type;
}

/** Reads element i as a JS number (half floats decoded, 64-bit integers converted). */
export function readNumber(type: ElementType, data: TypedArray, i: number): number {
  const value = data[i];
  if (typeof value === 'bigint') return Number(value);
  return type.name === 'float16' ? halfToFloat(value) : value;
}

/** Writes a JS number as element i (rounded to half bits, or to a bigint). */
export function writeNumber(type: ElementType, data: TypedArray, i: number, value: number): void {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(value);
  else data[i] = type.name === 'float16' ? floatToHalf(value) : value;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary32 -> binary16 bits, round to nearest even (what numpy's astype does). */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa rounds up into the exponent (and to infinity past 65504), as it should.
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

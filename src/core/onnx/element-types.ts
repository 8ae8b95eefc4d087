/** ONNX `TensorProto.DataType` numbers by the lower-case names Kiln reports (onnx.proto, IR 14). */
export const ELEMENT_TYPES = {
  float: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, string: 8, bool: 9,
  float16: 10, double: 11, uint32: 12, uint64: 13, complex64: 14, complex128: 15, bfloat16: 16,
  float8e4m3fn: 17, float8e4m3fnuz: 18, float8e5m2: 19, float8e5m2fnuz: 20, uint4: 21, int4: 22,
  float4e2m1: 23, float8e8m0: 24, uint2: 25, int2: 26,
} as const;

export type ElementTypeName = keyof typeof ELEMENT_TYPES;

const NAMES = new Map<number, string>(Object.entries(ELEMENT_TYPES).map(([name, n]) => [n, name]));

/** `undefined` for 0 (ONNX's UNDEFINED), `unknown(N)` for a number newer than this table. */
export function elementTypeName(dataType: number): string {
  if (dataType === 0) return 'undefined';
  return NAMES.get(dataType) ?? `unknown(${dataType})`;
}

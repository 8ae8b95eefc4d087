import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dim, ModelInfo, TensorInfo } from '../../src/core/onnx/model-info';
import { BuildInputError } from '../../src/worker/toolchains/toolchain';
import { halfToFloat, floatToHalf } from '../../src/worker/validation/element-types';
import { makeInputs, writeRawTensor } from '../../src/worker/validation/seeded-inputs';

const input = (name: string, dims: Dim[], elementType = 'float'): TensorInfo => ({ name, elementType, dims });
const model = (...inputs: TensorInfo[]): Pick<ModelInfo, 'inputs'> => ({ inputs });

describe('makeInputs', () => {
  const m = model(input('x', ['batch', 64]), input('ids', ['batch', 64], 'int64'), input('mask', ['batch', 64], 'bool'));
  const shapes = { x: [2, 64], ids: [2, 64], mask: [2, 64] };

  test('the same seed gives the same values; another seed other values', () => {
    const a = makeInputs(m, shapes, { seed: 0 });
    const b = makeInputs(m, shapes, { seed: 0 });
    const c = makeInputs(m, shapes, { seed: 1 });
    expect(Array.from(a.x.data as Float32Array)).toEqual(Array.from(b.x.data as Float32Array));
    expect(Array.from(a.x.data as Float32Array)).not.toEqual(Array.from(c.x.data as Float32Array));
    expect(a.x).toMatchObject({ name: 'x', type: 'float', dims: [2, 64], source: 'seeded' });
  });

  test('each input has its own stream: adding an input leaves the others alone', () => {
    const alone = makeInputs(model(input('x', [2, 64])), { x: [2, 64] }, { seed: 3 });
    const withOthers = makeInputs(m, shapes, { seed: 3 });
    expect(Array.from(withOthers.x.data as Float32Array)).toEqual(Array.from(alone.x.data as Float32Array));
  });

  test('floats are uniform in [0, 1), integers in [0, 10) by default, bools are 0 or 1', () => {
    const t = makeInputs(m, shapes, { seed: 0 });
    const floats = Array.from(t.x.data as Float32Array);
    expect(Math.min(...floats)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...floats)).toBeLessThan(1);
    expect(new Set(floats).size).toBeGreaterThan(100);
    const ids = Array.from(t.ids.data as BigInt64Array, Number);
    expect(t.ids.data).toBeInstanceOf(BigInt64Array);
    expect(new Set(ids)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect(new Set(t.mask.data as Uint8Array)).toEqual(new Set([0, 1]));
  });

  test('inputRanges set an input\'s [min, max)', () => {
    const t = makeInputs(m, shapes, { seed: 0, inputRanges: { ids: [100, 103], x: [-2, -1] } });
    expect(new Set(Array.from(t.ids.data as BigInt64Array, Number))).toEqual(new Set([100, 101, 102]));
    const floats = Array.from(t.x.data as Float32Array);
    expect(Math.min(...floats)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...floats)).toBeLessThan(-1);
  });

  test('bad ranges are rejected with what is accepted', () => {
    const u8 = model(input('p', [4], 'uint8'));
    expect(() => makeInputs(u8, { p: [4] }, { seed: 0, inputRanges: { p: [0, 300] } })).toThrow(
      'Expected a range within [0, 256) for uint8 input "p" but received [0, 300)',
    );
    expect(() => makeInputs(u8, { p: [4] }, { seed: 0, inputRanges: { p: [5, 5] } })).toThrow(
      'Expected min < max in options.validation.inputRanges for input "p" but received [5, 5)',
    );
    expect(() => makeInputs(u8, { p: [4] }, { seed: 0, inputRanges: { q: [0, 1] } })).toThrow(
      'options.validation.inputRanges names input "q", which the model does not have (its inputs: "p")',
    );
  });

  test('user tensors replace seeded ones, with their dims and values checked', () => {
    const m2 = model(input('x', ['batch', 2]), input('ids', ['batch', 2], 'int64'));
    const t = makeInputs(m2, { x: [1, 2], ids: [1, 2] }, { seed: 0, inputs: { ids: { dims: [1, 2], data: [7, 42] } } });
    expect(t.ids).toMatchObject({ source: 'user', dims: [1, 2] });
    expect(Array.from(t.ids.data as BigInt64Array)).toEqual([7n, 42n]);
    expect(t.x.source).toBe('seeded');

    const bad = (inputs: Record<string, { dims: number[]; data: number[] }>) => () =>
      makeInputs(m2, { x: [1, 2], ids: [1, 2] }, { seed: 0, inputs });
    expect(bad({ ids: { dims: [2, 2], data: [1, 2, 3, 4] } })).toThrow(
      'Expected dims [1, 2] for options.validation.inputs["ids"] (the input\'s resolved shape; set options.shapes to change it) but received [2, 2]',
    );
    expect(bad({ ids: { dims: [1, 2], data: [1] } })).toThrow('Expected 2 values for options.validation.inputs["ids"] (dims [1, 2]) but received 1');
    expect(bad({ ids: { dims: [1, 2], data: [1, 2.5] } })).toThrow(
      'Expected an integer in [-9007199254740991, 9007199254740991] for int64 element 1 of options.validation.inputs["ids"] but received 2.5',
    );
    expect(bad({ nope: { dims: [1], data: [1] } })).toThrow(BuildInputError);
  });

  test('unsupported element types and oversized shapes are input errors', () => {
    expect(() => makeInputs(model(input('s', [1], 'string')), { s: [1] }, { seed: 0 })).toThrow(
      /^Expected input "s" to have one of the element types float, double, float16, .* but it is string$/,
    );
    expect(() => makeInputs(model(input('x', [1])), { x: [1 << 15, 1 << 14] }, { seed: 0 })).toThrow(/^Expected at most 268435456 elements/);
  });

  test('float16 inputs are half bits of values in [0, 1)', () => {
    const t = makeInputs(model(input('h', [4096], 'float16')), { h: [4096] }, { seed: 0 });
    const values = Array.from(t.h.data as Uint16Array, halfToFloat);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
  });
});

describe('half floats', () => {
  test('round to nearest even, with overflow to infinity and subnormals', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00);
    expect(floatToHalf(2 ** -24)).toBe(0x0001);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // halfway, rounds to even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
    for (const v of [0.5, 0.1, 3.14159, -1e-5, 1000]) expect(halfToFloat(floatToHalf(v))).toBeCloseTo(v, 2);
  });
});

describe('writeRawTensor', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-raw-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('writes the elements as little-endian bytes with no header (trtexec --loadInputs)', async () => {
    const path = join(dir, 'x.bin');
    await writeRawTensor(path, { data: new Float32Array([1, -2]) });
    const bytes = await readFile(path);
    expect(bytes.length).toBe(8);
    expect(bytes.readFloatLE(0)).toBe(1);
    expect(bytes.readFloatLE(4)).toBe(-2);

    await writeRawTensor(path, { data: new BigInt64Array([258n]) });
    expect(Array.from(await readFile(path))).toEqual([2, 1, 0, 0, 0, 0, 0, 0]);
  });

  test('writes only the view it is given', async () => {
    const path = join(dir, 'view.bin');
    const backing = new Int32Array([9, 10, 11, 12]);
    await writeRawTensor(path, { data: backing.subarray(1, 3) });
    const bytes = await readFile(path);
    expect([bytes.readInt32LE(0), bytes.readInt32LE(4)]).toEqual([10, 11]);
  });
});

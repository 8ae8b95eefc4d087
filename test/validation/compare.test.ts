import { compareOutputs, compareTensor, worstVerdict } from '../../src/worker/validation/compare';
import { floatToHalf } from '../../src/worker/validation/element-types';
import { tolerancesFor } from '../../src/worker/validation/tolerances';

const f32 = (values: number[], dims = [values.length]) => ({ type: 'float', dims, data: Float32Array.from(values) });
const opts = { rtol: 1e-3, atol: 1e-5, failRatio: 0.25 };

describe('compareTensor', () => {
  test('identical outputs pass with zero errors', () => {
    const ref = f32([1, 2, 3, 4]);
    expect(compareTensor('y', ref, f32([1, 2, 3, 4]), opts)).toEqual({
      name: 'y',
      elements: 4,
      mismatched: 0,
      mismatchRatio: 0,
      maxAbsError: 0,
      maxRelError: 0,
      nonFinite: 0,
      verdict: 'pass',
    });
  });

  test('isclose is |a - b| <= atol + rtol * |b|, with b the reference', () => {
    // |b| = 100: tolerance 1e-5 + 0.1; 0.1 passes, 0.2 does not.
    expect(compareTensor('y', f32([100]), f32([100.09]), opts).mismatched).toBe(0);
    expect(compareTensor('y', f32([100]), f32([100.2]), opts).mismatched).toBe(1);
    // Tolerance follows the reference: swapping a and b around zero changes the verdict.
    expect(compareTensor('y', f32([0]), f32([1e-3]), opts).mismatched).toBe(1);
  });

  test('warn up to failRatio, fail above; errors are the maxima', () => {
    const ref = f32([1, 2, 3, 4]);
    const oneOff = compareTensor('y', ref, f32([1, 2, 3, 4.5]), opts);
    expect(oneOff).toMatchObject({ mismatched: 1, mismatchRatio: 0.25, verdict: 'warn' });
    expect(oneOff.maxAbsError).toBeCloseTo(0.5, 6);
    expect(oneOff.maxRelError).toBeCloseTo(0.125, 6);
    expect(compareTensor('y', ref, f32([1, 2, 3.5, 4.5]), opts)).toMatchObject({ mismatched: 2, mismatchRatio: 0.5, verdict: 'fail' });
  });

  test('relative error skips references within atol of zero', () => {
    const c = compareTensor('y', f32([0, 1e-6, 1]), f32([0.5, 2e-6, 1]), { ...opts, failRatio: 1 });
    expect(c.maxAbsError).toBeCloseTo(0.5, 6);
    expect(c.maxRelError).toBe(0);
  });

  test('equal non-finite values match; any other non-finite pair is a mismatch', () => {
    const c = compareTensor('y', f32([NaN, Infinity, 1, NaN, -Infinity]), f32([NaN, Infinity, NaN, 1, Infinity]), { ...opts, failRatio: 1 });
    expect(c).toMatchObject({ mismatched: 3, nonFinite: 3, maxAbsError: 0, verdict: 'warn' });
  });

  test('a missing candidate or other dims fail the whole output', () => {
    expect(compareTensor('y', f32([1, 2, 3, 4], [2, 2]), f32([1, 2, 3, 4], [4]), opts)).toMatchObject({
      mismatched: 4,
      mismatchRatio: 1,
      maxAbsError: Infinity,
      verdict: 'fail',
    });
    expect(compareTensor('y', f32([1]), undefined, opts).verdict).toBe('fail');
  });

  test('mixed element types compare by value (int64 vs int32, half vs float)', () => {
    const ids = { type: 'int64', dims: [3], data: BigInt64Array.from([1n, 2n, 3n]) };
    expect(compareTensor('i', ids, { type: 'int32', dims: [3], data: Int32Array.from([1, 2, 4]) }, opts).mismatched).toBe(1);
    const half = { type: 'float16', dims: [2], data: Uint16Array.from([floatToHalf(0.5), floatToHalf(2)]) };
    expect(compareTensor('h', f32([0.5, 2]), half, opts).verdict).toBe('pass');
  });
});

describe('compareOutputs', () => {
  test('compares every reference output; the worst verdict wins', () => {
    const result = compareOutputs(
      { a: f32([1, 2]), b: f32([1, 2]) },
      { a: f32([1, 2]), b: f32([1, 9]), extra: f32([0]) },
      { ...opts, failRatio: 0.5 },
    );
    expect(result.outputs.map((o) => [o.name, o.verdict])).toEqual([
      ['a', 'pass'],
      ['b', 'warn'],
    ]);
    expect(result.verdict).toBe('warn');
    expect(worstVerdict(['pass', 'fail', 'warn'])).toBe('fail');
    expect(worstVerdict([])).toBe('pass');
  });
});

describe('tolerancesFor', () => {
  test('defaults by precision, the loosest of several, and user overrides', () => {
    expect(tolerancesFor()).toEqual({ rtol: 1e-3, atol: 1e-5 });
    expect(tolerancesFor('tf32')).toEqual({ rtol: 1e-3, atol: 1e-5 });
    expect(tolerancesFor('fp16')).toEqual({ rtol: 1e-2, atol: 1e-3 });
    expect(tolerancesFor(['fp16', 'int8'])).toEqual({ rtol: 5e-2, atol: 5e-2 });
    expect(tolerancesFor('fp16', { rtol: 0.5 })).toEqual({ rtol: 0.5, atol: 1e-3 });
    expect(tolerancesFor('fp32', { rtol: 0, atol: 0 })).toEqual({ rtol: 0, atol: 0 });
  });
});

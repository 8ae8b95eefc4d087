/**
 * Compares a candidate's outputs with a reference's, element by element, with numpy's isclose:
 * an element mismatches when |a - b| > atol + rtol * |b|, where b is the reference.
 *
 * - Non-finite values: equal ones (NaN and NaN, +Inf and +Inf) match; any other pair involving a
 *   NaN or an infinity is a mismatch, counted in both `mismatched` and `nonFinite`, and left out of
 *   the error maxima.
 * - maxRelError is |a - b| / |b| over the elements with |b| > atol (any b != 0 when atol is 0):
 *   relative error next to zero is noise, and those elements are judged by the absolute term.
 * - An output whose candidate is missing or has other dims fails whole: every element counts as
 *   mismatched and the error maxima are Infinity (null in JSON).
 * - Verdict per output: pass with no mismatch, warn while mismatchRatio <= failRatio, fail above;
 *   the overall verdict is the worst output's.
 */
import type { OutputComparison, Verdict } from '../../core/report';
import { elementCount } from '../shapes';
import { elementTypeOf, readNumber, type TypedArray } from './element-types';

export interface OutputTensor {
  /** ONNX element type name. */
  type: string;
  dims: readonly number[];
  data: TypedArray;
}

export interface CompareOptions {
  rtol: number;
  atol: number;
  failRatio: number;
}

const VERDICT_RANK: Record<Verdict, number> = { pass: 0, warn: 1, fail: 2 };

export function worstVerdict(verdicts: Iterable<Verdict>): Verdict {
  let worst: Verdict = 'pass';
  for (const verdict of verdicts) if (VERDICT_RANK[verdict] > VERDICT_RANK[worst]) worst = verdict;
  return worst;
}

export function verdictOf(mismatched: number, elements: number, failRatio: number): Verdict {
  if (mismatched === 0) return 'pass';
  return mismatched / elements <= failRatio ? 'warn' : 'fail';
}

/** Compares every reference output; the candidate's extra outputs are ignored. */
export function compareOutputs(
  reference: Record<string, OutputTensor>,
  candidate: Record<string, OutputTensor | undefined>,
  options: CompareOptions,
): { verdict: Verdict; outputs: OutputComparison[] } {
  const outputs = Object.entries(reference).map(([name, ref]) => compareTensor(name, ref, candidate[name], options));
  return { verdict: worstVerdict(outputs.map((o) => o.verdict)), outputs };
}

export function compareTensor(
  name: string,
  reference: OutputTensor,
  candidate: OutputTensor | undefined,
  { rtol, atol, failRatio }: CompareOptions,
): OutputComparison {
  const elements = elementCount(reference.dims);
  if (!candidate || !sameDims(reference.dims, candidate.dims)) {
    return {
      name,
      elements,
      mismatched: elements,
      mismatchRatio: 1,
      maxAbsError: Infinity,
      maxRelError: Infinity,
      nonFinite: 0,
      verdict: 'fail',
    };
  }
  const refType = elementTypeOf(reference.type, `reference output "${name}"`);
  const candType = elementTypeOf(candidate.type, `candidate output "${name}"`);
  let mismatched = 0;
  let nonFinite = 0;
  let maxAbsError = 0;
  let maxRelError = 0;
  for (let i = 0; i < elements; i++) {
    const a = readNumber(candType, candidate.data, i);
    const b = readNumber(refType, reference.data, i);
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
      nonFinite++;
      mismatched++;
      continue;
    }
    const diff = Math.abs(a - b);
    const magnitude = Math.abs(b);
    if (diff > maxAbsError) maxAbsError = diff;
    if (magnitude > atol && magnitude > 0) {
      const rel = diff / magnitude;
      if (rel > maxRelError) maxRelError = rel;
    }
    if (diff > atol + rtol * magnitude) mismatched++;
  }
  return {
    name,
    elements,
    mismatched,
    mismatchRatio: elements === 0 ? 0 : mismatched / elements,
    maxAbsError,
    maxRelError,
    nonFinite,
    verdict: verdictOf(mismatched, elements, failRatio),
  };
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

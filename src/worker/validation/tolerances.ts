/**
 * Default isclose tolerances by the precision an artifact computes in. An element passes when
 * |candidate - reference| <= atol + rtol * |reference|.
 *
 * The defaults allow a few units in the last place of the narrowest format involved, times the
 * error that accumulates over a deep network's reductions (a 3x3x512 conv sums ~4600 products):
 * - fp32, tf32: rtol 1e-3, atol 1e-5 (the issue's defaults). Reordered fp32 sums (fused or NCHWc
 *   kernels) stay around 1e-6 relative; TF32 rounds matmul inputs to 10 mantissa bits, so deep
 *   TF32 networks can need a looser rtol, which a request may give.
 * - fp16: rtol 1e-2, atol 1e-3. Half has 11 significant bits (ulp 2^-10 ~ 1e-3 at 1.0); 1e-2 is
 *   about ten ulps.
 * - bf16: rtol 2e-2, atol 1e-2. Only 8 significant bits (ulp 2^-7 ~ 8e-3 at 1.0), so the relative
 *   tolerance is a few ulps and the absolute floor is wider than fp16's.
 * - int8: rtol 5e-2, atol 5e-2. Quantisation error depends on calibration scales, not on a format;
 *   5% catches a wrong graph while letting a well-calibrated model through.
 * - fp8 (e4m3): rtol 1e-1, atol 1e-1. Four significant bits: one ulp is 6-12%.
 */
import type { ComputePrecision } from '../../core/precision';

export interface Tolerances {
  rtol: number;
  atol: number;
}

export const DEFAULT_TOLERANCES: Record<ComputePrecision, Tolerances> = {
  fp32: { rtol: 1e-3, atol: 1e-5 },
  tf32: { rtol: 1e-3, atol: 1e-5 },
  fp16: { rtol: 1e-2, atol: 1e-3 },
  bf16: { rtol: 2e-2, atol: 1e-2 },
  int8: { rtol: 5e-2, atol: 5e-2 },
  fp8: { rtol: 1e-1, atol: 1e-1 },
};

/**
 * The tolerances a validation uses: the user's rtol/atol where given, else the default of the
 * lowest precision the artifact may compute in. When a build enables several precisions (fp16 and
 * int8), pass them all: the loosest default applies.
 */
export function tolerancesFor(
  precisions: ComputePrecision | readonly ComputePrecision[] = 'fp32',
  overrides: Partial<Tolerances> = {},
): Tolerances {
  const list = typeof precisions === 'string' ? [precisions] : precisions.length > 0 ? precisions : (['fp32'] as const);
  const loosest = list.reduce<Tolerances>(
    (acc, p) => ({ rtol: Math.max(acc.rtol, DEFAULT_TOLERANCES[p].rtol), atol: Math.max(acc.atol, DEFAULT_TOLERANCES[p].atol) }),
    { rtol: 0, atol: 0 },
  );
  return { rtol: overrides.rtol ?? loosest.rtol, atol: overrides.atol ?? loosest.atol };
}

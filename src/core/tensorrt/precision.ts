/**
 * TensorRT precision modes: the trtexec flags that widen the kernels a build may pick (--fp16,
 * --bf16, --int8, --fp8, --best), take types from the model (--stronglyTyped) or forbid TF32
 * (--noTF32), and the compute precision they add up to.
 */
import type { ComputePrecision } from '../precision';

export const PRECISION_MODES = ['fp16', 'bf16', 'int8', 'fp8', 'best', 'stronglyTyped', 'noTF32'] as const;
export type PrecisionMode = (typeof PRECISION_MODES)[number];

/** Ordered and unique, `best` absorbing what it enables: one spelling, one build key. */
export function canonicalPrecisionModes(list: readonly PrecisionMode[]): PrecisionMode[] {
  const set = new Set(list);
  // --best already turns on fp16 and int8 (sampleOptions.cpp, BuildOptions::parse).
  if (set.has('best')) {
    set.delete('fp16');
    set.delete('int8');
  }
  return PRECISION_MODES.filter((p) => set.has(p));
}

/**
 * The narrowest format an engine built with these modes may compute in: fp8 < int8 < fp16/bf16 <
 * tf32 < fp32. `best` counts as int8; stronglyTyped as whatever the model says, so fp32 applies
 * unless other modes are set.
 */
export function computePrecisionOf(precision: readonly PrecisionMode[]): ComputePrecision {
  const p = new Set(precision);
  if (p.has('fp8')) return 'fp8';
  if (p.has('int8') || p.has('best')) return 'int8';
  if (p.has('bf16')) return 'bf16';
  if (p.has('fp16')) return 'fp16';
  if (p.has('noTF32') || p.has('stronglyTyped')) return 'fp32';
  return 'tf32';
}

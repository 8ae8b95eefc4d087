/**
 * Compute precision: the narrowest number format an artifact may compute in. It names what a
 * client means by "an fp16 engine" (resolve's precision trait) and picks default validation
 * tolerances. Not to be confused with TensorRT's precision modes (src/core/tensorrt/precision.ts),
 * the trtexec flags that allow these formats.
 */
export const COMPUTE_PRECISIONS = ['fp32', 'tf32', 'fp16', 'bf16', 'int8', 'fp8'] as const;
export type ComputePrecision = (typeof COMPUTE_PRECISIONS)[number];

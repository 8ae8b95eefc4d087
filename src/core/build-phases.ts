/**
 * The phases of every build, in order. A worker's progress events give a percent within the
 * current phase; clients that draw one bar per build turn that into one percent across phases,
 * weighted by the share of a build's time each phase usually takes, so the bar never goes back.
 */
export const PHASES = ['preparing', 'building', 'validating', 'benchmarking', 'publishing'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Share of a build's time per phase (percent, summing to 100). ONNX Runtime: measured on the
 * README's ResNet-18 (benchmark.maxBatch 4) on this project's 2-core machine, where the phases took
 * 2.4%, 15%, 1%, 77% and 4.7% of 10.2 s; benchmarking (several batch sizes, fifty timed runs each)
 * dominates. TensorRT: an estimate, as no TensorRT build ran on this project's machines; trtexec's
 * engine build times kernels on the GPU and is the long phase, so it gets most of the bar.
 */
const WEIGHTS: Record<'onnxruntime' | 'tensorrt', Record<Phase, number>> = {
  onnxruntime: { preparing: 3, building: 15, validating: 2, benchmarking: 75, publishing: 5 },
  tensorrt: { preparing: 3, building: 75, validating: 7, benchmarking: 12, publishing: 3 },
};

/** TensorRT target keys start with `trt`; everything else is built by ONNX Runtime. */
const toolchainOf = (targetKey: string) => (targetKey.startsWith('trt') ? 'tensorrt' : 'onnxruntime');

/** Percent of the whole build done when `phase` is at `percent` (0-100); unknown phases count as 0. */
export function overallPercent(targetKey: string, phase: string, percent: number): number {
  const weights = WEIGHTS[toolchainOf(targetKey)];
  const index = PHASES.indexOf(phase as Phase);
  if (index < 0) return 0;
  const before = PHASES.slice(0, index).reduce((sum, p) => sum + weights[p], 0);
  const within = (weights[PHASES[index]] * Math.max(0, Math.min(100, percent))) / 100;
  return Math.round(before + within);
}

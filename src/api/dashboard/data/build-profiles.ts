/**
 * A TensorRT build's optimization profiles, one entry each: its shapes, its validation (verdict,
 * the inputs it ran on, isclose per output) and its benchmark rows, joined by profile index from
 * `report.validation.profiles` and `report.benchmark.profiles` (docs/fleet.md). Either side may be
 * missing: a build still benchmarking has validated profiles only, and reports made before
 * per-profile benchmarks have none.
 */
import type { BuildReport, ProfileBenchmark, ProfileShapes, ProfileValidation } from '../../../core/report';

export interface ProfileView {
  index: number;
  shapes: ProfileShapes;
  validation: ProfileValidation | null;
  benchmark: ProfileBenchmark | null;
}

/** Every profile either side reports, by index; none for builds without optimization profiles. */
export function profileViews(report: BuildReport | null | undefined): ProfileView[] {
  const validated = report?.validation?.profiles ?? [];
  const measured = report?.benchmark?.profiles ?? [];
  const indices = [...new Set([...validated.map((p) => p.index), ...measured.map((p) => p.index)])].sort((a, b) => a - b);
  return indices.map((index) => {
    const validation = validated.find((p) => p.index === index) ?? null;
    const benchmark = measured.find((p) => p.index === index) ?? null;
    return { index, shapes: (validation ?? benchmark)!.shapes, validation, benchmark };
  });
}

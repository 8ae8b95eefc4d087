/**
 * A sweep request as it stands: every point with its build's state, and per target the best point
 * (src/core/best-point.ts). Read by GET /v1/requests/:id, the dashboard's sweep view and resolve.
 */
import { bestPoint, type PointOutcome, type TargetBest } from '../core/best-point';
import type { BuildRecord } from '../state/build-records';
import type { RequestRecord, RequestSweep } from '../state/requests';

export interface SweepResults {
  axes: RequestSweep['axes'];
  best: RequestSweep['best'];
  points: PointOutcome[];
  /** Per target, in the request's order. */
  targets: TargetBest[];
}

export function sweepResults(request: RequestRecord, builds: BuildRecord[]): SweepResults | null {
  if (!request.sweep) return null;
  const byKey = new Map(builds.map((b) => [b.buildKey, b]));
  const points: PointOutcome[] = request.sweep.points.map((p, point) => {
    if (!p.buildKey) return { point, target: p.target, values: p.values, state: 'refused', error: p.refused };
    const b = byKey.get(p.buildKey);
    return {
      point,
      target: p.target,
      values: p.values,
      buildKey: p.buildKey,
      runtime: p.runtime,
      // A record gone (expired) reads as a build that cannot be judged.
      state: b?.state ?? 'unknown',
      verdict: b?.verdict,
      error: b?.error,
      report: b?.report,
    };
  });
  const targets = [...new Set(request.sweep.points.map((p) => p.target))].map((t) =>
    bestPoint(t, points.filter((p) => p.target === t), request.sweep!.best),
  );
  return { axes: request.sweep.axes, best: request.sweep.best, points, targets };
}

/** The answer's form: points without their whole reports (the build's own page has it). */
export function sweepJson(results: SweepResults) {
  return {
    axes: results.axes,
    best: results.best,
    points: results.points.map(({ report: _report, ...p }) => p),
    targets: results.targets,
  };
}

/**
 * A sweep's builds: every target x every combination of the swept values, one build key per
 * artifact (combinations that differ only in runtime settings share one, see src/core/sweep.ts).
 * A combination a target refuses (a TensorRT option its release lacks) is recorded as refused
 * with the reason instead of refusing the whole request; a sweep none of whose points can be built
 * is refused whole, with every reason.
 */
import { buildKeyOf, makeBuildSpec, type BuildSpec } from '../core/build-spec';
import { expandSweep, groupByArtifact, SweepError, type BestMetric, type Sweep } from '../core/sweep';
import { targetKey, type Target } from '../core/target';
import { checkOptionsForTarget } from '../core/tensorrt/build-argv';
import { TrtOptionError } from '../core/tensorrt/errors';
import type { RequestSweep, SweepPointRecord } from '../state/requests';
import { badRequest } from './errors';

export interface PlannedBuild {
  target: Target;
  spec: BuildSpec;
  buildKey: string;
}

export function planSweep(
  modelId: string,
  targets: Target[],
  rawOptions: unknown,
  sweep: Sweep,
  best: BestMetric,
  maxPoints: number,
): { builds: PlannedBuild[]; sweep: RequestSweep } {
  let combos;
  try {
    combos = expandSweep(rawOptions, sweep, targets.length, maxPoints);
  } catch (err) {
    if (err instanceof SweepError) throw badRequest(err.message);
    throw err;
  }
  const builds = new Map<string, PlannedBuild>();
  const points: SweepPointRecord[] = [];
  const problems: string[] = [];
  for (const target of targets) {
    const key = targetKey(target);
    const byCombo = new Map<number, SweepPointRecord>();
    for (const group of groupByArtifact(target.toolchain, combos)) {
      const refused = refusal(target, group.options.tensorrt);
      if (refused) problems.push(`${key} ${JSON.stringify(group.members[0].combo.values)}: ${refused}`);
      let buildKey: string | undefined;
      if (!refused) {
        const spec = makeBuildSpec(modelId, target, group.options);
        buildKey = buildKeyOf(spec);
        builds.set(buildKey, { target, spec, buildKey });
      }
      for (const m of group.members) {
        byCombo.set(combos.indexOf(m.combo), refused ? { target: key, values: m.combo.values, refused } : { target: key, values: m.combo.values, buildKey, runtime: m.runtime });
      }
    }
    points.push(...[...byCombo.entries()].sort(([a], [b]) => a - b).map(([, p]) => p));
  }
  if (builds.size === 0) throw badRequest(`No point of the sweep can be built: ${problems.join('; ')}`, { problems });
  return { builds: [...builds.values()], sweep: { axes: sweep, best, points } };
}

/** Why a TensorRT target refuses these options (its release's option table), or undefined. */
function refusal(target: Target, options: Parameters<typeof checkOptionsForTarget>[1]): string | undefined {
  if (target.toolchain !== 'tensorrt') return undefined;
  try {
    checkOptionsForTarget(target, options);
    return undefined;
  } catch (err) {
    if (err instanceof TrtOptionError) return err.message;
    throw err;
  }
}

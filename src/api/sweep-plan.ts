/**
 * A sweep's builds: every target x every combination of the swept values, one build key per
 * artifact (combinations that differ only in runtime settings share one, see src/core/sweep.ts).
 * A combination a target refuses (a TensorRT option its release lacks) is recorded as refused
 * with the reason instead of refusing the whole request; a sweep none of whose points can be built
 * is refused whole, with every reason.
 */
import { buildKeyOf, makeBuildSpec, type BuildSpec } from '../core/build-spec';
import type { BuildOptions } from '../core/options';
import { expandSweep, groupByArtifact, SweepError, type BestMetric, type Sweep } from '../core/sweep';
import { targetKey, type Target } from '../core/target';
import { checkOptionsForTarget } from '../core/tensorrt/build-argv';
import { TrtOptionError } from '../core/tensorrt/errors';
import type { RequestSweep, SweepPointRecord } from '../state/requests';
import { badRequest } from './errors';

export interface PlannedBuild {
  /** The target it is built for: the requested one, or its hardware-compatible variant (onCompatibleTarget). */
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
      const built = onCompatibleTarget(target, group.options);
      const refused = refusal(built.target, built.options.tensorrt);
      if (refused) problems.push(`${key} ${JSON.stringify(group.members[0].combo.values)}: ${refused}`);
      let buildKey: string | undefined;
      if (!refused) {
        const spec = makeBuildSpec(modelId, built.target, built.options);
        buildKey = buildKeyOf(spec);
        builds.set(buildKey, { target: built.target, spec, buildKey });
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

/**
 * A point that sweeps hardwareCompatibilityLevel on a plain TensorRT target is built on that
 * target's compatible variant (`trt10.9.0-sm89` -> `trt10.9.0-sm89-ampere+`): the level belongs to
 * the target key, where the queue, the resolve ladder and every single build of it keep it.
 */
function onCompatibleTarget(target: Target, options: BuildOptions): { target: Target; options: BuildOptions } {
  const level = options.tensorrt.hardwareCompatibilityLevel;
  if (target.toolchain !== 'tensorrt' || level === 'none' || target.hwCompat !== 'none') return { target, options };
  return { target: { ...target, hwCompat: level }, options: { ...options, tensorrt: { ...options.tensorrt, hardwareCompatibilityLevel: 'none' } } };
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

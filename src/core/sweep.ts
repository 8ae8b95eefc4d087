/**
 * Sweeps: a request that names, beside its options, a list of values for some option paths
 * (`{ "onnxruntime.graphOptimizationLevel": ["basic", "all"], "tensorrt.precision": [[], ["fp16"]] }`)
 * is built at every point of their cartesian product, on every target (docs/sweeps.md).
 *
 * Paths are checked against the options schema itself, so every option a request may give can be
 * swept and nothing else can. Runtime settings that do not change the artifact (ONNX Runtime's
 * intra-op threads and execution mode) are not built once per value: the points that differ only
 * in them share one build, whose benchmark measures each setting in turn.
 */
import { z } from 'zod';
import { BuildOptionsSchema, type BuildOptions, type OnnxRuntimeSettings } from './options';
import type { ToolchainName } from './target';

/** A sweep as a request gives it: dotted option path -> the values to try. */
export const SweepSchema = z
  .record(z.string().min(1), z.array(z.unknown()).min(1).max(64))
  .refine((sweep) => Object.keys(sweep).length > 0, 'Expected at least one option path to sweep')
  .describe('Option paths (dotted, as in options) and the values to try at each; the request builds every combination on every target.');
export type Sweep = z.output<typeof SweepSchema>;

/** What decides a sweep's best point: p50 latency (lowest wins) or throughput (highest wins) at one batch size. */
export const BestMetricSchema = z
  .object({
    metric: z.enum(['latency', 'throughput']).default('latency').describe('latency: p50 latency, lower is better; throughput: samples per second, higher is better. (Default: latency)'),
    batch: z.number().int().positive().optional().describe('Batch size whose measurement decides. (Default: the smallest batch measured)'),
  })
  .strict();
export type BestMetric = z.output<typeof BestMetricSchema>;

/**
 * Settings a client chooses when it opens a session, not when the artifact is built. Sweeping them
 * measures one artifact several ways instead of building it again per value.
 */
export const RUNTIME_PATHS: Record<ToolchainName, Record<string, keyof OnnxRuntimeSettings>> = {
  onnxruntime: { 'onnxruntime.intraOpNumThreads': 'intraOpNumThreads', 'onnxruntime.executionMode': 'executionMode' },
  tensorrt: {},
};

/** Option objects whose members are free-form names (tensors, layers), not option paths. */
const NOT_SWEPT = new Set(['shapes', 'validation.inputs', 'validation.inputRanges', 'tensorrt.layerPrecisions', 'tensorrt.profiles', 'onnxruntime.benchmarkRuntimes']);

export class SweepError extends Error {
  override name = 'SweepError';
}

/** One combination of swept values, with the options it builds with. */
export interface SweepCombination {
  values: Record<string, unknown>;
  options: BuildOptions;
}

/** The zod type under defaults, optionals and transforms. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema as z.ZodType & { _zod: { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } } };
  for (;;) {
    const def = s._zod.def;
    if ((def.type === 'default' || def.type === 'optional' || def.type === 'prefault' || def.type === 'nullable') && def.innerType) s = def.innerType as typeof s;
    else if (def.type === 'pipe' && def.in) s = def.in as typeof s;
    else return s;
  }
}

/** Every option path a sweep may name: the leaves of the options schema. */
export function sweepablePaths(schema: z.ZodType = BuildOptionsSchema, prefix = ''): string[] {
  const inner = unwrap(schema);
  if (!(inner instanceof z.ZodObject)) return [prefix];
  const out: string[] = [];
  for (const [key, member] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (NOT_SWEPT.has(path)) continue;
    out.push(...sweepablePaths(member, path));
  }
  return out;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node = node[part] = next && typeof next === 'object' && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
  }
  node[parts[parts.length - 1]] = value;
}

/** The cartesian product of the axes, first axis slowest. */
export function combinations(sweep: Sweep): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [path, values] of Object.entries(sweep)) out = out.flatMap((point) => values.map((v) => ({ ...point, [path]: v })));
  return out;
}

/**
 * Every combination of the sweep, each parsed as a whole options set, or a SweepError naming every
 * unknown path, every refused value and a product past `maxPoints` (counted over `targetCount` targets).
 */
export function expandSweep(rawOptions: unknown, sweep: Sweep, targetCount: number, maxPoints: number): SweepCombination[] {
  const accepted = sweepablePaths();
  const unknown = Object.keys(sweep).filter((p) => !accepted.includes(p));
  if (unknown.length > 0) {
    throw new SweepError(`Expected option paths to sweep, one of ${accepted.join(', ')}, but received ${unknown.map((p) => JSON.stringify(p)).join(', ')}`);
  }
  const size = Object.values(sweep).reduce((n, values) => n * values.length, 1);
  if (size * targetCount > maxPoints) {
    throw new SweepError(
      `A sweep of ${Object.entries(sweep).map(([p, v]) => `${v.length} ${p}`).join(' x ')} over ${targetCount} target${targetCount === 1 ? '' : 's'} ` +
        `is ${size * targetCount} points; at most ${maxPoints} are accepted (KILN_MAX_SWEEP_POINTS): sweep fewer values or targets, or split it into several requests`,
    );
  }
  const base = rawOptions && typeof rawOptions === 'object' ? (rawOptions as Record<string, unknown>) : {};
  const problems: string[] = [];
  for (const [path, values] of Object.entries(sweep)) {
    values.forEach((value, i) => {
      const probe = structuredClone(base);
      setPath(probe, path, value);
      const parsed = BuildOptionsSchema.safeParse(probe);
      if (!parsed.success) {
        const issue = parsed.error.issues.find((x) => x.path.join('.').startsWith(path)) ?? parsed.error.issues[0];
        problems.push(`sweep.${path}[${i}]: ${issue.message} (received ${JSON.stringify(value)})`);
      }
    });
  }
  if (problems.length > 0) throw new SweepError(problems.join('; '));
  return combinations(sweep).map((values) => {
    const raw = structuredClone(base);
    for (const [path, value] of Object.entries(values)) setPath(raw, path, value);
    return { values, options: BuildOptionsSchema.parse(raw) };
  });
}

/**
 * The combinations one target builds, grouped by artifact: combinations that differ only in
 * runtime settings share one options set, whose `onnxruntime.benchmarkRuntimes` lists the
 * settings to measure (`runtime` is each combination's index into it). A group of one builds with
 * its settings as plain options, so it has the build key of the same single build.
 */
export function groupByArtifact(toolchain: ToolchainName, combos: SweepCombination[]): { options: BuildOptions; members: { combo: SweepCombination; runtime?: number }[] }[] {
  const runtimePaths = RUNTIME_PATHS[toolchain];
  const groups = new Map<string, { options: BuildOptions; members: { combo: SweepCombination; settings: OnnxRuntimeSettings }[] }>();
  for (const combo of combos) {
    const settings: OnnxRuntimeSettings = {};
    const artifact = structuredClone(combo.options) as BuildOptions;
    for (const [path, field] of Object.entries(runtimePaths)) {
      if (!(path in combo.values)) continue;
      (settings as Record<string, unknown>)[field] = combo.values[path];
      delete (artifact.onnxruntime as Record<string, unknown>)[field];
    }
    const key = JSON.stringify(artifact);
    const group = groups.get(key) ?? { options: artifact, members: [] };
    group.members.push({ combo, settings });
    groups.set(key, group);
  }
  return [...groups.values()].flatMap((g) => {
    if (g.members.length === 1 || g.members.every((m) => Object.keys(m.settings).length === 0)) {
      return g.members.map((m) => ({ options: m.combo.options, members: [{ combo: m.combo }] }));
    }
    if (false) return { options: g.members[0].combo.options, members: [{ combo: g.members[0].combo }] };
    const options = structuredClone(g.options);
    options.onnxruntime = { ...options.onnxruntime, benchmarkRuntimes: g.members.map((m) => m.settings) };
    return [{ options, members: g.members.map((m, runtime) => ({ combo: m.combo, runtime })) }];
  });
}

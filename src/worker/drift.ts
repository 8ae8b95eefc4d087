/**
 * Drift between model versions (docs/drift-gates.md). When the model being built is `name@N` and
 * `name@N-1` has a published build for the same target, both versions run on the validation's
 * seeded inputs and every output's difference is reported; options.validation.maxDrift, when set,
 * fails the build on a larger one, so a retrained model cannot ship a regression silently.
 *
 * Both versions run as the validation reference does (ONNX Runtime CPU, optimisations off): that
 * measures what retraining changed, the same way on every target, while the build's own validation
 * already bounds how far its artifact is from its model. The published build of N-1 is what makes
 * the comparison relevant (there is something deployed to regress from); its build key is named.
 */
import path from 'node:path';
import type { BuildSpec } from '../core/build-spec';
import type { DriftReport, OutputDrift } from '../core/report';
import type { FarmContext } from '../context';
import { modelKey } from '../storage/layout';
import { downloadToFile } from '../storage/publish';
import { elementCount } from './shapes';
import { runReference } from './toolchains/onnxruntime/session';
import { REFERENCE_NAME } from './toolchains/onnxruntime/options';
import type { StepContext } from './toolchains/toolchain';
import { elementTypeOf, readNumber } from './validation/element-types';
import type { OutputTensor } from './validation/compare';
import { validationShapes } from './validation/input-shapes';
import { makeInputs } from './validation/seeded-inputs';

export interface PreviousVersion {
  label: string;
  previous: { label: string; modelId: string; buildKey: string };
}

/** The newest published build of name@N-1 for this target, for the first label of this model that has one. */
export async function findPreviousVersion(ctx: Pick<FarmContext, 'models' | 'artifacts'>, spec: Pick<BuildSpec, 'modelId' | 'targetKey'>): Promise<PreviousVersion | null> {
  const record = await ctx.models.get(spec.modelId);
  for (const label of record?.labels ?? []) {
    const [name, version] = label.split('@');
    const n = Number(version);
    if (!(n > 1)) continue;
    const previousLabel = `${name}@${n - 1}`;
    const previous = await ctx.models.resolve(previousLabel).catch(() => null);
    if (!previous || previous.sha256 === spec.modelId) continue;
    const builds = (await ctx.artifacts.forModel(previous.sha256)).filter((a) => a.targetKey === spec.targetKey);
    if (builds.length === 0) continue;
    const newest = builds.sort((a, b) => b.publishedAt.localeCompare(a.publishedAt))[0];
    return { label, previous: { label: previousLabel, modelId: previous.sha256, buildKey: newest.buildKey } };
  }
  return null;
}

/** Runs both versions on the same seeded inputs; never throws for a model pair that cannot be compared (verdict 'skipped'). */
export async function measureDrift(ctx: Pick<FarmContext, 'store'>, step: StepContext, found: PreviousVersion): Promise<DriftReport> {
  const { validation } = step.spec.options;
  const maxDrift = validation.maxDrift ?? null;
  const base = { ...found, runner: REFERENCE_NAME, seed: validation.seed, maxDrift };
  const previousPath = path.join(step.workDir, 'previous-version.onnx');
  await downloadToFile(ctx.store, modelKey(found.previous.modelId), previousPath, found.previous.modelId);
  const inputs = makeInputs(step.model, validationShapes(step.model, step.spec.options), validation);
  step.signal.throwIfAborted();
  const current = await runReference(step.modelPath, inputs);
  let previous: Record<string, OutputTensor>;
  try {
    previous = await runReference(previousPath, inputs);
  } catch (err) {
    return { ...base, verdict: 'skipped', outputs: [], note: `${found.previous.label} does not run on ${found.label}'s inputs: ${(err as Error).message}` };
  }
  const outputs = Object.entries(current).map(([name, tensor]) => outputDrift(name, tensor, previous[name], maxDrift));
  const missing = Object.keys(current).filter((name) => !previous[name]);
  return {
    ...base,
    verdict: outputs.some((o) => o.verdict === 'fail') ? 'fail' : 'pass',
    outputs,
    ...(missing.length ? { note: `${found.previous.label} has no output ${missing.map((m) => `"${m}"`).join(', ')}` } : {}),
  };
}

export function outputDrift(name: string, current: OutputTensor, previous: OutputTensor | undefined, maxDrift: number | null): OutputDrift {
  const elements = elementCount(current.dims);
  const sameShape = previous && previous.dims.length === current.dims.length && previous.dims.every((d, i) => d === current.dims[i]);
  if (!previous || !sameShape) return { name, elements, maxAbsDiff: Infinity, meanAbsDiff: Infinity, verdict: maxDrift === null ? 'pass' : 'fail' };
  const a = elementTypeOf(current.type, `output "${name}"`);
  const b = elementTypeOf(previous.type, `previous output "${name}"`);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < elements; i++) {
    const x = readNumber(a, current.data, i);
    const y = readNumber(b, previous.data, i);
    // Equal non-finite values (NaN and NaN, Inf and Inf) did not drift; any other non-finite pair did, without bound.
    const diff = x === y || (Number.isNaN(x) && Number.isNaN(y)) ? 0 : Math.abs(x - y);
    const d = Number.isNaN(diff) ? Infinity : diff;
    if (d > max) max = d;
    sum += d;
  }
  return { name, elements, maxAbsDiff: max, meanAbsDiff: elements ? sum / elements : 0, verdict: maxDrift !== null && max > maxDrift ? 'fail' : 'pass' };
}

/**
 * Kiln's argv against every release of the trtexec contract table (read from NVIDIA's sources,
 * docs/trtexec-contract.md), in both directions:
 *
 * 1. Everything Kiln writes is accepted. For every release and a systematic set of option
 *    combinations (each option alone, every pair, and the cases issue 8 was about), every argv
 *    Kiln builds (the build, and the validation and benchmark runs on its engine) is parsed by the
 *    trtexec stand-in, which reads the same table: no value error, no unknown option, nothing the
 *    release deprecates. Runs on an engine carry the load-side opt-ins it needs, or none is made.
 * 2. Kiln refuses nothing a release accepts, apart from its deliberate refusals. Every option of
 *    every release is one Kiln writes or one src/core/tensorrt/deliberate-refusals.ts lists with
 *    its reason, and every value of the grammar Kiln maps (data types, tensor formats, I/O format
 *    spellings, hardware compatibility levels, tactic sources, precision modes, layer-name
 *    wildcards, weight stripping) is accepted on a GPU that allows it, unless listed there too.
 *
 * GPU gates (bf16 needs CC 8.0, fp8 8.9, ...) are not the command line's: builds here are for a
 * CC 9.0 GPU, which passes them all.
 */
import { buildArgs } from '../../src/core/tensorrt/build-argv';
import { DELIBERATE_REFUSALS, deliberateRefusal } from '../../src/core/tensorrt/deliberate-refusals';
import { engineLoading } from '../../src/core/tensorrt/engine-loading';
import { TrtOptionError } from '../../src/core/tensorrt/errors';
import { inferenceArgs } from '../../src/core/tensorrt/inference-argv';
import { TACTIC_SOURCES, TensorRtOptionsSchema, type TensorRtOptions, type TensorRtOptionsInput } from '../../src/core/tensorrt/options';
import { PRECISION_MODES } from '../../src/core/tensorrt/precision';
import {
  dataTypes,
  hardwareCompatibilityLevelOk,
  loadSide,
  tensorFormats,
  TRTEXEC_RELEASES,
  type TrtexecRelease,
} from '../../src/core/tensorrt/trtexec-contract';
import { parseTrtVersion } from '../../src/core/tensorrt/version';

// The stand-in's parser: the release's command line, from the same table (test code may use it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const standin = require('../trtexec-standin/lib/options.js') as {
  parse(argv: string[], release: TrtexecRelease): { unknown: { name: string; value: string }[]; notPlayed: string[]; warnings: string[] };
};

const CC = '9.0';
const PATHS = { onnx: '/w/model.onnx', engine: '/w/engine.plan', timingCache: '/w/timing.cache', layerInfo: '/w/layers.json', calib: '/w/calibration.cache' };
const SHA = 'ab'.repeat(32);
const versionOf = (release: TrtexecRelease) => `${release.version}.0`;

/** One option per entry, with the values issue 8 was about among them. */
const SINGLE: Record<string, TensorRtOptionsInput> = {
  ...Object.fromEntries(PRECISION_MODES.map((mode) => [mode, { precision: [mode] }])),
  'one profile': { profiles: [{ x: { min: [1, 3, 16, 16], opt: [4, 3, 16, 16], max: [8, 3, 16, 16] }, 'input:0': { min: [1, 6], opt: [4, 6], max: [8, 6] } }] },
  'two profiles': { profiles: [{ x: { min: [1, 3], opt: [1, 3], max: [2, 3] } }, { x: { min: [4, 3], opt: [8, 3], max: [8, 3] } }] },
  workspace: { memPoolSize: { workspace: 2048 } },
  'optimization level 0': { builderOptimizationLevel: 0 },
  'optimization level 5': { builderOptimizationLevel: 5 },
  'ampere+': { hardwareCompatibilityLevel: 'ampere+' },
  sameComputeCapability: { hardwareCompatibilityLevel: 'sameComputeCapability' },
  versionCompatible: { versionCompatible: true },
  'versionCompatible without lean runtime': { versionCompatible: true, excludeLeanRuntime: true },
  'layer precisions': { layerPrecisions: { '/conv1/Conv': 'fp16', 'onnx::Gemm_5': 'fp32' }, precisionConstraints: 'obey' },
  'layer precision *': { layerPrecisions: { '*': 'fp16' }, precisionConstraints: 'prefer' },
  'layer precision wildcard': { layerPrecisions: { '/encoder/*/MatMul': 'fp16' }, precisionConstraints: 'obey' },
  'I/O formats type:layout': { inputIOFormats: ['fp16:chw'], outputIOFormats: ['fp32:chw'] },
  'I/O formats layout-only': { inputIOFormats: ['chw'], outputIOFormats: ['hwc8+chw'] },
  'I/O formats hwc16': { inputIOFormats: ['fp16:hwc16'] },
  'tactic sources off': { tacticSources: { cublas: false, cublasLt: false, cudnn: false } },
  'convolution tactic sources': { tacticSources: { edgeMaskConvolutions: true, jitConvolutions: false } },
  'aux streams': { maxAuxStreams: 2 },
  stripWeights: { stripWeights: true },
  refit: { refit: true },
  'stripWeights with refit': { stripWeights: true, refit: true },
  calibration: { precision: ['int8'], calibration: SHA },
};

/** Two inputs merged the way a request would combine them. */
function merge(a: TensorRtOptionsInput, b: TensorRtOptionsInput): TensorRtOptionsInput {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const mine = out[key];
    if (Array.isArray(mine) && Array.isArray(value) && key === 'precision') out[key] = [...mine, ...value];
    else if (mine && typeof mine === 'object' && value && typeof value === 'object' && !Array.isArray(value)) out[key] = { ...mine, ...value };
    else out[key] = value;
  }
  return out as TensorRtOptionsInput;
}

/** Every single option and every pair the schema accepts (a pair it refuses is the schema's business). */
function combinations(): [string, TensorRtOptions][] {
  const names = Object.keys(SINGLE);
  const out: [string, TensorRtOptions][] = [];
  const add = (name: string, input: TensorRtOptionsInput) => {
    const parsed = TensorRtOptionsSchema.safeParse(input);
    if (parsed.success) out.push([name, parsed.data]);
  };
  names.forEach((a, i) => {
    add(a, SINGLE[a]);
    for (const b of names.slice(i + 1)) add(`${a} + ${b}`, merge(SINGLE[a], SINGLE[b]));
  });
  return out;
}

const COMBINATIONS = combinations();

/** Problems the release's trtexec would have with `argv`; none when it takes it whole. */
function problems(release: TrtexecRelease, argv: string[]): string[] {
  try {
    const parsed = standin.parse(argv, release);
    return [
      ...parsed.unknown.map((u) => `Unknown option: ${u.name} ${u.value}`),
      ...parsed.notPlayed.map((name) => `not played by the stand-in: ${name}`),
      ...parsed.warnings.map((w) => `deprecated: ${w}`),
    ];
  } catch (err) {
    return [(err as Error).message];
  }
}

interface Outcome {
  written: Set<string>;
  refused: Map<string, string>;
  failures: string[];
}

function runRelease(release: TrtexecRelease): Outcome {
  const trt = versionOf(release);
  const written = new Set<string>();
  const refused = new Map<string, string>();
  const failures: string[] = [];
  const check = (what: string, argv: string[]) => {
    for (const arg of argv) written.add(arg.split('=')[0]);
    for (const p of problems(release, argv)) failures.push(`${release.version} ${what}: ${p} in ${argv.join(' ')}`);
  };
  for (const [name, options] of COMBINATIONS) {
    let argv: string[];
    try {
      argv = buildArgs({ trt, cc: CC, options, paths: PATHS, subject: 'worker' });
    } catch (err) {
      if (!(err instanceof TrtOptionError)) throw err;
      refused.set(name, err.message);
      continue;
    }
    check(`build (${name})`, argv);
    const loading = engineLoading(options, parseTrtVersion(trt));
    if (loading.cannotRun) {
      // Never run without its weights: only a release that cannot refit may say so.
      if (!options.stripWeights || loadSide(release).refitFromOnnx) failures.push(`${release.version} ${name}: cannot run, but why? ${loading.cannotRun}`);
      continue;
    }
    const common = { trt, engine: PATHS.engine, loading, onnx: PATHS.onnx, shapes: { x: [2, 3, 16, 16] } };
    const runs = [
      ['validation', inferenceArgs({ kind: 'validate', ...common, inputs: { x: '/w/x.bin' }, exportOutput: '/w/out.json' })],
      ['benchmark', inferenceArgs({ kind: 'benchmark', ...common, iterations: 5 })],
    ] as const;
    for (const [kind, run] of runs) {
      check(`${kind} (${name})`, run);
      const side = loadSide(release);
      if (loading.hostCode && !run.some((a) => side.versionCompatible.includes(a))) failures.push(`${release.version} ${kind} (${name}): a version-compatible engine loaded without ${side.versionCompatible.join(' or ')}`);
      if (options.stripWeights) {
        const refit = side.refitFromOnnx!;
        const needs = [...refit.requires, refit.option];
        if (!needs.every((flag) => run.some((a) => a.split('=')[0] === flag))) failures.push(`${release.version} ${kind} (${name}): a stripped engine run without ${needs.join(' ')}`);
      }
    }
  }
  return { written, refused, failures };
}

const OUTCOMES = new Map(TRTEXEC_RELEASES.map((release) => [release.version, runRelease(release)]));

describe.each(TRTEXEC_RELEASES.map((release) => [release.version, release] as const))('TensorRT %s', (version, release) => {
  const outcome = OUTCOMES.get(version)!;
  const trt = versionOf(release);
  const accepted = (input: TensorRtOptionsInput): string | null => {
    try {
      buildArgs({ trt, cc: CC, options: TensorRtOptionsSchema.parse(input), paths: PATHS, subject: 'worker' });
      return null;
    } catch (err) {
      if (err instanceof TrtOptionError) return err.message;
      throw err;
    }
  };

  test(`every build, validation and benchmark argv Kiln writes is ${version}'s own (${COMBINATIONS.length} option combinations)`, () => {
    expect(outcome.failures).toEqual([]);
    // The combinations are not vacuous: most of them build on every release.
    expect(COMBINATIONS.length - outcome.refused.size).toBeGreaterThan(COMBINATIONS.length / 3);
  });

  test('every option it accepts is one Kiln writes or refuses on purpose, with a reason', () => {
    const written = new Set([...OUTCOMES.values()].flatMap((o) => [...o.written]));
    const unaccounted = Object.keys(release.options).filter((name) => !written.has(name) && !DELIBERATE_REFUSALS.some((r) => r.options.includes(name) && !r.values));
    expect(unaccounted).toEqual([]);
  });

  test('Kiln accepts every value of the grammar it maps', () => {
    const refusals: string[] = [];
    const expectAccepted = (what: string, input: TensorRtOptionsInput) => {
      const message = accepted(input);
      if (message) refusals.push(`${what}: ${message}`);
    };
    for (const mode of PRECISION_MODES) if (release.options[`--${mode}`]) expectAccepted(`--${mode}`, { precision: [mode] });
    const layered = release.options['--layerPrecisions'] !== undefined;
    const typed = release.grammar.ioFormats.form === 'type:formats';
    for (const type of dataTypes(release)) {
      if (layered) expectAccepted(`--layerPrecisions type ${type}`, { layerPrecisions: { '/fc/Gemm': type as 'fp16' }, precisionConstraints: 'obey' });
      if (typed) expectAccepted(`--inputIOFormats type ${type}`, { inputIOFormats: [`${type}:chw`] });
    }
    for (const format of tensorFormats(release)) expectAccepted(`--outputIOFormats ${format}`, { outputIOFormats: [typed ? `fp32:${format}` : format] });
    expectAccepted('--inputIOFormats with several layouts', { inputIOFormats: [typed ? 'fp16:chw+hwc8' : 'chw+hwc8'] });
    for (const level of ['ampere+', 'sameComputeCapability'] as const) {
      if (hardwareCompatibilityLevelOk(release, level)) expectAccepted(`--hardwareCompatibilityLevel ${level}`, { hardwareCompatibilityLevel: level });
    }
    const names = Object.keys(release.grammar.tacticSources.names);
    for (const [key, name] of Object.entries(TACTIC_SOURCES)) if (names.includes(name)) expectAccepted(`--tacticSources ${name}`, { tacticSources: { [key]: true } });
    const kilnNames: string[] = Object.values(TACTIC_SOURCES);
    for (const name of names) if (!kilnNames.includes(name) && !deliberateRefusal('--tacticSources', name)) refusals.push(`--tacticSources ${name}: no Kiln spelling`);
    for (const pool of Object.keys(release.grammar.memPoolSize.pools)) if (pool !== 'workspace' && !deliberateRefusal('--memPoolSize', pool)) refusals.push(`--memPoolSize ${pool}: no Kiln spelling`);
    const matching = release.grammar.layerPrecisions?.matching.kind;
    if (matching) expectAccepted('--layerPrecisions *', { layerPrecisions: { '*': 'fp16' }, precisionConstraints: 'obey' });
    if (matching === 'exact-then-one-wildcard') expectAccepted('--layerPrecisions with one *', { layerPrecisions: { 'block*/Conv': 'fp16' }, precisionConstraints: 'obey' });
    if (release.options['--stripWeights'] || release.options['--weightless']) expectAccepted('weight stripping', { stripWeights: true });
    expect(refusals).toEqual([]);
  });
});

test('every deliberate refusal names options some release has, and says why', () => {
  const known = new Set(TRTEXEC_RELEASES.flatMap((r) => Object.keys(r.options)));
  for (const refusal of DELIBERATE_REFUSALS) {
    expect(refusal.reason.length).toBeGreaterThan(20);
    expect(refusal.options.filter((o) => !known.has(o))).toEqual([]);
  }
});

test('the issue 8 cases, release by release', () => {
  const argvOf = (version: string, input: TensorRtOptionsInput) =>
    buildArgs({ trt: `${version}.0`, cc: CC, options: TensorRtOptionsSchema.parse(input), paths: PATHS, subject: 'worker' }).slice(6);
  expect(argvOf('11.0', { inputIOFormats: ['chw'], outputIOFormats: ['hwc8+chw'] })).toEqual(['--inputIOFormats=chw', '--outputIOFormats=hwc8+chw']);
  expect(argvOf('9.0', { layerPrecisions: { 'block*': 'fp16' }, precisionConstraints: 'obey' })).toEqual(['--layerPrecisions=block*:fp16', '--precisionConstraints=obey']);
  expect(argvOf('9.2', { stripWeights: true })).toEqual(['--weightless']);
  expect(argvOf('10.0', { stripWeights: true })).toEqual(['--stripWeights']);
  expect(OUTCOMES.get('10.13')!.refused.has('stripWeights')).toBe(false);
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { TRTEXEC_RELEASES } from '../../src/core/tensorrt/trtexec-contract';
import { readExportedOutputs } from '../../src/worker/toolchains/tensorrt/export-output';
import { checkPlan } from '../../src/core/tensorrt/plan-header';
import { tinyConv } from '../models';
import { runStandin, type Played } from './standin';

/**
 * The trtexec stand-in (a test double, not TensorRT) playing every release of the contract table:
 * it takes exactly the options and values that release's parser takes, fails as that release
 * fails, and plays the behaviours issue 8 is about (weight stripping and refit, version-compatible
 * loading, layer-name wildcards, --exportProfile).
 */

/** The stand-in's parser, in process (test code may use it; src never does). */
const { parse } = require('../trtexec-standin/lib/options') as {
  parse: (argv: string[], release: unknown) => { unknown: { name: string }[]; notPlayed: string[]; options: Record<string, unknown> };
};
const { releaseFor } = require('../trtexec-standin/lib/contract') as { releaseFor: (v: { major: number; minor: number; patch: number }) => unknown };

/** The TensorRT version the stand-in plays for a release branch (its GA patch where that is not .0). */
const PATCH: Record<string, string> = { '8.6': '8.6.1', '9.0': '9.0.1', '10.0': '10.0.1', '10.14': '10.14.1', '10.15': '10.15.1', '10.16': '10.16.1' };
const played = (release: string, cc = '8.9'): Played => ({ trt: PATCH[release] ?? `${release}.0`, cc });

let dir: string;
let onnx: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-standin-releases-'));
  onnx = join(dir, 'conv.onnx');
  await writeFile(onnx, tinyConv());
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SHAPES = ['--minShapes=x:1x3x16x16', '--optShapes=x:2x3x16x16', '--maxShapes=x:4x3x16x16'];
const buildArgv = (name: string, ...extra: string[]) => [`--onnx=${onnx}`, `--saveEngine=${join(dir, `${name}.plan`)}`, ...SHAPES, ...extra];

/** The JSON body the stand-in writes after a plan's 28-byte header and its length. */
async function planBody(name: string): Promise<Record<string, unknown>> {
  const plan = await readFile(join(dir, `${name}.plan`));
  return JSON.parse(plan.subarray(32, 32 + plan.readUInt32LE(28)).toString()) as Record<string, unknown>;
}

/** A validation run of a plan: seeded inputs, exported outputs and ONNX Runtime's reference. */
async function validate(engine: string, who: Played, ...extra: string[]) {
  const x = Float32Array.from({ length: 2 * 3 * 16 * 16 }, (_, i) => Math.sin(i));
  const input = join(dir, 'x.bin');
  await writeFile(input, Buffer.from(x.buffer));
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.json`);
  const run = await runStandin([`--loadEngine=${engine}`, '--shapes=x:2x3x16x16', `--loadInputs=x:${input}`, `--exportOutput=${out}`, '--iterations=1', '--warmUp=0', '--duration=0', ...extra], who);
  if (run.code !== 0) return { run, values: [] as number[], reference: [] as number[] };
  const session = await ort.InferenceSession.create(onnx);
  const reference = Array.from((await session.run({ x: new ort.Tensor('float32', x, [2, 3, 16, 16]) })).logits.data as Float32Array);
  await session.release();
  return { run, values: (await readExportedOutputs(out))[0].values, reference };
}

describe('the command line of every release, from the contract table', () => {
  const everyOption = [...new Set(TRTEXEC_RELEASES.flatMap((r) => Object.keys(r.options)))].filter((n) => n !== '--help' && n !== '-h');

  test.each(TRTEXEC_RELEASES.map((r) => r.version))('%s: an option is unknown exactly when the release does not take it', (version) => {
    const release = releaseFor({ major: Number(version.split('.')[0]), minor: Number(version.split('.')[1]), patch: 0 });
    const table = TRTEXEC_RELEASES.find((r) => r.version === version)!;
    for (const name of everyOption) {
      let unknown: string[];
      try {
        unknown = parse(name === '--onnx' ? [`--onnx=${onnx}`] : [`--onnx=${onnx}`, name], release).unknown.map((a) => a.name);
      } catch {
        unknown = []; // a value error: the release took the option and refused its (empty) value
      }
      expect([name, unknown.includes(name)]).toEqual([name, !(name in table.options)]);
    }
  });

  test('an option given twice leaves the second unknown, unless it repeats; --vc then --versionCompatible likewise', () => {
    const release = releaseFor({ major: 10, minor: 9, patch: 0 });
    expect(parse([`--onnx=${onnx}`, '--fp16', '--fp16'], release).unknown.map((a) => a.name)).toEqual(['--fp16']);
    expect(parse([`--onnx=${onnx}`, '--vc', '--versionCompatible'], release).unknown.map((a) => a.name)).toEqual(['--versionCompatible']);
    expect(parse([`--onnx=${onnx}`, '--versionCompatible'], release).unknown).toEqual([]);
    expect(parse([`--onnx=${onnx}`, '--plugins=a.so', '--plugins=b.so'], release)).toMatchObject({ unknown: [], notPlayed: ['--plugins', '--plugins'] });
  });

  test.each(TRTEXEC_RELEASES.map((r) => r.version))('%s: builds, with that release\'s version in the plan', async (version) => {
    const who = played(version);
    const run = await runStandin([...buildArgv(`v${version}`), '--skipInference'], who);
    expect([version, run.code, run.log.errors]).toEqual([version, 0, []]);
    const plan = await checkPlan(join(dir, `v${version}.plan`), who.trt);
    expect(`${plan.trt.major}.${plan.trt.minor}`).toBe(version);
  });

  test('several optimization profiles from 9.0: each --profile takes the shapes right behind it', async () => {
    const argv = [`--onnx=${onnx}`, `--saveEngine=${join(dir, 'two.plan')}`, '--skipInference', '--profile=0', ...SHAPES, '--profile=1', '--minShapes=x:8x3x16x16', '--optShapes=x:8x3x16x16', '--maxShapes=x:16x3x16x16'];
    const run = await runStandin(argv, played('10.9'));
    expect([run.code, run.log.errors]).toEqual([0, []]);
    expect((await planBody('two')).profiles).toEqual([
      { min: { x: [1, 3, 16, 16] }, opt: { x: [2, 3, 16, 16] }, max: { x: [4, 3, 16, 16] } },
      { min: { x: [8, 3, 16, 16] }, opt: { x: [8, 3, 16, 16] }, max: { x: [16, 3, 16, 16] } },
    ]);
    const old = await runStandin(argv, played('8.6'));
    expect(old.code).toBe(1);
    expect(old.log.errors).toEqual(expect.arrayContaining(['Unknown option: --profile 0', 'Unknown option: --profile 1', 'Unknown option: --minShapes x:8x3x16x16']));
  });

  test('an unknown option: FAILED and exit 1; 11.1 exits 1 without the status line', async () => {
    for (const version of ['8.6', '10.9', '11.0', '11.1']) {
      const run = await runStandin([...buildArgv('unknown'), '--skipInference', '--noSuchOption=1'], played(version));
      expect([version, run.code, run.log.errors]).toEqual([version, 1, ['Unknown option: --noSuchOption 1']]);
      expect([version, run.output.includes('&&&& FAILED')]).toEqual([version, version !== '11.1']);
    }
  });

  test('an option the release takes but the stand-in does not play fails in the stand-in\'s own words', async () => {
    const run = await runStandin([...buildArgv('plugins'), '--plugins=/x/libplugin.so'], played('10.9'));
    expect(run.code).toBe(1);
    expect(run.log.errors).toEqual(["the Kiln trtexec stand-in does not play --plugins (TensorRT 10.9's trtexec accepts it)"]);
  });
});

describe('value grammar per release', () => {
  test('I/O formats: type:formats up to 10.x, layout only from 11.0, with each release\'s error', async () => {
    const io = async (version: string, format: string) => runStandin([...buildArgv(`io${version}`), '--skipInference', `--inputIOFormats=${format}`], played(version));
    expect((await io('10.16', 'fp16:chw')).code).toBe(0);
    expect((await io('10.16', 'chw')).log.errors).toEqual(['Invalid IOFormat chw']);
    expect((await io('11.0', 'chw')).code).toBe(0);
    expect((await io('11.1', 'hwc8+chw')).code).toBe(0);
    const typed = await io('11.0', 'fp16:chw');
    expect([typed.code, typed.log.errors]).toEqual([1, ['Invalid TensorFormat fp16:chw']]);
    expect((await io('10.9', 'fp16:hwc16')).log.errors).toEqual(['Invalid TensorFormat hwc16']);
  });

  test('11.0 refuses --fp16; 11.x warns that --useSpinWait is a deprecated no-op', async () => {
    expect((await runStandin([...buildArgv('fp16'), '--skipInference', '--fp16'], played('11.0'))).log.errors).toEqual(['Unknown option: --fp16']);
    const spin = await runStandin([...buildArgv('spin'), '--useSpinWait', '--iterations=1', '--duration=0', '--warmUp=0'], played('11.0'));
    expect(spin.code).toBe(0);
    expect(spin.log.warnings).toContain('--useSpinWait is deprecated. Spin wait is now enabled by default. Use --noSpinWait to disable spin wait.');
  });

  test('memPoolSize units: 10.0 has no default suffix, 10.1 reads a bare number as MiB; bad suffixes fail', async () => {
    const pool = (version: string, value: string) => runStandin([...buildArgv('pool'), '--skipInference', `--memPoolSize=workspace:${value}`], played(version));
    expect((await pool('9.3', '1024')).output).toMatch(/Memory Pools: workspace: 1024 MiB/);
    expect((await pool('10.1', '1024')).output).toMatch(/Memory Pools: workspace: 1024 MiB/);
    expect((await pool('10.1', '2G')).output).toMatch(/Memory Pools: workspace: 2048 MiB/);
    expect((await pool('10.9', '1Q')).log.errors).toEqual([
      'Error parsing "1Q": invalid unit specifier \'Q\'. Valid base-2 unit suffixes include: B (Bytes), G (Gibibytes), K (Kibibytes), M (Mebibytes). conversion failure: failed to parse --memPoolSize. Please double check your input string.',
    ]);
    expect((await pool('10.9', '-1')).log.errors[0]).toMatch(/^Negative memory pool size: -1048576\.000000$/);
  });

  test('layerPrecisions wildcards: 8.6 takes them but matches exact names only; 9.0+ applies one wildcard', async () => {
    const layers = async (version: string, spec: string, constraints = 'obey') => {
      const run = await runStandin([...buildArgv('wild'), '--skipInference', `--layerPrecisions=${spec}`, `--precisionConstraints=${constraints}`], played(version));
      return { run, set: run.output.match(/Set layer \S+ to precision \w+/g) ?? [] };
    };
    const old = await layers('8.6', 'Conv*:fp16');
    expect([old.run.code, old.set]).toEqual([0, []]);
    const star = await layers('9.0', '*:fp16');
    expect(star.set).toHaveLength(6);
    const conv = await layers('10.9', 'Conv*:fp16,Gemm_5:fp32');
    expect(conv.set).toEqual(['Set layer Conv_0 to precision fp16', 'Set layer Gemm_5 to precision fp32']);
    const none = await layers('10.9', 'Conv*:fp16', 'none');
    expect(none.set).toEqual([]);
    expect(none.run.log.warnings).toContain('--layerPrecision/--layerOutputTypes flags have no effect when --precisionConstraints flag is set to "none".');
    expect((await layers('10.9', 'Conv*:fp17')).run.log.errors).toEqual(['Invalid DataType fp17']);
  });
});

describe('weight stripping and refit', () => {
  test('9.2: --weightless makes a weightless plan, run without its weights (no refit before 10.14)', async () => {
    expect((await runStandin([...buildArgv('wl91'), '--skipInference', '--weightless'], played('9.1'))).log.errors).toEqual(['Unknown option: --weightless']);
    const built = await runStandin([...buildArgv('wl92'), '--skipInference', '--weightless'], played('9.2'));
    expect(built.code).toBe(0);
    expect(await planBody('wl92')).toMatchObject({ stripWeights: true, strippedBy: '--weightless', refittable: false });
    const { run, values, reference } = await validate(join(dir, 'wl92.plan'), played('9.2'));
    expect(run.code).toBe(0);
    expect(values.every((v) => v === 0)).toBe(true);
    expect(reference.some((v) => v !== 0)).toBe(true);
  });

  test('10.13: --stripWeights, but no --refitFromOnnx yet', async () => {
    await runStandin([...buildArgv('sw1013'), '--skipInference', '--stripWeights'], played('10.13'));
    const { run } = await validate(join(dir, 'sw1013.plan'), played('10.13'), '--refit', `--refitFromOnnx=${onnx}`);
    expect([run.code, run.log.errors]).toEqual([1, [`Unknown option: --refitFromOnnx ${onnx}`]]);
  });

  test('10.16: a stripped plan refitted from the ONNX at load (with --refit) gives the model\'s outputs again', async () => {
    const built = await runStandin([...buildArgv('sw1016'), '--skipInference', '--stripWeights'], played('10.16'));
    expect(built.code).toBe(0);
    const plan = join(dir, 'sw1016.plan');
    const bare = await validate(plan, played('10.16'));
    expect(bare.values.every((v) => v === 0)).toBe(true);
    // --refitFromOnnx without --refit is read and never used (trtexec.cpp refits only when refittable).
    const ignored = await validate(plan, played('10.16'), `--refitFromOnnx=${onnx}`);
    expect(ignored.values.every((v) => v === 0)).toBe(true);
    const refitted = await validate(plan, played('10.16'), '--refit', `--refitFromOnnx=${onnx}`);
    expect(refitted.run.output).toContain(`Engine successfully refitted from ONNX model ${onnx}`);
    refitted.reference.forEach((b, i) => expect(Math.abs(refitted.values[i] - b)).toBeLessThanOrEqual(5e-6 * Math.abs(b) + 1e-7));
  });

  test('10.16: refitting a plan built neither refittable nor stripped fails as trtexec reports it', async () => {
    await runStandin([...buildArgv('plain1016'), '--skipInference'], played('10.16'));
    const { run } = await validate(join(dir, 'plain1016.plan'), played('10.16'), '--refit', `--refitFromOnnx=${onnx}`);
    expect(run.code).toBe(1);
    expect(run.log.errors.at(-1)).toBe('Engine refit from ONNX model failed.');
  });
});

describe('version-compatible plans', () => {
  test('load only with --versionCompatible (or --vc) on the load command, unless built with --excludeLeanRuntime', async () => {
    await runStandin([...buildArgv('vc'), '--skipInference', '--versionCompatible'], played('10.9'));
    const refused = await validate(join(dir, 'vc.plan'), played('10.9'));
    expect(refused.run.code).toBe(1);
    expect(refused.run.log.errors.slice(1)).toEqual(['Engine deserialization failed', 'Got invalid engine!', 'Inference set up failed']);
    expect(refused.run.log.errors[0]).toMatch(/^\[TRT\] IRuntime::deserializeCudaEngine: \[Kiln stand-in wording, not TensorRT's\]/);
    expect((await validate(join(dir, 'vc.plan'), played('10.9'), '--versionCompatible')).run.code).toBe(0);
    expect((await validate(join(dir, 'vc.plan'), played('10.9'), '--vc')).run.code).toBe(0);
    await runStandin([...buildArgv('vclean'), '--skipInference', '--vc', '--excludeLeanRuntime'], played('10.9'));
    expect((await validate(join(dir, 'vclean.plan'), played('10.9'))).run.code).toBe(0);
  });
});

describe('--exportProfile', () => {
  test('per-layer times in exportJSONProfile\'s layout; before 11.0 the summary is skipped unless --separateProfileRun', async () => {
    for (const version of ['10.9', '11.0']) {
      await runStandin([...buildArgv(`prof${version}`), '--skipInference'], played(version));
      const file = join(dir, `profile-${version}.json`);
      const run = await runStandin([`--loadEngine=${join(dir, `prof${version}.plan`)}`, '--shapes=x:2x3x16x16', `--exportProfile=${file}`, '--iterations=20', '--duration=0'], played(version));
      expect(run.code).toBe(0);
      expect([version, run.log.performance === undefined]).toEqual([version, version === '10.9']);
      const text = await readFile(file, 'utf8');
      expect(text).toMatch(/^\[\n {2}\{ "count" : \d+ \}\n, \{ "name" : "Conv_0", "timeMs" : [\d.e-]+, "averageMs" : [\d.e-]+, "medianMs" : [\d.e-]+, "percentage" : [\d.e-]+ \}\n/);
      const [header, ...layers] = JSON.parse(text) as [{ count: number }, ...{ name: string; percentage: number }[]];
      expect(header.count).toBe(20);
      expect(layers.map((l) => l.name)).toEqual(['Conv_0', 'BatchNormalization_1', 'Relu_2', 'GlobalAveragePool_3', 'Flatten_4', 'Gemm_5']);
      expect(layers.reduce((a, l) => a + l.percentage, 0)).toBeCloseTo(100, 3);
    }
    const separate = await runStandin([`--loadEngine=${join(dir, 'prof10.9.plan')}`, '--shapes=x:2x3x16x16', `--exportProfile=${join(dir, 'p.json')}`, '--separateProfileRun', '--duration=0'], played('10.9'));
    expect(separate.log.performance).toBeDefined();
  });
});

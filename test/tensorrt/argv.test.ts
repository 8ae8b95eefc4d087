import { buildArgs, type BuildArgsRequest } from '../../src/core/tensorrt/build-argv';
import { inferenceArgs } from '../../src/core/tensorrt/inference-argv';
import { TrtOptionError } from '../../src/core/tensorrt/errors';
import { TensorRtOptionsSchema, type TensorRtOptions, type TensorRtOptionsInput } from '../../src/core/tensorrt/options';
import { BuildInputError } from '../../src/worker/toolchains/toolchain';

const PATHS = { onnx: '/w/model.onnx', engine: '/w/engine.plan', timingCache: '/w/timing.cache', layerInfo: '/w/layers.json' };
const BASE = [
  '--onnx=/w/model.onnx',
  '--saveEngine=/w/engine.plan',
  '--timingCacheFile=/w/timing.cache',
  '--skipInference',
  '--exportLayerInfo=/w/layers.json',
  '--profilingVerbosity=detailed',
];

const options = (input: TensorRtOptionsInput = {}): TensorRtOptions => TensorRtOptionsSchema.parse(input);
const args = (input: TensorRtOptionsInput, trt = '10.9.0', cc = '8.9', extra: Partial<BuildArgsRequest> = {}) =>
  buildArgs({ trt, cc, options: options(input), paths: PATHS, subject: 'worker', ...extra });
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TrtOptionError);
    expect(err).toBeInstanceOf(BuildInputError);
    return (err as Error).message;
  }
  throw new Error('expected a TrtOptionError');
};

/** Flags that load code or name paths; none may ever come out of user options. */
const FORBIDDEN = ['--plugins', '--staticPlugins', '--dynamicPlugins', '--setPluginsToSerialize', '--loadEngine', '--exportTimes', '--exportProfile', '--leanDLLPath', '--tempdir', '--saveDebugTensors'];

describe('buildArgs', () => {
  test('defaults add nothing to the fixed build arguments', () => {
    expect(args({})).toEqual(BASE);
    expect(args({}, '8.6.1', '7.5')).toEqual(BASE);
  });

  test('every option maps onto trtexec flags (TensorRT 10.9.0, CC 8.9)', () => {
    const argv = args(
      {
        precision: ['fp16', 'noTF32'],
        profiles: [{ x: { min: [1, 3, 16, 16], opt: [4, 3, 16, 16], max: [8, 3, 16, 16] }, 'input:0': { min: [1, 6], opt: [4, 6], max: [8, 6] } }],
        memPoolSize: { workspace: 2048 },
        builderOptimizationLevel: 5,
        hardwareCompatibilityLevel: 'sameComputeCapability',
        versionCompatible: true,
        excludeLeanRuntime: true,
        layerPrecisions: { '/conv1/Conv': 'fp32', 'onnx::Gemm_5': 'fp16' },
        precisionConstraints: 'obey',
        inputIOFormats: ['fp16:chw', 'fp32:chw'],
        outputIOFormats: ['fp16:chw+hwc8'],
        tacticSources: { cudnn: false, edgeMaskConvolutions: true },
        maxAuxStreams: 2,
        stripWeights: true,
        refit: true,
      },
      '10.9.0',
      '8.9',
    );
    expect(argv).toEqual([
      ...BASE,
      '--fp16',
      '--noTF32',
      "--minShapes=x:1x3x16x16,'input:0':1x6",
      "--optShapes=x:4x3x16x16,'input:0':4x6",
      "--maxShapes=x:8x3x16x16,'input:0':8x6",
      '--memPoolSize=workspace:2048M',
      '--builderOptimizationLevel=5',
      '--hardwareCompatibilityLevel=sameComputeCapability',
      '--versionCompatible',
      '--excludeLeanRuntime',
      "--layerPrecisions=/conv1/Conv:fp32,'onnx::Gemm_5':fp16",
      '--precisionConstraints=obey',
      '--inputIOFormats=fp16:chw,fp32:chw',
      '--outputIOFormats=fp16:chw+hwc8',
      '--tacticSources=-CUDNN,+EDGE_MASK_CONVOLUTIONS',
      '--maxAuxStreams=2',
      '--stripWeights',
      '--refit',
    ]);
    for (const arg of argv) {
      expect(arg.startsWith('--')).toBe(true);
      expect(FORBIDDEN.some((flag) => arg.startsWith(`${flag}=`) || arg === flag)).toBe(false);
    }
  });

  test('several profiles use --profile=i before each profile\'s shapes (TensorRT >= 9.0)', () => {
    const range = (n: number) => ({ x: { min: [n, 4], opt: [n, 4], max: [n * 2, 4] } });
    expect(args({ profiles: [range(1), range(8)] }, '10.3.0').slice(BASE.length)).toEqual([
      '--profile=0', '--minShapes=x:1x4', '--optShapes=x:1x4', '--maxShapes=x:2x4',
      '--profile=1', '--minShapes=x:8x4', '--optShapes=x:8x4', '--maxShapes=x:16x4',
    ]);
    expect(refusal(() => args({ profiles: [range(1), range(8)] }, '8.6.1'))).toBe('more than one optimization profile needs TensorRT >= 9.0; this worker has 8.6.1');
  });

  test('--memPoolSize is MiB without a unit up to 10.0 and with M from 10.1', () => {
    expect(args({ memPoolSize: { workspace: 1024 } }, '8.6.1')).toContain('--memPoolSize=workspace:1024');
    expect(args({ memPoolSize: { workspace: 1024 } }, '10.0.1')).toContain('--memPoolSize=workspace:1024');
    expect(args({ memPoolSize: { workspace: 1024 } }, '10.1.0')).toContain('--memPoolSize=workspace:1024M');
  });

  test('the calibration cache is the worker\'s local copy; INT8 and best map to flags', () => {
    const sha = 'ab'.repeat(32);
    expect(buildArgs({ trt: '8.6.1', cc: '7.5', options: options({ precision: ['int8'], calibration: sha }), paths: { ...PATHS, calib: '/w/calib.cache' }, subject: 'worker' }).slice(BASE.length)).toEqual([
      '--int8',
      '--calib=/w/calib.cache',
    ]);
    expect(() => args({ precision: ['int8'], calibration: sha })).toThrow(`Expected paths.calib for calibration ${sha} but received none`);
    expect(args({ precision: ['best'] }, '8.6.1', '7.5').slice(BASE.length)).toEqual(['--best']);
  });

  test('the target\'s hardware compatibility decides, and must not contradict the options', () => {
    expect(args({}, '10.9.0', '8.6', { targetHwCompat: 'ampere+' })).toContain('--hardwareCompatibilityLevel=ampere+');
    expect(args({}, '10.9.0', '8.9', { targetHwCompat: 'sameComputeCapability' })).toContain('--hardwareCompatibilityLevel=sameComputeCapability');
    expect(args({ hardwareCompatibilityLevel: 'ampere+' }, '10.9.0', '8.6', { targetHwCompat: 'ampere+' })).toContain('--hardwareCompatibilityLevel=ampere+');
    expect(refusal(() => args({ hardwareCompatibilityLevel: 'ampere+' }, '10.9.0', '8.6', { targetHwCompat: 'none' }))).toBe(
      "hardwareCompatibilityLevel ampere+ conflicts with the target's hwCompat none; set it in one place",
    );
  });

  describe('version and GPU gates', () => {
    test.each<[string, TensorRtOptionsInput, string, string, string]>([
      ['sameComputeCapability', { hardwareCompatibilityLevel: 'sameComputeCapability' }, '10.3.0', '8.9', 'sameComputeCapability needs TensorRT >= 10.9; this worker has 10.3.0'],
      ['stronglyTyped', { precision: ['stronglyTyped'] }, '8.6.1', '7.5', 'stronglyTyped needs TensorRT >= 9.0; this worker has 8.6.1'],
      ['bf16 (version)', { precision: ['bf16'] }, '8.6.1', '8.6', 'bf16 needs TensorRT >= 9.0; this worker has 8.6.1'],
      ['bf16 (GPU)', { precision: ['bf16'] }, '10.9.0', '7.5', 'bf16 needs a GPU of compute capability >= 8.0; this worker has 7.5'],
      ['fp8 (GPU)', { precision: ['fp8'] }, '10.9.0', '8.6', 'fp8 needs a GPU of compute capability >= 8.9; this worker has 8.6'],
      ['ampere+ (GPU)', { hardwareCompatibilityLevel: 'ampere+' }, '8.6.1', '7.5', 'ampere+ needs a GPU of compute capability >= 8.0; this worker has 7.5'],
      ['stripWeights', { stripWeights: true }, '9.1.0', '8.9', 'stripWeights needs TensorRT >= 9.2; this worker has 9.1.0'],
      ['fp16 in 11', { precision: ['fp16'] }, '11.0.0', '8.9', 'fp16 is not accepted from TensorRT 11.0 (networks are strongly typed from TensorRT 11.0); this worker has 11.0.0'],
      ['layerPrecisions in 11', { layerPrecisions: { a: 'fp16' }, precisionConstraints: 'prefer' }, '11.0.0', '8.9', 'layerPrecisions is not accepted from TensorRT 11.0 (networks are strongly typed from TensorRT 11.0); this worker has 11.0.0'],
      ['bf16 layer precision', { layerPrecisions: { '/fc/Gemm': 'bf16' }, precisionConstraints: 'obey' }, '8.6.1', '8.6', 'layerPrecisions./fc/Gemm type bf16 needs TensorRT >= 9.0; this worker has 8.6.1'],
      ['bf16 I/O', { inputIOFormats: ['bf16:chw'] }, '8.6.1', '8.6', 'inputIOFormats type bf16 needs TensorRT >= 9.0; this worker has 8.6.1'],
      ['hwc16 I/O', { outputIOFormats: ['fp16:hwc16'] }, '10.9.0', '8.9', 'outputIOFormats format hwc16 needs TensorRT >= 10.10; this worker has 10.9.0'],
      ['cuDNN in 11', { tacticSources: { cudnn: false } }, '11.0.0', '8.9', 'tactic source cudnn is not accepted from TensorRT 11.0; this worker has 11.0.0'],
      ['cuBLAS with sameComputeCapability', { tacticSources: { cublas: true }, hardwareCompatibilityLevel: 'sameComputeCapability' }, '10.9.0', '8.9', 'tactic source cublas cannot be enabled with sameComputeCapability, which disables cuDNN, cuBLAS and cuBLASLt'],
      ['an old TensorRT', {}, '8.5.3', '8.6', 'Kiln needs TensorRT >= 8.6; this worker has 8.5.3'],
    ])('%s', (_name, input, trt, cc, message) => {
      expect(refusal(() => args(input, trt, cc))).toBe(message);
    });

    test('what each version does accept', () => {
      expect(args({ precision: ['stronglyTyped'] }, '9.0.0', '8.9')).toContain('--stronglyTyped');
      // From 11.0 every network is strongly typed; the flag is only a deprecation warning there.
      expect(args({ precision: ['stronglyTyped'] }, '11.0.0', '8.9')).toEqual(BASE);
      expect(args({ precision: ['bf16'] }, '10.9.0', '8.0')).toContain('--bf16');
      expect(args({ precision: ['fp8'] }, '8.6.1', '9.0')).toContain('--fp8');
      expect(args({ hardwareCompatibilityLevel: 'ampere+' }, '8.6.1', '8.0')).toContain('--hardwareCompatibilityLevel=ampere+');
      expect(args({ stripWeights: true }, '10.0.1', '8.9')).toContain('--stripWeights');
      expect(args({ tacticSources: { jitConvolutions: false } }, '11.0.0', '8.9')).toContain('--tacticSources=-JIT_CONVOLUTIONS');
    });
  });

  describe('nothing reaches trtexec that the allow-list did not write', () => {
    // Options that bypassed the schema (a bug elsewhere) still cannot smuggle an argument in.
    const raw = (patch: Record<string, unknown>) => ({ ...options(), ...patch }) as TensorRtOptions;
    test.each([
      ['x,--plugins=/tmp/evil.so'],
      ['--plugins'],
      ['x=1'],
      ["x'"],
      ['x y'],
    ])('tensor name %j', (name) => {
      const profiles = [{ [name]: { min: [1], opt: [1], max: [1] } }];
      expect(refusal(() => buildArgs({ trt: '10.9.0', cc: '8.9', options: raw({ profiles }), paths: PATHS, subject: 'worker' }))).toBe(
        `Expected profiles to name tensors or layers of 1-256 characters from A-Z a-z 0-9 _ . : / ( ) [ ] -, not starting with '-' but received ${JSON.stringify(name)}`,
      );
      expect(() => inferenceArgs({ kind: 'validate', trt: '10.9.0', engine: '/w/e.plan', inputs: { [name]: '/w/x.bin' }, exportOutput: '/w/out.json' })).toThrow(TrtOptionError);
    });

    test('paths are the worker\'s: absolute, nothing trtexec would split on', () => {
      for (const onnx of ['model.onnx', '/w/a,b.onnx', '/w/a:b.onnx', '/w/a b.onnx', '/w/a=b.onnx']) {
        expect(() => buildArgs({ trt: '10.9.0', cc: '8.9', options: options(), paths: { ...PATHS, onnx }, subject: 'worker' })).toThrow(
          `Expected an absolute path without , : ' " = or spaces for onnx but received ${JSON.stringify(onnx)}`,
        );
      }
    });
  });
});

describe('inferenceArgs', () => {
  test('validation: inputs from raw files, outputs to JSON, one iteration', () => {
    expect(
      inferenceArgs({
        kind: 'validate',
        trt: '10.9.0',
        engine: '/w/engine.plan',
        shapes: { x: [2, 3, 16, 16], 'input:0': [2, 6] },
        inputs: { x: '/w/x.bin', 'input:0': '/w/input0.bin' },
        exportOutput: '/w/outputs.json',
      }),
    ).toEqual([
      '--loadEngine=/w/engine.plan',
      "--shapes=x:2x3x16x16,'input:0':2x6",
      "--loadInputs=x:/w/x.bin,'input:0':/w/input0.bin",
      '--exportOutput=/w/outputs.json',
      '--iterations=1',
      '--warmUp=0',
      '--duration=0',
    ]);
  });

  test('benchmark: defaults are trtexec\'s; spin-wait before 11.0, host copies timed from 11.0', () => {
    expect(inferenceArgs({ kind: 'benchmark', trt: '8.6.1', engine: '/w/engine.plan', shapes: { x: [4, 8] } })).toEqual([
      '--loadEngine=/w/engine.plan', '--shapes=x:4x8', '--iterations=10', '--duration=3', '--warmUp=200', '--percentile=90,95,99', '--useSpinWait',
    ]);
    expect(
      inferenceArgs({ kind: 'benchmark', trt: '11.0.0', engine: '/w/engine.plan', iterations: 50, durationSeconds: 1, warmUpMs: 100, profileIndex: 1 }),
    ).toEqual(['--loadEngine=/w/engine.plan', '--useProfile=1', '--iterations=50', '--duration=1', '--warmUp=100', '--percentile=90,95,99', '--includeDataTransfers']);
  });

  test('refusals', () => {
    expect(refusal(() => inferenceArgs({ kind: 'benchmark', trt: '8.6.1', engine: '/w/e.plan', profileIndex: 1 }))).toBe(
      'optimization profile 1 needs TensorRT >= 9.0; this worker has 8.6.1',
    );
    expect(refusal(() => inferenceArgs({ kind: 'benchmark', trt: '10.9.0', engine: '/w/e.plan', shapes: { x: [0, 3] } }))).toBe(
      'Expected 1-8 positive integer dims for shapes.x but received [0,3]',
    );
    expect(refusal(() => inferenceArgs({ kind: 'benchmark', trt: '10.9.0', engine: '/w/e.plan', iterations: 0 }))).toBe(
      'Expected an integer in [1, 1000000] for iterations but received 0',
    );
    expect(refusal(() => inferenceArgs({ kind: 'benchmark', trt: '10.9.0', engine: '/w/e.plan', percentiles: [101] }))).toBe(
      'Expected percentiles in [0, 100] but received 101',
    );
  });
});

/**
 * Where a trtexec release boundary changes what Kiln writes, as read from NVIDIA's own source on
 * each release branch: I/O formats become layout-only in 11.0, layer-name wildcards arrive in 9.0,
 * weight stripping is --weightless on 9.2/9.3 and --stripWeights from 10.0, version-compatible
 * engines need the load-side opt-in, and stripped engines can be refitted at load from 10.14.
 * Refusals are worded for whoever has the release: the target at submit, the worker before a run.
 */
import { buildArgs, checkOptionsForTarget } from '../../src/core/tensorrt/build-argv';
import { engineLoading } from '../../src/core/tensorrt/engine-loading';
import { TrtOptionError } from '../../src/core/tensorrt/errors';
import { inferenceArgs } from '../../src/core/tensorrt/inference-argv';
import { TensorRtOptionsSchema, type TensorRtOptionsInput } from '../../src/core/tensorrt/options';
import { parseTrtVersion } from '../../src/core/tensorrt/version';
import { parseTargetKey, type TensorRtTarget } from '../../src/core/target';

const PATHS = { onnx: '/w/model.onnx', engine: '/w/engine.plan', timingCache: '/w/timing.cache', layerInfo: '/w/layers.json' };
const FIXED = 6;
const options = (input: TensorRtOptionsInput) => TensorRtOptionsSchema.parse(input);
const args = (input: TensorRtOptionsInput, trt: string, cc = '8.9') => buildArgs({ trt, cc, options: options(input), paths: PATHS, subject: 'worker' }).slice(FIXED);
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TrtOptionError);
    return (err as Error).message;
  }
  throw new Error('expected a TrtOptionError');
};
const target = (key: string) => parseTargetKey(key) as TensorRtTarget;

describe('I/O formats: type:layout before 11.0, the layout alone from 11.0', () => {
  test('11.x takes layouts only, and refuses a type', () => {
    expect(args({ inputIOFormats: ['chw'], outputIOFormats: ['hwc8+chw'] }, '11.0.0')).toEqual(['--inputIOFormats=chw', '--outputIOFormats=hwc8+chw']);
    expect(args({ inputIOFormats: ['hwc16'] }, '11.1.0')).toEqual(['--inputIOFormats=hwc16']);
    expect(refusal(() => checkOptionsForTarget(target('trt11.0.0-sm89'), options({ inputIOFormats: ['fp16:chw'] })))).toBe(
      'Expected inputIOFormats as a memory layout only on TensorRT >= 11.0 (e.g. chw: the strongly typed network sets the type) but received fp16:chw; this target has 11.0.0',
    );
  });

  test('before 11.0 the type is required', () => {
    expect(args({ inputIOFormats: ['fp16:chw'], outputIOFormats: ['int8:chw32+chw'] }, '10.16.0')).toEqual(['--inputIOFormats=fp16:chw', '--outputIOFormats=int8:chw32+chw']);
    expect(refusal(() => args({ outputIOFormats: ['hwc8+chw'] }, '10.16.0'))).toBe(
      'Expected outputIOFormats as type:layout before TensorRT 11.0 (e.g. fp32:hwc8+chw) but received hwc8+chw; this worker has 10.16.0',
    );
    expect(refusal(() => args({ inputIOFormats: ['chw'] }, '8.6.1', '7.5'))).toMatch(/^Expected inputIOFormats as type:layout before TensorRT 11\.0/);
  });
});

describe('layerPrecisions wildcards', () => {
  const layered = (layerPrecisions: Record<string, string>) => ({ layerPrecisions, precisionConstraints: 'obey' }) as TensorRtOptionsInput;

  test('* alone (every other layer) from 8.6; one * inside a name from 9.0', () => {
    expect(args(layered({ '*': 'fp16', '/head/Gemm': 'fp32' }), '8.6.1', '7.5')).toEqual(['--layerPrecisions=*:fp16,/head/Gemm:fp32', '--precisionConstraints=obey']);
    expect(args(layered({ '/encoder/*/MatMul': 'fp16' }), '9.0.0')).toEqual(['--layerPrecisions=/encoder/*/MatMul:fp16', '--precisionConstraints=obey']);
    expect(args(layered({ 'onnx::*': 'fp16' }), '10.16.0')).toEqual(["--layerPrecisions='onnx::*':fp16", '--precisionConstraints=obey']);
  });

  test('8.6 refuses a * inside a name, saying why; 11.0 has no layerPrecisions at all', () => {
    expect(refusal(() => checkOptionsForTarget(target('trt8.6.1-sm75'), options(layered({ 'conv*': 'fp16' }))))).toBe(
      'layerPrecisions name "conv*" (TensorRT 8.6 reads * only as a whole name, meaning every other layer) needs TensorRT >= 9.0; this target has 8.6.1',
    );
    expect(refusal(() => args(layered({ '*': 'fp16' }), '11.0.0'))).toBe(
      'layerPrecisions is not accepted from TensorRT 11.0 (networks are strongly typed from TensorRT 11.0); this worker has 11.0.0',
    );
  });
});

describe('weight stripping', () => {
  test('--weightless on 9.2 and 9.3, --stripWeights from 10.0 (where --weightless is a deprecated alias, gone in 11.0)', () => {
    expect(args({ stripWeights: true }, '9.2.0')).toEqual(['--weightless']);
    expect(args({ stripWeights: true }, '9.3.0')).toEqual(['--weightless']);
    expect(args({ stripWeights: true }, '10.0.1')).toEqual(['--stripWeights']);
    expect(args({ stripWeights: true }, '10.13.3')).toEqual(['--stripWeights']);
    expect(args({ stripWeights: true }, '11.1.0')).toEqual(['--stripWeights']);
    expect(refusal(() => checkOptionsForTarget(target('trt9.1.0-sm89'), options({ stripWeights: true })))).toBe('stripWeights needs TensorRT >= 9.2; this target has 9.1.0');
  });

  test('stripping keeps the engine refittable with its own weights without --refit; refit as well strips every weight', () => {
    expect(args({ stripWeights: true }, '10.16.0')).not.toContain('--refit');
    expect(args({ stripWeights: true, refit: true }, '10.16.0')).toEqual(['--stripWeights', '--refit']);
    expect(args({ refit: true }, '8.6.1', '7.5')).toEqual(['--refit']);
  });
});

describe('loading an engine for validation and the benchmark', () => {
  const loading = (input: TensorRtOptionsInput, trt: string) => engineLoading(options(input), parseTrtVersion(trt));
  const run = (input: TensorRtOptionsInput, trt: string, kind: 'validate' | 'benchmark') =>
    kind === 'validate'
      ? inferenceArgs({ kind, trt, engine: '/w/engine.plan', loading: loading(input, trt), onnx: '/w/model.onnx', inputs: { x: '/w/x.bin' }, exportOutput: '/w/out.json' })
      : inferenceArgs({ kind, trt, engine: '/w/engine.plan', loading: loading(input, trt), onnx: '/w/model.onnx' });

  test.each(['validate', 'benchmark'] as const)('%s: a version-compatible engine with its lean runtime is loaded with --versionCompatible', (kind) => {
    expect(run({ versionCompatible: true }, '8.6.1', kind)).toContain('--versionCompatible');
    expect(run({ versionCompatible: true }, '11.1.0', kind)).toContain('--versionCompatible');
    // Without the lean runtime the plan embeds no host code to allow.
    expect(run({ versionCompatible: true, excludeLeanRuntime: true }, '10.9.0', kind)).not.toContain('--versionCompatible');
    expect(run({}, '10.9.0', kind)).not.toContain('--versionCompatible');
  });

  test.each(['validate', 'benchmark'] as const)('%s: a stripped engine is refitted from the ONNX at load from 10.14', (kind) => {
    // trtexec refits only with --refit on the same command line; --refitFromOnnx alone is ignored.
    expect(run({ stripWeights: true }, '10.14.1', kind).slice(1, 3)).toEqual(['--refit', '--refitFromOnnx=/w/model.onnx']);
    expect(run({ stripWeights: true, versionCompatible: true }, '11.0.0', kind).slice(1, 4)).toEqual(['--versionCompatible', '--refit', '--refitFromOnnx=/w/model.onnx']);
    expect(run({}, '10.16.0', kind).some((a) => a.startsWith('--refitFromOnnx'))).toBe(false);
  });

  test('before 10.14 a stripped engine cannot be run as built: none is, and the reason says why', () => {
    for (const trt of ['9.2.0', '9.3.0', '10.0.1', '10.13.3']) {
      const l = loading({ stripWeights: true }, trt);
      expect(l.refitFromOnnx).toBe(false);
      expect(l.cannotRun).toBe(
        `the engine was built without its weights (stripWeights) by TensorRT ${trt}, whose trtexec cannot refit them at load (--refitFromOnnx needs TensorRT >= 10.14), ` +
          "so validation and the benchmark were not run on it: refit it from the same ONNX before use (TensorRT's refitter, or trtexec --refitFromOnnx on TensorRT >= 10.14)",
      );
      expect(() => run({ stripWeights: true }, trt, 'validate')).toThrow(/^Expected an engine trtexec can run as built but the engine was built without its weights/);
    }
    expect(loading({ stripWeights: true }, '10.14.1')).toEqual({ hostCode: false, refitFromOnnx: true });
  });
});

test('the same refusal speaks of the target at submit and of the worker before a build', () => {
  const sameCc = options({ hardwareCompatibilityLevel: 'sameComputeCapability' });
  expect(refusal(() => checkOptionsForTarget(target('trt8.6.1-sm75'), sameCc))).toBe('sameComputeCapability needs TensorRT >= 10.9; this target has 8.6.1');
  expect(refusal(() => buildArgs({ trt: '8.6.1', cc: '7.5', options: sameCc, paths: PATHS, subject: 'worker' }))).toBe(
    'sameComputeCapability needs TensorRT >= 10.9; this worker has 8.6.1',
  );
  expect(refusal(() => checkOptionsForTarget(target('trt10.9.0-sm75'), options({ precision: ['bf16'] })))).toBe(
    'bf16 needs a GPU of compute capability >= 8.0; this target has 7.5',
  );
});

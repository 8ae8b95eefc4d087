import { TensorRtOptionsSchema, type TensorRtOptionsInput } from '../../src/core/tensorrt/options';
import { computePrecisionOf } from '../../src/core/tensorrt/precision';

const parse = (input: TensorRtOptionsInput) => TensorRtOptionsSchema.parse(input);
const issues = (input: unknown) => {
  const result = TensorRtOptionsSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('TensorRtOptionsSchema', () => {
  test('{} fills in the defaults, which are TensorRT\'s own', () => {
    expect(parse({})).toEqual({
      precision: [],
      builderOptimizationLevel: 3,
      hardwareCompatibilityLevel: 'none',
      versionCompatible: false,
      excludeLeanRuntime: false,
      layerPrecisions: {},
      precisionConstraints: 'none',
      inputIOFormats: [],
      outputIOFormats: [],
      tacticSources: {},
      stripWeights: false,
      refit: false,
    });
  });

  test('precision is canonical: ordered, unique, and best absorbs fp16 and int8', () => {
    expect(parse({ precision: ['noTF32', 'fp16', 'fp16'] }).precision).toEqual(['fp16', 'noTF32']);
    expect(parse({ precision: ['int8', 'best', 'fp16'] }).precision).toEqual(['best']);
    expect(parse({ precision: ['best', 'fp16'] })).toEqual(parse({ precision: ['best'] }));
  });

  test.each([
    [{ precision: ['best', 'stronglyTyped'] }, 'precision: best and stronglyTyped cannot be combined: best enables implicit precisions, stronglyTyped takes them from the model'],
    [{ precision: ['stronglyTyped', 'fp16', 'int8'] }, 'precision: stronglyTyped takes precisions from the model; remove fp16, int8'],
    [{ precision: ['int8', 'fp8'] }, 'precision: int8 and fp8 cannot be enabled together'],
    [{ calibration: 'a'.repeat(64) }, 'calibration: a calibration cache needs int8 (or best) in precision'],
    [{ excludeLeanRuntime: true }, 'excludeLeanRuntime: excludeLeanRuntime only applies with versionCompatible: true'],
    [{ layerPrecisions: { '/conv1/Conv': 'fp16' } }, 'precisionConstraints: layerPrecisions have no effect unless precisionConstraints is prefer or obey'],
    [{ precisionConstraints: 'obey' }, 'precisionConstraints: precisionConstraints obey needs layerPrecisions to constrain'],
    [{ builderOptimizationLevel: 6 }, 'builderOptimizationLevel: Too big: expected number to be <=5'],
    [{ calibration: '../../etc/passwd' }, 'calibration: the sha256 (64 lower-case hex digits) of an uploaded INT8 calibration cache'],
    [{ profiles: [{ x: { min: [1, 3], opt: [4, 3], max: [2, 3] } }] }, 'profiles.0.x: Expected min <= opt <= max in every dim but dim 0 is 1, 4, 2'],
    [{ profiles: [{ x: { min: [1, 3], opt: [1, 3, 4], max: [1, 3] } }] }, 'profiles.0.x: Expected min, opt and max of one rank but received ranks 2, 3, 2'],
    [
      { profiles: [{ x: { min: [1], opt: [1], max: [1] } }, { y: { min: [1], opt: [1], max: [1] } }] },
      'profiles: Expected every profile to name the inputs x but profile 1 names y',
    ],
    [{ inputIOFormats: ['fp16:nchw'] }, 'inputIOFormats.0: an I/O format: type:layout[+layout] before TensorRT 11.0 (e.g. fp16:chw), layout[+layout] from 11.0 (e.g. hwc8+chw); type one of fp32, fp16, bf16'],
    [{ inputIOFormats: ['fp16'] }, 'inputIOFormats.0: an I/O format'],
    [{ layerPrecisions: { '/a/*/b*': 'fp16' }, precisionConstraints: 'obey' }, 'layerPrecisions./a/*/b*: Expected a layer name of'],
  ])('refuses %j', (input, message) => {
    expect(issues(input).join('\n')).toContain(message);
  });

  test.each([
    ['--plugins=/tmp/evil.so'],
    ['-x'],
    ['a,b'],
    ['a=b'],
    ["a'b"],
    ['a b'],
    [''],
  ])('refuses the tensor name %j in profiles and layerPrecisions', (name) => {
    const rule = "1-256 characters from A-Z a-z 0-9 _ . : / ( ) [ ] -, not starting with '-'";
    expect(issues({ profiles: [{ [name]: { min: [1], opt: [1], max: [1] } }] })).toEqual([
      `profiles.0.${name}: Expected a tensor or layer name of ${rule} but received ${JSON.stringify(name)}`,
    ]);
    expect(issues({ layerPrecisions: { [name]: 'fp16' }, precisionConstraints: 'obey' })).toEqual([
      `layerPrecisions.${name}: Expected a layer name of ${rule}, or with one * as a wildcard but received ${JSON.stringify(name)}`,
    ]);
  });

  test('layer names may hold one * (a wildcard); tensor names may not', () => {
    expect(issues({ layerPrecisions: { '*': 'fp32', '/encoder/*/MatMul': 'fp16', '*_output': 'fp16' }, precisionConstraints: 'obey' })).toEqual([]);
    expect(issues({ profiles: [{ 'x*': { min: [1], opt: [1], max: [1] } }] })).toHaveLength(1);
  });

  test('I/O formats in either release\'s spelling: type:layout (before 11.0) or the layout alone (from 11.0)', () => {
    expect(issues({ inputIOFormats: ['fp16:chw', 'int8:chw32+chw'], outputIOFormats: ['chw', 'hwc8+chw'] })).toEqual([]);
  });

  test('unknown keys are refused, so no trtexec flag can ride along', () => {
    expect(issues({ plugins: ['/tmp/evil.so'] })).toEqual([': Unrecognized key: "plugins"']);
    expect(issues({ tacticSources: { cudnn: false, magma: true } })).toEqual(['tacticSources: Unrecognized key: "magma"']);
  });

  test('the compute precision of a set of precision modes picks validation tolerances', () => {
    const of = (input: TensorRtOptionsInput) => computePrecisionOf(parse(input).precision);
    expect(of({})).toBe('tf32');
    expect(of({ precision: ['noTF32'] })).toBe('fp32');
    expect(of({ precision: ['fp16'] })).toBe('fp16');
    expect(of({ precision: ['best'] })).toBe('int8');
    expect(of({ precision: ['fp16', 'fp8'] })).toBe('fp8');
  });
});

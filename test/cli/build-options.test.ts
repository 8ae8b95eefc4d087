import { buildOptions, parseOptionAssignment, parseOptionValue, parseShape, setPath, type JsonObject } from '../../src/cli/build-options';
import { UsageError } from '../../src/cli/errors';
import { resolveQuery } from '../../src/cli/commands/fetch';

describe('--shapes', () => {
  test('parses NAME=DIMxDIM into a dims array', () => {
    expect(parseShape('input=1x3x224x224')).toEqual(['input', [1, 3, 224, 224]]);
    expect(parseShape('ids=8')).toEqual(['ids', [8]]);
  });

  test('keeps names that contain = or :', () => {
    expect(parseShape('input:0=2x4')).toEqual(['input:0', [2, 4]]);
    expect(parseShape('a=b=1X2')).toEqual(['a=b', [1, 2]]);
  });

  test.each(['input', '=1x3', 'input=', 'input=1x', 'input=1,3', 'input=0x3', 'input=-1x3'])('refuses %s with the accepted form', (text) => {
    expect(() => parseShape(text)).toThrow(UsageError);
    expect(() => parseShape(text)).toThrow(/Expected (--shapes NAME=DIMxDIM|positive whole dims)/);
  });
});

describe('--option values', () => {
  test.each([
    ['1e-3', 0.001],
    ['42', 42],
    ['-7', -7],
    ['.5', 0.5],
    ['1.', 1],
    ['true', true],
    ['false', false],
    ['null', null],
    ['[0, 100]', [0, 100]],
    ['{"dims":[1],"data":[3]}', { dims: [1], data: [3] }],
    ['"42"', '42'],
    ['basic', 'basic'],
    ['1x3', '1x3'],
    ['', ''],
  ])('%s -> %j', (text, value) => {
    expect(parseOptionValue(text)).toEqual(value);
  });

  test('refuses broken JSON instead of sending it as text', () => {
    expect(() => parseOptionValue('[1, 2')).toThrow(/Expected valid JSON after = in --option but received \[1, 2/);
  });

  test('parses dotted paths', () => {
    expect(parseOptionAssignment('validation.rtol=1e-3')).toEqual({ path: ['validation', 'rtol'], value: 0.001 });
    expect(parseOptionAssignment('onnxruntime.graphOptimizationLevel=basic')).toEqual({ path: ['onnxruntime', 'graphOptimizationLevel'], value: 'basic' });
    expect(parseOptionAssignment('a.b=x=y')).toEqual({ path: ['a', 'b'], value: 'x=y' });
  });

  test.each(['rtol', '=1', 'a..b=1', '.a=1', 'a.=1'])('refuses the malformed assignment %s', (text) => {
    expect(() => parseOptionAssignment(text)).toThrow(/Expected --option key\.path=value/);
  });

  test('refuses paths that would reach a prototype', () => {
    expect(() => parseOptionAssignment('__proto__.polluted=1')).toThrow(/__proto__ is not an option/);
    expect(() => parseOptionAssignment('a.constructor.prototype=1')).toThrow(/constructor is not an option/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('a path through a value is an error naming both', () => {
    const target: JsonObject = { validation: { rtol: 1 } };
    expect(() => setPath(target, ['validation', 'rtol', 'x'], 2)).toThrow('Cannot set validation.rtol.x: validation.rtol is already 1, not an object');
  });
});

describe('buildOptions', () => {
  test('merges the options file, then --shapes, then --option (later wins)', () => {
    const file = { validation: { rtol: 0.1, seed: 3 }, shapes: { input: [1, 3, 8, 8] } };
    const options = buildOptions({
      file,
      shapes: ['input=2x3x8x8', 'mask=2x8'],
      options: ['validation.rtol=1e-4', 'benchmark.maxBatch=4', 'validation.inputRanges.ids=[0,100]'],
    });
    expect(options).toEqual({
      validation: { rtol: 1e-4, seed: 3, inputRanges: { ids: [0, 100] } },
      shapes: { input: [2, 3, 8, 8], mask: [2, 8] },
      benchmark: { maxBatch: 4 },
    });
    expect(file.validation.rtol).toBe(0.1); // the parsed file is not modified
  });

  test('nothing said means no options object at all', () => {
    expect(buildOptions({})).toBeUndefined();
  });

  test('an input named __proto__ stays an own property', () => {
    const options = buildOptions({ shapes: ['__proto__=1x2'] })!;
    expect(JSON.parse(JSON.stringify(options))).toEqual(JSON.parse('{"shapes":{"__proto__":[1,2]}}'));
    expect(Object.getPrototypeOf(options.shapes)).toBe(Object.prototype);
  });

  test('an options file must hold an object', () => {
    expect(() => buildOptions({ file: [1] })).toThrow('Expected a JSON object in --options-file but received an array');
  });
});

describe('fetch client flags', () => {
  test('a CPU target is sent as is', () => {
    expect(resolveQuery('m', { target: 'ort1.30.0-x86_64-avx2' })).toEqual({ model: 'm', target: 'ort1.30.0-x86_64-avx2' });
  });

  test('a TensorRT target key stands for its cc, trt and sku', () => {
    expect(resolveQuery('m', { target: 'trt10.9.0-sm89-nvidia-geforce-rtx-4080' })).toEqual({
      model: 'm',
      cc: '8.9',
      trt: '10.9.0',
      sku: 'nvidia-geforce-rtx-4080',
      precision: undefined,
    });
  });

  test('a GPU client needs both --cc and --trt, and not --target too', () => {
    expect(() => resolveQuery('m', { cc: '8.9' })).toThrow('A GPU client gives both --cc and --trt; missing --trt');
    expect(() => resolveQuery('m', { target: 'ort1.30.0-x86_64-avx2', trt: '10.9.0' })).toThrow('not both');
    expect(() => resolveQuery('m', {})).toThrow(/Give --target/);
    expect(() => resolveQuery('m', { target: 'gpu' })).toThrow(/Expected a target key of the form/);
  });
});

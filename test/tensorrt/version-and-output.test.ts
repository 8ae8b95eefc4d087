import { parseExportedOutputs } from '../../src/worker/toolchains/tensorrt/export-output';
import {
  ccNumber,
  compareTrtVersions,
  decodeBannerVersion,
  encodeBannerVersion,
  formatTrtVersion,
  parseTrtVersion,
  trtAtLeast,
} from '../../src/core/tensorrt/version';

describe('TensorRT versions', () => {
  test('banner integers of both schemes', () => {
    expect(formatTrtVersion(decodeBannerVersion(8601))).toBe('8.6.1');
    expect(formatTrtVersion(decodeBannerVersion(9300))).toBe('9.3.0');
    expect(formatTrtVersion(decodeBannerVersion(100900))).toBe('10.9.0');
    expect(formatTrtVersion(decodeBannerVersion(101601))).toBe('10.16.1');
    for (const v of ['8.6.1', '9.2.0', '10.0.1', '10.13.3', '11.0.0']) expect(formatTrtVersion(decodeBannerVersion(encodeBannerVersion(v)))).toBe(v);
    expect(() => decodeBannerVersion(0)).toThrow('Expected a TensorRT banner version like 8601 or 100900 but received 0');
  });

  test('parsing and comparing', () => {
    expect(parseTrtVersion('8.6.1.6')).toEqual({ major: 8, minor: 6, patch: 1, build: 6 });
    expect(parseTrtVersion('10.9')).toEqual({ major: 10, minor: 9, patch: 0 });
    expect(() => parseTrtVersion('10.x')).toThrow('Expected a TensorRT version like 10.9.0 or 8.6.1.6 but received "10.x"');
    expect(compareTrtVersions('10.10.0', '10.9.0')).toBe(1);
    expect(compareTrtVersions('8.6.1.6', '8.6.1')).toBe(0);
    expect(trtAtLeast('10.9.0', '10.9')).toBe(true);
    expect(trtAtLeast('10.8.0', '10.9')).toBe(false);
    expect(ccNumber('12.1')).toBe(121);
    expect(() => ccNumber('sm89')).toThrow('Expected a compute capability like 8.9 but received "sm89"');
  });
});

describe('--exportOutput JSON', () => {
  const text = [
    '[',
    '  { "name" : "logits"',
    '  , "dimensions" : "2x3"',
    '  , "values" : [ 0.0762329, -1e-05, inf, -inf, nan, 3 ]',
    '  }',
    ', { "name" : "ids"',
    '  , "dimensions" : "2"',
    '  , "values" : [ 7, -2 ]',
    '  }',
    ']',
    '',
  ].join('\n');

  test('reads every output with C++ spellings of non-finite values', () => {
    const [logits, ids] = parseExportedOutputs(text);
    expect(logits.name).toBe('logits');
    expect(logits.dims).toEqual([2, 3]);
    expect(Array.from(logits.values)).toEqual([0.0762329, -1e-5, Infinity, -Infinity, NaN, 3]);
    expect(ids).toMatchObject({ name: 'ids', dims: [2] });
    expect(Array.from(ids.values)).toEqual([7, -2]);
  });

  test('refuses a count that does not match the dimensions, and text that is not an export', () => {
    expect(() => parseExportedOutputs(text.replace('"2x3"', '"2x4"'), 'out.json')).toThrow('Expected 8 values for output logits (2x4) in out.json but received 6');
    expect(() => parseExportedOutputs('{"hello": 1}', 'out.json')).toThrow('Expected trtexec --exportOutput JSON in out.json but found no outputs');
    expect(parseExportedOutputs('[\n]\n')).toEqual([]);
  });
});

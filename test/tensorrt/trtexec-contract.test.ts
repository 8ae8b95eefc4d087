import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  accepts,
  dataTypes,
  hardwareCompatibilityLevelOk,
  ioFormatError,
  layerNameMatches,
  loadSide,
  memPoolSize,
  releaseFor,
  tacticSourceOk,
  TRTEXEC_RELEASES,
} from '../../src/core/tensorrt/trtexec-contract';

/** The per-release trtexec contract (src/core/tensorrt/trtexec-releases.json) and its loader. */

const r = (version: string) => releaseFor(version);

describe('the releases the table covers', () => {
  test('every release branch from 8.6 to 11.1, oldest first', () => {
    expect(TRTEXEC_RELEASES.map((x) => x.version)).toEqual([
      '8.6', '9.0', '9.1', '9.2', '9.3',
      ...Array.from({ length: 17 }, (_, i) => `10.${i}`),
      '11.0', '11.1',
    ]);
    for (const release of TRTEXEC_RELEASES) {
      expect(release.branch).toBe(`release/${release.version}`);
      expect(release.commit).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  test('every fact names the file and line it was read from', () => {
    const sources: string[] = [];
    const walk = (value: unknown, key: string) => {
      if (typeof value === 'string' && /source$|Source$|^gate$|^hostCodeAllowed$|^passedFrom$/.test(key)) sources.push(value);
      else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
    };
    walk(TRTEXEC_RELEASES, '');
    expect(sources.length).toBeGreaterThan(4000);
    for (const source of sources) expect(source).toMatch(/^samples\/(common|trtexec)\/\w+\.(cpp|h):\d+$/);
  });
});

describe('releaseFor: a TensorRT version to its release branch', () => {
  test('full versions map to their major.minor branch', () => {
    expect(r('10.9.0').version).toBe('10.9');
    expect(r('8.6.1.6').version).toBe('8.6');
    expect(r('10.16.1').version).toBe('10.16');
    expect(r('11.1').version).toBe('11.1');
  });

  test('patch branches whose parser matches their minor are folded into it', () => {
    const release = r('10.13.3');
    expect(release.version).toBe('10.13');
    expect(Object.keys(release.patchBranches ?? {})).toEqual(['10.13.2', '10.13.3']);
  });

  test('versions outside the table are refused, naming the covered range', () => {
    expect(() => r('8.5.3')).toThrow('Expected a TensorRT version the trtexec contract covers (8.6 to 11.1) but received 8.5.3, older than its releases');
    expect(() => r('12.0.0')).toThrow(/newer than its releases; regenerate the table/);
    expect(() => r('9.4.0')).toThrow(/received 9\.4\.0, between its releases/);
    expect(() => r('ten')).toThrow('Expected a TensorRT version like 10.9.0 or 8.6.1.6 but received "ten"');
  });
});

describe('options per release', () => {
  test('11.0 refuses the implicit-precision flags, --layerPrecisions and --calib', () => {
    for (const flag of ['--fp16', '--bf16', '--int8', '--fp8', '--best', '--layerPrecisions', '--precisionConstraints', '--calib']) {
      expect([flag, accepts(r('11.0'), flag)]).toEqual([flag, false]);
      expect([flag, accepts(r('10.16'), flag)]).toEqual([flag, true]);
    }
    expect(r('11.0').options['--stronglyTyped'].deprecated?.help?.says).toMatch(/no-op/);
  });

  test('weight stripping: --weightless on 9.2 and 9.3, --stripWeights from 10.0 with --weightless its deprecated alias', () => {
    expect(accepts(r('9.1'), '--weightless')).toBe(false);
    expect(r('9.2').options['--weightless']).toMatchObject({ kind: 'flag', builderFlag: 'kWEIGHTLESS' });
    expect(accepts(r('9.3'), '--stripWeights')).toBe(false);
    expect(r('10.0').options['--stripWeights']).toMatchObject({ kind: 'flag', builderFlag: 'kSTRIP_PLAN' });
    expect(r('10.0').options['--weightless']).toMatchObject({ aliasOf: '--stripWeights', builderFlag: 'kSTRIP_PLAN' });
    expect(r('10.0').options['--weightless'].deprecated?.help?.source).toMatch(/^samples\/common\/sampleOptions\.cpp:\d+$/);
    expect(accepts(r('11.0'), '--weightless')).toBe(false);
  });

  test('--vc is --versionCompatible; giving both leaves --versionCompatible unknown', () => {
    for (const release of TRTEXEC_RELEASES) {
      expect(release.options['--vc'].aliasOf).toBe('--versionCompatible');
      expect(release.options['--versionCompatible'].parsedOnlyWithout).toBe('--vc');
    }
  });

  test('options Kiln writes exist where it writes them', () => {
    for (const release of TRTEXEC_RELEASES) {
      for (const name of ['--onnx', '--saveEngine', '--loadEngine', '--skipInference', '--exportLayerInfo', '--exportProfile', '--exportOutput', '--loadInputs', '--timingCacheFile', '--shapes', '--minShapes', '--profilingVerbosity', '--refit']) {
        expect([release.version, name, accepts(release, name)]).toEqual([release.version, name, true]);
      }
      expect(accepts(release, '--profile')).toBe(release.version !== '8.6');
      if (release.version !== '8.6') expect(release.options['--profile'].repeatable).toBe(true);
      expect(accepts(release, '--useProfile')).toBe(release.version !== '8.6');
    }
    expect(r('10.9').options['--skipInference']).toMatchObject({ kind: 'flag', group: 'build' });
    expect(r('10.9').options['--loadInputs']).toMatchObject({ kind: 'value', group: 'inference' });
  });
});

describe('value grammar', () => {
  test('I/O formats: type:formats up to 10.x, layout only from 11.0', () => {
    expect(ioFormatError(r('10.16'), 'fp16:chw')).toBeNull();
    expect(ioFormatError(r('10.16'), 'int8:hwc8+chw')).toBeNull();
    expect(ioFormatError(r('10.16'), 'chw')).toBe('Invalid IOFormat chw');
    expect(ioFormatError(r('10.16'), 'fp17:chw')).toBe('Invalid DataType fp17');
    expect(ioFormatError(r('11.0'), 'chw')).toBeNull();
    expect(ioFormatError(r('11.1'), 'hwc8+chw')).toBeNull();
    expect(ioFormatError(r('11.0'), 'fp16:chw')).toBe('Invalid TensorFormat fp16:chw');
    expect(ioFormatError(r('10.9'), 'fp16:hwc16')).toBe('Invalid TensorFormat hwc16');
    expect(ioFormatError(r('10.10'), 'fp16:hwc16')).toBeNull();
  });

  test('data types: bf16/int64/bool/uint8 from 9.0, int4 from 10.1, none from 11.0', () => {
    expect(dataTypes(r('8.6')).sort()).toEqual(['fp16', 'fp32', 'fp8', 'int32', 'int8']);
    expect(dataTypes(r('9.0'))).toEqual(expect.arrayContaining(['bf16', 'int64', 'bool', 'uint8']));
    expect(dataTypes(r('10.0'))).not.toContain('int4');
    expect(dataTypes(r('10.1'))).toContain('int4');
    expect(dataTypes(r('11.0'))).toEqual([]);
  });

  test('hardwareCompatibilityLevel: sameComputeCapability from 10.9, compared without case', () => {
    expect(hardwareCompatibilityLevelOk(r('10.8'), 'sameComputeCapability')).toBe(false);
    expect(hardwareCompatibilityLevelOk(r('10.9'), 'sameComputeCapability')).toBe(true);
    expect(hardwareCompatibilityLevelOk(r('8.6'), 'Ampere+')).toBe(true);
    expect(hardwareCompatibilityLevelOk(r('8.6'), 'NONE')).toBe(false);
    expect(r('8.6').grammar.hardwareCompatibilityLevel.error.message).toBe('Unknown hardwareCompatibilityLevel: {}. Valid options: none, ampere+.');
  });

  test('tactic sources: cuBLAS/cuDNN gone from 11.0', () => {
    expect(tacticSourceOk(r('10.16'), 'cudnn')).toBe(true);
    expect(tacticSourceOk(r('11.0'), 'CUDNN')).toBe(false);
    expect(tacticSourceOk(r('11.0'), 'jit_convolutions')).toBe(true);
  });

  test('memPoolSize units: none before 10.0, multiplying MiB in 10.0, bytes with default M from 10.1', () => {
    expect(memPoolSize(r('9.3'))).toMatchObject({ unitSuffixes: [], suffixMultipliesMiB: false });
    expect(memPoolSize(r('10.0'))).toMatchObject({ unitSuffixes: ['B', 'G', 'K', 'M'], suffixMultipliesMiB: true });
    expect(memPoolSize(r('10.0')).defaultUnitSuffix).toBeUndefined();
    expect(memPoolSize(r('10.1'))).toMatchObject({ defaultUnitSuffix: 'M', suffixMultipliesMiB: false });
    expect(memPoolSize(r('10.1')).pools).toContain('tacticSharedMem');
  });

  test('layer names: `*` alone is the default on 8.6; one `*` wildcard (at the first *) from 9.0', () => {
    expect(layerNameMatches(r('8.6'), '*', 'conv1')).toBe(true);
    expect(layerNameMatches(r('8.6'), 'conv*', 'conv1')).toBe(false);
    expect(layerNameMatches(r('9.0'), 'conv*', 'conv1')).toBe(true);
    expect(layerNameMatches(r('9.0'), '*/MatMul', 'block1/MatMul')).toBe(true);
    expect(layerNameMatches(r('9.0'), 'a*b*c', 'aXb*c')).toBe(true);
    expect(layerNameMatches(r('9.0'), 'a*b*c', 'aXbYc')).toBe(false);
    expect(layerNameMatches(r('8.6'), 'x*', 'x1', 'shapes')).toBe(false);
    expect(layerNameMatches(r('9.0'), 'x*', 'x1', 'shapes')).toBe(true);
    expect(r('9.0').grammar.layerPrecisions?.appliedWhen?.precisionConstraints).toBe('not none');
  });
});

describe('the loading side and failures', () => {
  test('version-compatible engines load only with --versionCompatible (or --vc) on the load command', () => {
    for (const release of TRTEXEC_RELEASES) expect(loadSide(release).versionCompatible).toEqual(['--vc', '--versionCompatible']);
  });

  test('refit from ONNX at load from 10.14, and only together with --refit', () => {
    expect(loadSide(r('10.13')).refitFromOnnx).toBeUndefined();
    expect(loadSide(r('10.14')).refitFromOnnx).toEqual({ option: '--refitFromOnnx', requires: ['--refit'] });
    expect(loadSide(r('11.1')).refitFromOnnx?.requires).toEqual(['--refit']);
  });

  test('a bad command line: help before the errors from 10.0, no &&&& FAILED line in 11.1', () => {
    expect(r('9.3').commandLine.help.printed).toBe('after-errors');
    expect(r('10.0').commandLine.help.printed).toBe('before-errors');
    expect(r('10.9').commandLine.unknownOption.message).toBe('Unknown option: {} {}');
    expect(r('11.0').commandLine.failure).toMatchObject({ statusLine: '&&&& FAILED', exitStatus: 1 });
    expect(r('11.1').commandLine.failure).toMatchObject({ statusLine: null, exitStatus: 1 });
  });

  test('--exportProfile writes the same per-layer fields in every release', () => {
    for (const release of TRTEXEC_RELEASES) {
      expect(release.reporting.exportProfile).toMatchObject({ header: ['count'], layer: ['name', 'timeMs', 'averageMs', 'medianMs', 'percentage'] });
    }
  });
});

const CLONE = process.env.KILN_TENSORRT_CLONE ?? '/work/.mirror/NVIDIA+TensorRT/repo';

(existsSync(CLONE) ? test : test.skip)('the committed table is what the script reads from a NVIDIA/TensorRT clone', async () => {
  const script = join(__dirname, '..', '..', 'scripts', 'trtexec-contract', 'extract.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, CLONE, '--check'], { cwd: join(__dirname, '..', '..') });
  expect(stdout).toMatch(/matches the sources/);
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  MILESTONE_PERCENT,
  parseBanner,
  parseStats,
  parseTrtexecLog,
  toLatencyStats,
  TrtexecLogReader,
  type LineEvent,
} from '../../src/worker/toolchains/tensorrt/log-parser';

const FIXTURES = join(__dirname, '..', 'fixtures', 'trtexec');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

/** Feeds a log one line at a time and keeps every event, as a streaming build would. */
function readLineByLine(text: string): { events: LineEvent[]; reader: TrtexecLogReader } {
  const reader = new TrtexecLogReader();
  const events: LineEvent[] = [];
  for (const line of text.split('\n')) events.push(...reader.feed(`${line}\n`));
  reader.end();
  return { events, reader };
}

describe('banner', () => {
  test.each([
    ['&&&& RUNNING TensorRT.trtexec [TensorRT v8601] # trtexec --onnx=a.onnx', 'running', '8.6.1', undefined],
    ['&&&& PASSED TensorRT.trtexec [TensorRT v100900] [b34] # trtexec --onnx=a.onnx', 'passed', '10.9.0', 34],
    ['&&&& FAILED TensorRT.trtexec [TensorRT v101601] [b11] # trtexec --onnx=a.onnx', 'failed', '10.16.1', 11],
    ['&&&& RUNNING TensorRT.trtexec [TensorRT v9300] # trtexec', 'running', '9.3.0', undefined],
  ])('%s', (line, status, version, build) => {
    const banner = parseBanner(line);
    expect(banner).toMatchObject({ status, trtVersion: version });
    expect(banner?.build).toBe(build);
  });

  test('is null for other lines', () => {
    expect(parseBanner('[04/08/2025-23:13:59] [I] TensorRT version: 10.9.0')).toBeNull();
  });
});

describe('TensorRT 10.9.0 build and benchmark (real log)', () => {
  const text = fixture('trt-10.9.0-rtx3070-build-and-benchmark.log');
  const { events, reader } = readLineByLine(text);
  const log = reader.log;

  test('status, version, argv', () => {
    expect(log.status).toBe('passed');
    expect(log.trtVersion).toBe('10.9.0');
    expect(log.build).toBe(34);
    expect(log.argv).toBe('trtexec --onnx=fcn-resnet101.onnx --saveEngine=fcn-resnet101.engine --optShapes=input:1x3x1026x1282');
  });

  test('device block with UUID and the device list', () => {
    expect(log.device).toEqual({
      name: 'NVIDIA GeForce RTX 3070',
      id: 0,
      uuid: 'GPU-84a8068b-81a5-7df1-8d22-a523bb848827',
      cc: '8.6',
      sms: 46,
      memoryMiB: 7817,
    });
    expect(log.availableDevices).toEqual([{ index: 0, name: 'NVIDIA GeForce RTX 3070', uuid: 'GPU-84a8068b-81a5-7df1-8d22-a523bb848827' }]);
  });

  test('build facts', () => {
    expect(log.parseSeconds).toBeCloseTo(0.274727, 6);
    expect(log.buildSeconds).toBeCloseTo(104.774, 3);
    expect(log.engineGenerationSeconds).toBeCloseTo(104.604, 3);
    expect(log.engineSizeMiB).toBeCloseTo(231.019, 3);
    expect(log.loadedEngineSizeMiB).toBe(231);
    expect(log.deserializeSeconds).toBeCloseTo(0.21022, 5);
    expect(log.memory).toEqual({ peakGpuMiB: 1933, builderPeakGpuMiB: 1392, contextMiB: 446.209 });
    expect(log.timingCache).toEqual({});
    expect(log.skippedInference).toBe(false);
  });

  test('performance summary', () => {
    const perf = log.performance!;
    expect(perf.throughputQps).toBeCloseTo(8.66824, 5);
    expect(perf.latency).toEqual({
      min: 110.946, max: 115.703, mean: 112.938, median: 112.567, percentiles: { '90': 114.427, '95': 115.415, '99': 115.703 },
    });
    expect(perf.enqueueTime?.median).toBeCloseTo(0.734863, 6);
    expect(perf.h2dLatency?.percentiles['95']).toBeCloseTo(0.873779, 6);
    expect(perf.gpuComputeTime?.mean).toBeCloseTo(111.557, 3);
    expect(perf.d2hLatency?.max).toBeCloseTo(0.763855, 6);
    expect(perf.totalHostWalltimeSec).toBeCloseTo(3.34555, 5);
    expect(perf.totalGpuComputeSec).toBeCloseTo(3.23514, 5);
    expect(perf.warmupQueries).toBe(2);
    expect(perf.timedQueries).toBe(29);
    expect(toLatencyStats(perf.gpuComputeTime)).toEqual({
      min: 109.522, mean: 111.557, median: 111.208, p90: 113.02, p95: 114.115, p99: 114.185, max: 114.185,
    });
  });

  test('warnings, no errors', () => {
    expect(log.errors).toEqual([]);
    expect(log.warnings).toEqual([
      'optShapes is being broadcasted to minShapes for tensor input',
      'optShapes is being broadcasted to maxShapes for tensor input',
      '* GPU compute time is unstable, with coefficient of variance = 1.08662%.',
      '  If not already in use, locking GPU clock frequency or adding --useSpinWait may improve the stability.',
    ]);
    expect(log.warningCount).toBe(4);
  });

  test('milestones arrive in order, on the lines that mark them', () => {
    expect(log.milestones).toEqual(['started', 'device', 'parsing-started', 'parsing-finished', 'building', 'engine-built', 'inference-started', 'finished']);
    const built = events.find((e) => e.milestone === 'engine-built');
    expect(built?.message).toBe('Engine built in 104.774 sec.');
    // The percent hints describe build runs (Kiln builds with --skipInference); this run went on to benchmark.
    const percents = events.filter((e) => e.milestone && e.milestone !== 'inference-started').map((e) => MILESTONE_PERCENT[e.milestone!]);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(reader.percent).toBe(100);
  });

  test('feeding arbitrary chunks gives the same summary as whole lines', () => {
    const reader2 = new TrtexecLogReader();
    for (let i = 0; i < text.length; i += 37) reader2.feed(text.slice(i, i + 37));
    expect(reader2.end()).toEqual(parseTrtexecLog(text));
    expect(reader2.log).toEqual(log);
  });
});

describe('TensorRT 8.6.1 load engine (real log)', () => {
  const log = parseTrtexecLog(fixture('trt-8.6.1-t4-load-engine.log'));

  test('version from the banner and the version line, the 8.6 device block without UUID', () => {
    expect(log.status).toBe('passed');
    expect(log.trtVersion).toBe('8.6.1');
    expect(log.build).toBeUndefined();
    expect(log.device).toEqual({ name: 'Tesla T4', cc: '7.5', sms: 40, memoryMiB: 15102 });
    expect(log.availableDevices).toEqual([]);
  });

  test('load facts and performance', () => {
    expect(log.loadSeconds).toBeCloseTo(0.0137625, 7);
    expect(log.loadedEngineSizeMiB).toBe(15);
    expect(log.buildSeconds).toBeUndefined();
    expect(log.memory.peakGpuMiB).toBe(15);
    expect(log.performance?.throughputQps).toBeCloseTo(44.0045, 4);
    expect(toLatencyStats(log.performance?.latency)).toEqual({
      min: 26.8655, mean: 27.9016, median: 27.4583, p90: 29.5156, p95: 29.9088, p99: 31.5781, max: 31.8876,
    });
    expect(log.milestones).toEqual(['started', 'device', 'engine-loaded', 'inference-started', 'finished']);
  });
});

describe('failing runs', () => {
  test('unknown option', () => {
    const log = parseTrtexecLog(fixture('trt-10.9.0-unknown-option.log'));
    expect(log.status).toBe('failed');
    expect(log.errors).toEqual(['Unknown option: --workspace 2048']);
    expect(log.milestones).toEqual(['started', 'finished']);
  });

  test('ONNX parse error keeps the assertion that follows the error line', () => {
    const log = parseTrtexecLog(fixture('trt-8.6.1-onnx-parse-error.log'));
    expect(log.status).toBe('failed');
    expect(log.device.cc).toBe('7.5');
    expect(log.errors).toEqual([
      '[TRT] ModelImporter.cpp:771: While parsing node number 12 [LayerNormalization -> "/encoder/ln/LayerNormalization_output_0"]:',
      '[TRT] ModelImporter.cpp:772: --- Begin node ---',
      '[TRT] ModelImporter.cpp:773: --- End node ---',
      '[TRT] ModelImporter.cpp:775: ERROR: builtin_op_importers.cpp:5404 In function importFallbackPluginImporter: [8] Assertion failed: creator && "Plugin not found, are the plugin name, version, and namespace correct?"',
      'Failed to parse onnx file',
      'Parsing model failed',
      'Failed to create engine from model or file.',
      'Engine set up failed',
    ]);
    expect(log.warnings).toHaveLength(1);
    expect(log.milestones).toContain('parsing-finished');
    expect(log.milestones).not.toContain('engine-built');
  });

  test('out of memory', () => {
    const log = parseTrtexecLog(fixture('trt-10.9.0-out-of-memory.log'));
    expect(log.status).toBe('failed');
    expect(log.device).toMatchObject({ name: 'NVIDIA GeForce RTX 4080', cc: '8.9' });
    expect(log.timingCache).toEqual({ loadedBytes: 1843217, loadedFrom: '/work/build/timing.cache' });
    expect(log.errors.slice(0, 2)).toEqual([
      '[TRT] 1: [defaultAllocator.cpp::allocate::31] Error Code 1: Cuda Runtime (out of memory)',
      '[TRT] 2: [virtualMemoryBuffer.cpp::resizePhysical::140] Error Code 2: OutOfMemory (no further information)',
    ]);
    expect(log.errors.at(-1)).toBe('Engine set up failed');
    expect(log.milestones).toContain('building');
    expect(log.milestones).not.toContain('engine-built');
  });
});

describe('timing cache lines in each wording', () => {
  test('8.6: loaded and saved without [TRT], no engine size line', () => {
    const log = parseTrtexecLog(fixture('trt-8.6.1-t4-build-timing-cache.log'));
    expect(log.timingCache).toEqual({
      loadedBytes: 204211, loadedFrom: '/work/build/timing.cache', savedBytes: 231587, savedTo: '/work/build/timing.cache',
    });
    expect(log.buildSeconds).toBeCloseTo(14.2514, 4);
    expect(log.engineSizeMiB).toBeUndefined();
    expect(log.loadedEngineSizeMiB).toBe(6);
    expect(log.skippedInference).toBe(true);
    expect(log.milestones).toEqual(['started', 'device', 'parsing-started', 'parsing-finished', 'building', 'cache-saved', 'engine-built', 'finished']);
  });

  test('10.13: a missing cache, then a warm one', () => {
    const fresh = parseTrtexecLog(fixture('trt-10.13.3-build-new-timing-cache.log'));
    expect(fresh.trtVersion).toBe('10.13.3');
    expect(fresh.build).toBe(9);
    expect(fresh.timingCache).toEqual({
      missing: true, loadedBytes: 0, loadedFrom: '/work/build/timing.cache', entries: 170, savedBytes: 107579, savedTo: '/work/build/timing.cache',
    });
    const warm = parseTrtexecLog(fixture('trt-10.13.3-build-warm-timing-cache.log'));
    expect(warm.timingCache).toMatchObject({ loadedBytes: 107579, savedBytes: 107579, entries: 170 });
    expect(warm.timingCache.missing).toBeUndefined();
  });
});

describe('details', () => {
  test('stats with other percentiles, exponents and inf', () => {
    expect(parseStats('min = 1e-05 ms, max = inf ms, mean = 0.5 ms, median = 0.25 ms, percentile(99.9%) = 2 ms')).toEqual({
      min: 1e-5, max: Infinity, mean: 0.5, median: 0.25, percentiles: { '99.9': 2 },
    });
    expect(parseStats('min = x ms')).toBeNull();
    expect(toLatencyStats(parseStats('min = 1 ms, max = 2 ms, mean = 1.5 ms, median = 1.5 ms, percentile(50%) = 1.5 ms')!)).toBeNull();
  });

  test('stdout and stderr are split into lines separately', () => {
    const reader = new TrtexecLogReader();
    reader.feed('[04/08/2025-23:14:00] [I] Compute Capa', 'stdout');
    reader.feed('[04/08/2025-23:14:00] [E] Engine set up fai', 'stderr');
    reader.feed('bility: 8.9\n', 'stdout');
    reader.feed('led\n', 'stderr');
    expect(reader.end()).toMatchObject({ device: { cc: '8.9' }, errors: ['Engine set up failed'] });
  });

  test('a flood of warnings keeps the first and the latest', () => {
    const reader = new TrtexecLogReader();
    for (let i = 0; i < 1000; i++) reader.line(`[04/08/2025-23:14:00] [W] [TRT] warning ${i}`);
    const { warnings, warningCount } = reader.end();
    expect(warningCount).toBe(1000);
    expect(warnings).toHaveLength(200);
    expect(warnings[0]).toBe('[TRT] warning 0');
    expect(warnings.at(-1)).toBe('[TRT] warning 999');
  });
});

test('an event carries a milestone only on the first line that reaches it', () => {
  const reader = new TrtexecLogReader();
  const first = reader.line('[05/12/2025-13:10:00] [W] [TRT] Could not read cache from: /c. A new cache will be generated and written.');
  const second = reader.line('[05/12/2025-13:10:01] [I] [TRT] Global timing cache in use. Profiling results in this builder pass will be stored.');
  expect(first.milestone).toBe('building');
  expect(second.milestone).toBeUndefined();
  expect(reader.end().milestones).toEqual(['building']);
});

/** The build page's TensorRT and "Build details" sections read as labelled facts, each once. */
import type { BuildSpec } from '../../src/core/build-spec';
import type { BuildReport } from '../../src/core/report';
import { hardwareFacts } from '../../src/api/dashboard/data/fleet';
import { formatBytes } from '../../src/api/dashboard/format';
import type { WorkerInfo } from '../../src/state/worker-registry';
import { profileViews } from '../../src/api/dashboard/data/build-profiles';
import { profilesSection } from '../../src/api/dashboard/pages/build-profiles';
import { detailsSection, enginePrecision, humanLabel, layerSummary, tensorRtSection } from '../../src/api/dashboard/pages/build-report';

const spec = (tensorrt: unknown) => ({ options: { tensorrt } }) as unknown as BuildSpec;

const report: BuildReport = {
  schema: 1,
  buildKey: 'k',
  targetKey: 'trt10.9.0-sm89',
  toolchain: { name: 'tensorrt', version: '10.9.0' },
  build: {
    seconds: 1.3,
    details: {
      device: { name: 'NVIDIA GeForce RTX 4080', cc: '8.9', memoryMiB: 15948, uuid: 'GPU-4080' },
      cc: '8.9',
      uuid: 'GPU-4080',
      trtVersion: '10.9.0',
      trtexec: '/opt/trtexec',
      buildSeconds: 0.088,
      engineBytes: 1576768,
      timingCache: { loadedBytes: 0, savedBytes: 1679 },
      layers: { byType: { Scale: 20, CaskConvolution: 20, NoOp: 1, PointWiseV2: 17 } },
      profiles: [{ input: { min: [1, 3], opt: [1, 3], max: [8, 3] } }],
      argv: ['--onnx=/m.onnx', '--fp16'],
      warningCount: 1,
      futureThing: 3,
    },
  },
  validation: null,
  benchmark: null,
  warnings: [],
};

describe('build report sections', () => {
  it('shows the precision the spec asked for, or the default', () => {
    expect(enginePrecision(spec({ precision: ['fp16'] }))).toBe('fp16');
    expect(enginePrecision(spec({ precision: [] }))).toBe('fp32/tf32 (default)');
    expect(enginePrecision(spec(undefined))).toBe('fp32/tf32 (default)');
  });

  it('sorts layers by count, most first, then by name', () => {
    expect(layerSummary(report.build.details.layers)).toEqual([
      ['CaskConvolution', 20],
      ['Scale', 20],
      ['PointWiseV2', 17],
      ['NoOp', 1],
    ]);
    expect(layerSummary([{ type: 'B' }, { type: 'A' }, { type: 'B' }])).toEqual([['B', 2], ['A', 1]]);
  });

  it('formats device memory and engine size in the TensorRT section', () => {
    const out = tensorRtSection(report, spec({ precision: ['fp16'] })).value;
    expect(out).toContain('<dt>Device memory</dt><dd>15.6 GiB</dd>');
    expect(out).toContain('<dt>Precision</dt><dd>fp16</dd>');
    expect(out).toContain('<dt>Engine size</dt><dd>1.50 MiB</dd>');
    expect(out.indexOf('CaskConvolution')).toBeLessThan(out.indexOf('NoOp'));
  });

  it('labels the build details, leaves out what the TensorRT section shows, and folds long JSON', () => {
    const out = detailsSection(report).value;
    expect(out).toContain('Pipeline time');
    expect(out).toContain('1.3 s');
    expect(out).toContain('<dt>Engine build (trtexec)</dt><dd>88 ms');
    expect(out).toContain('<dt>Future thing</dt><dd>3</dd>');
    for (const raw of ['<dt>cc</dt>', '<dt>trtVersion</dt>', '<dt>engineBytes</dt>', '1576768', '<dt>uuid</dt>', '<dt>argv</dt>']) expect(out).not.toContain(raw);
    expect(out).toMatch(/<details class="detail-json"><summary>trtexec command line \(2\)<\/summary><pre class="code">trtexec \\\n {2}--onnx=\/m.onnx/);
    expect(out).toContain('<summary>Optimisation profiles (JSON) (1)</summary>');
  });

  it('makes labels from camelCase keys', () => {
    expect(humanLabel('engineBytes')).toBe('Engine bytes');
  });
});

describe('fleet hardware facts', () => {
  it('formats GPU memory with the same formatter as the build page', () => {
    const info = { hardware: { gpus: [{ name: 'RTX 4080', memoryTotalBytes: 15948 * 2 ** 20 }] }, toolchains: {} } as unknown as WorkerInfo;
    expect(hardwareFacts(info).find((f) => f.label === 'GPU memory')?.value).toBe(formatBytes(15948 * 2 ** 20));
    expect(formatBytes(15948 * 2 ** 20)).toBe('15.6 GiB');
  });
});

describe('optimisation profiles', () => {
  const shapes = (min: number, max: number) => ({ x: { min: [min, 3], opt: [min, 3], max: [max, 3] } });
  const output = { name: 'logits', elements: 10, mismatched: 0, mismatchRatio: 0, maxAbsError: 1e-6, maxRelError: 2e-6, nonFinite: 0, verdict: 'pass' as const };
  const validation = {
    verdict: 'pass' as const, reference: 'onnxruntime-cpu', rtol: 1e-3, atol: 1e-4, seed: 1, failRatio: 0, inputs: {}, outputs: [output],
    profiles: [0, 1].map((index) => ({ index, shapes: shapes(index ? 4 : 1, index ? 8 : 2), verdict: 'pass' as const, inputs: { x: { dims: [index ? 4 : 1, 3], type: 'float32', source: 'seeded' as const } }, outputs: [output] })),
  };

  it('joins validation and benchmark by profile; none for builds without profiles', () => {
    expect(profileViews(report)).toEqual([]);
    const stats = { min: 1, mean: 1, median: 1, p90: 1, p95: 1, p99: 2, max: 2 };
    const row = { batch: 8, iterations: 5, latencyMs: stats, throughputQps: 100, throughputSps: 800 };
    const views = profileViews({ ...report, validation, benchmark: { dynamicBatch: true, rows: [], profiles: [{ index: 1, shapes: shapes(4, 8), dynamicBatch: true, rows: [row] }] } });
    expect(views.map((v) => [v.index, v.validation?.index, v.benchmark?.rows.length ?? null])).toEqual([[0, 0, null], [1, 1, 1]]);
  });

  it('says a profile was not benchmarked on its own when its report has validation per profile only', () => {
    const out = profilesSection(profileViews({ ...report, validation })).value;
    expect(out.match(/<tbody data-profile=/g)).toHaveLength(2);
    expect(out).toContain('x: 4×3 → 4×3 → 8×3');
    expect(out).toContain('not benchmarked on its own');
  });
});

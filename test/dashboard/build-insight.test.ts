/** Speed-ups and drift, as the build page and `kiln status` show them. */
import type { BenchmarkReport, BuildReport, DriftReport } from '../../src/core/report';
import { driftSection, speedupSection } from '../../src/api/dashboard/pages/build-insight';
import { describeDrift, describeSpeedup } from '../../src/cli/report-insight';

const stats = (median: number) => ({ min: median, mean: median, median, p90: median, p95: median, p99: median, max: median });
const row = (batch: number, median: number) => ({ batch, iterations: 5, latencyMs: stats(median), throughputQps: 1000 / median, throughputSps: (1000 / median) * batch });

const benchmark: BenchmarkReport = {
  dynamicBatch: true,
  rows: [row(1, 1), row(2, 1.5)],
  reference: { name: 'onnxruntime-cpu (optimizations disabled)', rows: [row(1, 2.5), row(2, 4.5)] },
  speedup: [
    { batch: 1, referenceMedianMs: 2.5, medianMs: 1, speedup: 2.5 },
    { batch: 2, referenceMedianMs: 4.5, medianMs: 1.5, speedup: 3 },
  ],
  conditions: {
    threads: 2,
    host: { cores: 2, busyCores: 1.9, otherCores: 0.9, loadAverage1m: 3.2, seconds: 1 },
    quality: 'noisy',
    reasons: ['other processes kept 0.90 of 2 CPU cores busy (more than 0.25) while measuring'],
  },
};

const drift: DriftReport = {
  label: 'mlp@3',
  previous: { label: 'mlp@2', modelId: 'a'.repeat(64), buildKey: 'b'.repeat(64) },
  runner: 'onnxruntime-cpu (optimizations disabled)',
  seed: 0,
  maxDrift: 0.001,
  verdict: 'fail',
  outputs: [{ name: 'y', elements: 4, maxAbsDiff: 0.0321, meanAbsDiff: 0.01, verdict: 'fail' }],
};

const report = { validation: { drift }, benchmark } as unknown as BuildReport;

describe('speed-up', () => {
  test('the build page plots the speed-up per batch size and says the measurement was noisy and why', () => {
    const page = String(speedupSection(benchmark));
    expect(page).toContain('Speed-up over the reference');
    expect(page).toContain('data-chart="chart-speedup-data"');
    expect(page).toContain('<span class="badge quality-noisy">noisy</span> 2 intra-op threads');
    expect(page).toContain('Noisy: other processes kept 0.90 of 2 CPU cores busy');
    expect(page).toMatch(/<th scope="row" class="num">2<\/th><td class="num">4\.5(00)?<\/td><td class="num">1\.5(00)?<\/td><td class="num">3(\.00)?×<\/td>/);
  });

  test('reports made before speed-ups existed show no section', () => {
    expect(String(speedupSection({ dynamicBatch: false, rows: [row(1, 1)] }))).toBe('');
  });

  test('kiln status prints a speed-up table and the conditions', () => {
    expect(describeSpeedup(report)[0]).toBe('speed-up over the reference (onnxruntime-cpu (optimizations disabled)):');
    const text = describeSpeedup(report).join('\n');
    expect(text).toMatch(/^ {2}1 +2\.5\d* ?ms +1(\.0+)? ?ms +2\.50x$/m);
    expect(text).toMatch(/^ {2}2 +4\.5\d* ?ms +1\.5\d* ?ms +3\.00x$/m);
    expect(text).toContain('measured: noisy, 2 threads, other load 0.90 of 2 cores (other processes kept 0.90 of 2 CPU cores busy');
  });
});

describe('drift', () => {
  test('the build page names both versions, the gate and each output', () => {
    const page = String(driftSection(drift));
    expect(page).toContain('<strong>mlp@3</strong> against <strong>mlp@2</strong>');
    expect(page).toContain(`href="/dashboard/builds/${'b'.repeat(64)}"`);
    expect(page).toContain('Gate: max |Δ| ≤ 0.001 per output.');
    expect(page).toContain('<td class="num">3.21e-2</td>');
  });

  test('kiln status prints the drift line and table', () => {
    const lines = describeDrift(report);
    expect(lines[0]).toBe(`drift from mlp@2 (build ${'b'.repeat(12)}): fail, maxDrift 0.001`);
    expect(lines[1]).toMatch(/y +3\.21e-2 +1\.00e-2 +fail/);
    expect(describeDrift({ validation: {} } as unknown as BuildReport)).toEqual([]);
  });
});

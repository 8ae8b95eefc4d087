/** The rules of sweeps without a farm: fan-out and grouping (src/core/sweep.ts) and the best point (src/core/best-point.ts). */
import { bestPoint, type PointOutcome } from '../../src/core/best-point';
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import { BuildOptionsSchema } from '../../src/core/options';
import type { BuildReport } from '../../src/core/report';
import { expandSweep, groupByArtifact, sweepablePaths } from '../../src/core/sweep';
import { parseTargetKey } from '../../src/core/target';

const row = (batch: number, median: number, sps: number) => ({ batch, iterations: 1, latencyMs: { min: median, mean: median, median, p90: median, p95: median, p99: median, max: median }, throughputQps: sps / batch, throughputSps: sps });
const report = (verdict: 'pass' | 'warn' | 'fail', rows: ReturnType<typeof row>[]) => ({ validation: { verdict, outputs: [] }, benchmark: { dynamicBatch: true, rows } }) as unknown as BuildReport;
const outcome = (point: number, fields: Partial<PointOutcome>): PointOutcome => ({ point, target: 't', values: { x: point }, buildKey: `k${point}`, state: 'succeeded', ...fields });

describe('sweep rules', () => {
  it('accepts every option leaf and nothing keyed by tensor names', () => {
    const paths = sweepablePaths();
    expect(paths).toEqual(expect.arrayContaining(['onnxruntime.graphOptimizationLevel', 'onnxruntime.intraOpNumThreads', 'tensorrt.precision', 'tensorrt.builderOptimizationLevel', 'benchmark.maxBatch', 'validation.rtol']));
    expect(paths).not.toEqual(expect.arrayContaining(['shapes']));
    expect(paths).not.toContain('onnxruntime.benchmarkRuntimes');
  });

  it('gives a point the build key of the single build with its options; runtime-only points share one', () => {
    const target = parseTargetKey('ort1.30.0-x86_64-avx2');
    const combos = expandSweep({ benchmark: { iterations: 3 } }, { 'onnxruntime.graphOptimizationLevel': ['basic', 'all'], 'onnxruntime.intraOpNumThreads': [1, 2] }, 1, 64);
    expect(combos).toHaveLength(4);
    const groups = groupByArtifact('onnxruntime', combos);
    expect(groups).toHaveLength(2);
    expect(groups[0].options.onnxruntime).toEqual({ graphOptimizationLevel: 'basic', benchmarkRuntimes: [{ intraOpNumThreads: 1 }, { intraOpNumThreads: 2 }] });
    expect(groups[0].members.map((m) => m.runtime)).toEqual([0, 1]);

    const one = groupByArtifact('onnxruntime', expandSweep({}, { 'onnxruntime.intraOpNumThreads': [4] }, 1, 64));
    const single = BuildOptionsSchema.parse({ onnxruntime: { intraOpNumThreads: 4 } });
    expect(buildKeyOf(makeBuildSpec('m', target, one[0].options))).toBe(buildKeyOf(makeBuildSpec('m', target, single)));
    // No runtime setting, no key change: options made before they existed keep their build keys.
    expect(buildKeyOf(makeBuildSpec('m', target, BuildOptionsSchema.parse({})))).toBe(buildKeyOf(makeBuildSpec('m', target, expandSweep({}, { 'onnxruntime.graphOptimizationLevel': ['all'] }, 1, 64)[0].options)));
  });

  it('names the fastest passing point and its margin, and says why the others do not compete', () => {
    const outcomes = [
      outcome(0, { report: report('pass', [row(1, 4, 250), row(2, 6, 330)]) }),
      outcome(1, { report: report('warn', [row(1, 2, 500), row(2, 5, 400)]) }),
      outcome(2, { report: report('fail', [row(1, 1, 1000)]), verdict: 'fail' }),
      outcome(3, { state: 'failed', error: 'ONNX Runtime could not load it' }),
      outcome(4, { state: 'refused', buildKey: undefined, error: 'int8 needs a calibration cache' }),
    ];
    const latency = bestPoint('t', outcomes, { metric: 'latency' });
    expect(latency).toMatchObject({ state: 'decided', best: { point: 1, value: 2, batch: 1 }, runnerUp: { point: 0, value: 4 }, marginPercent: 100 });
    expect(latency.excluded).toEqual([
      { point: 2, values: { x: 2 }, reason: 'validation fail' },
      { point: 3, values: { x: 3 }, reason: 'build failed: ONNX Runtime could not load it' },
      { point: 4, values: { x: 4 }, reason: 'refused: int8 needs a calibration cache' },
    ]);
    const throughput = bestPoint('t', outcomes, { metric: 'throughput', batch: 2 });
    expect(throughput).toMatchObject({ best: { point: 1, value: 400 }, runnerUp: { point: 0, value: 330 } });
    expect(throughput.marginPercent).toBeCloseTo((400 / 330 - 1) * 100, 9);
    expect(bestPoint('t', outcomes, { metric: 'latency', batch: 8 }).excluded[0].reason).toBe('no measurement at batch 8 (measured: 1, 2)');
    expect(bestPoint('t', [...outcomes, outcome(5, { state: 'active' })], { metric: 'latency' }).state).toBe('pending');
    expect(bestPoint('t', outcomes.slice(2), { metric: 'latency' }).state).toBe('none');
  });
});

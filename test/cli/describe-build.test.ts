/** `kiln status` shows every optimization profile's validation and benchmark. */
import type { BuildAnswer } from '../../src/cli/api-types';
import { describeBuild } from '../../src/cli/commands/builds';
import type { BenchmarkRow, OutputComparison } from '../../src/core/report';

const output = (elements: number): OutputComparison => ({ name: 'logits', elements, mismatched: 0, mismatchRatio: 0, maxAbsError: 1e-4, maxRelError: 2e-4, nonFinite: 0, verdict: 'pass' });
const stats = { min: 1, mean: 1, median: 1, p90: 1, p95: 1, p99: 1, max: 1 };
const row = (batch: number): BenchmarkRow => ({ batch, iterations: 5, latencyMs: stats, throughputQps: 100, throughputSps: 100 * batch });
const shapes = (min: number, max: number) => ({ x: { min: [min, 3], opt: [min, 3], max: [max, 3] } });

test('one table row per profile and output, and per profile and batch', () => {
  const build = {
    buildKey: 'a'.repeat(64),
    modelId: 'b'.repeat(64),
    targetKey: 'trt10.9.0-sm89',
    state: 'succeeded',
    createdAt: '2026-12-02T15:00:00.000Z',
    artifacts: [],
    published: true,
    report: {
      schema: 1,
      buildKey: 'a'.repeat(64),
      targetKey: 'trt10.9.0-sm89',
      toolchain: { name: 'tensorrt', version: '10.9.0' },
      build: { seconds: 1, details: {} },
      validation: {
        verdict: 'pass', reference: 'onnxruntime-cpu', rtol: 1e-3, atol: 1e-4, seed: 1, failRatio: 0,
        inputs: { x: { dims: [1, 3], type: 'float', source: 'seeded' } }, outputs: [output(10)], profile: 0,
        profiles: [
          { index: 0, shapes: shapes(1, 2), verdict: 'pass', inputs: { x: { dims: [1, 3], type: 'float', source: 'seeded' } }, outputs: [output(10)] },
          { index: 1, shapes: shapes(4, 8), verdict: 'pass', inputs: { x: { dims: [4, 3], type: 'float', source: 'seeded' } }, outputs: [output(40)] },
        ],
      },
      benchmark: {
        dynamicBatch: true, rows: [row(1), row(2)],
        profiles: [
          { index: 0, shapes: shapes(1, 2), dynamicBatch: true, rows: [row(1), row(2)] },
          { index: 1, shapes: shapes(4, 8), dynamicBatch: true, rows: [row(4), row(8)] },
        ],
      },
      warnings: [],
    },
  } as unknown as BuildAnswer;
  const text = describeBuild(build);
  expect(text).toMatch(/PROFILE\s+INPUTS\s+OUTPUT\s+VERDICT/);
  expect(text).toMatch(/\n\s+0\s+x:1x3\s+logits\s+pass/);
  expect(text).toMatch(/\n\s+1\s+x:4x3\s+logits\s+pass/);
  expect(text).toMatch(/PROFILE\s+BATCH\s+MEDIAN/);
  expect(text).toMatch(/\n\s+1\s+8\s+1(\.0+)? ?ms/);
});

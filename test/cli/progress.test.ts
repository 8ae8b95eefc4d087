/** One percent across a build's phases, as `kiln build --watch` shows it, and its summary's numbers. */
import { overallPercent, PHASES } from '../../src/core/build-phases';
import type { BuildEvent, BuildRecord } from '../../src/cli/api-types';
import { LineDisplay } from '../../src/cli/progress';
import { benchmarkSummary } from '../../src/cli/watch';

const progress = (phase: string, percent: number): BuildEvent => ({ type: 'progress', buildKey: 'b', phase, percent, at: '' });

describe('overall progress', () => {
  it.each(['ort1.30.0-x86_64-avx2', 'trt10.9.0-sm89'])('runs from 0 to 100 across the phases of %s, never back', (target) => {
    const seen = PHASES.flatMap((phase) => [0, 50, 100].map((p) => overallPercent(target, phase, p)));
    expect(seen[0]).toBe(0);
    expect(seen[seen.length - 1]).toBe(100);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    // The end of one phase is the start of the next.
    for (let i = 1; i < PHASES.length; i++) expect(overallPercent(target, PHASES[i], 0)).toBe(overallPercent(target, PHASES[i - 1], 100));
  });

  it('gives benchmarking most of a CPU build and building most of a TensorRT one', () => {
    const share = (target: string, phase: string) => overallPercent(target, phase, 100) - overallPercent(target, phase, 0);
    expect(share('ort1.30.0-x86_64-avx2', 'benchmarking')).toBeGreaterThan(50);
    expect(share('trt10.9.0-sm89', 'building')).toBeGreaterThan(50);
  });

  it('prints plain lines whose percent does not restart when a phase starts', () => {
    let out = '';
    const display = new LineDisplay({ write: (chunk) => (out += chunk) });
    display.add('b', 'ort1.30.0-x86_64-avx2');
    display.event('b', { type: 'state', buildKey: 'b', state: 'active', at: '' });
    for (const phase of PHASES) for (const p of [0, 40, 100]) display.event('b', progress(phase, p));
    display.event('b', { type: 'state', buildKey: 'b', state: 'succeeded', at: '' });
    const percents = [...out.matchAll(/ (\d+)%$/gm)].map((m) => Number(m[1]));
    expect(out).toContain('[ort1.30.0-x86_64-avx2] benchmarking 20%'); // after preparing 3, building 15, validating 2
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(out.trimEnd().split('\n').pop()).toBe('[ort1.30.0-x86_64-avx2] succeeded 100%');
  });
});

describe('watch summary numbers', () => {
  const row = (batch: number, median: number, sps: number) => ({ batch, iterations: 50, latencyMs: { min: 0, mean: 0, median, p90: 0, p95: 0, p99: 0 }, throughputQps: sps / batch, throughputSps: sps });

  it('gives the median latency at the smallest batch and the best samples per second', () => {
    const record = { report: { benchmark: { dynamicBatch: true, rows: [row(1, 4.5678, 210), row(2, 7.9, 252.6), row(4, 15.2, 263.2)] } } } as unknown as BuildRecord;
    expect(benchmarkSummary(record)).toEqual({ latency: '4.57 ms (batch 1)', throughput: '263 (batch 4)' });
    expect(benchmarkSummary({ report: undefined } as BuildRecord)).toEqual({});
  });
});

import { measure } from '../../src/worker/benchmark/measure';
import { latencyStats, percentile } from '../../src/worker/benchmark/stats';

describe('latencyStats', () => {
  test('percentiles interpolate linearly between ranks (numpy default)', () => {
    const samples = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    expect(latencyStats(samples)).toEqual({ min: 1, mean: 5.5, median: 5.5, p90: 9.1, p95: 9.55, p99: 9.91, max: 10 });
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([7], 99)).toBe(7);
    expect(() => latencyStats([])).toThrow('Expected at least one sample but received none');
    expect(() => percentile([1], 101)).toThrow('Expected a percentile in [0, 100] but received 101');
  });
});

describe('measure', () => {
  test('runs warm-up then timed runs, and times each timed run', async () => {
    const calls: string[] = [];
    let phase = 'warmup';
    const fractions: number[] = [];
    const m = await measure(
      async () => {
        calls.push(phase);
        await new Promise((resolve) => setImmediate(resolve));
      },
      { warmup: 2, iterations: 3, onProgress: (f) => {
        fractions.push(f);
        if (fractions.length === 2) phase = 'timed';
      } },
    );
    expect(calls).toEqual(['warmup', 'warmup', 'timed', 'timed', 'timed']);
    expect(m.samplesMs).toHaveLength(3);
    expect(m.samplesMs.every((ms) => ms > 0)).toBe(true);
    expect(m.totalMs).toBeCloseTo(m.samplesMs.reduce((a, b) => a + b, 0), 6);
    expect(fractions).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
  });

  test('stops before the next run once the signal aborts', async () => {
    const controller = new AbortController();
    let runs = 0;
    const reason = new Error('cancelled');
    await expect(
      measure(
        () => {
          runs++;
          if (runs === 3) controller.abort(reason);
        },
        { warmup: 1, iterations: 1000, signal: controller.signal },
      ),
    ).rejects.toBe(reason);
    expect(runs).toBe(3);
  });

  test('rejects bad counts', async () => {
    await expect(measure(() => {}, { warmup: 0, iterations: 0 })).rejects.toThrow('Expected a positive integer for iterations but received 0');
  });
});

/**
 * Latency statistics of a list of samples, in the samples' unit.
 *
 * Percentiles interpolate linearly between the two nearest ranks (numpy's default method, R's
 * type 7): for p in [0, 100], h = (n - 1) * p / 100 and the result is
 * x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]) over the sorted samples. So the
 * median of an even count is the mean of the middle two, p0 is the min and p100 the max.
 */
import type { LatencyStats } from '../../core/report';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('Expected at least one sample but received none');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`Expected a percentile in [0, 100] but received ${p}`);
  const h = ((sorted.length - 1) * p) / 100;
  const low = Math.floor(h);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (h - low) * (sorted[high] - sorted[low]);
}

export function latencyStats(samples: readonly number[]): LatencyStats {
  if (samples.length === 0) throw new RangeError('Expected at least one sample but received none');
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((acc, x) => acc + x, 0);
  return {
    min: sorted[0],
    mean: sum / sorted.length,
    median: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

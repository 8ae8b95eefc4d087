/**
 * Speed-up per batch size: the reference's median latency over the artifact's, at the batch sizes
 * both were measured at. Medians, not means: one descheduled run must not move the ratio.
 */
import type { BenchmarkRow, SpeedupRow } from '../../core/report';

export function speedups(rows: BenchmarkRow[], reference: BenchmarkRow[]): SpeedupRow[] {
  const byBatch = new Map(reference.map((r) => [r.batch, r]));
  const out: SpeedupRow[] = [];
  for (const row of rows) {
    const ref = byBatch.get(row.batch);
    if (!ref || !(row.latencyMs.median > 0)) continue;
    out.push({
      batch: row.batch,
      referenceMedianMs: ref.latencyMs.median,
      medianMs: row.latencyMs.median,
      speedup: Math.round((ref.latencyMs.median / row.latencyMs.median) * 1000) / 1000,
    });
  }
  return out;
}

/**
 * The timing loop every host-timed benchmark uses: warm-up runs (untimed: they fill caches, let
 * the runtime allocate its arenas and the CPU raise its clock), then timed runs, each measured on
 * the monotonic clock (process.hrtime.bigint) around one awaited call.
 */
import type { LatencyStats } from '../../core/report';
import { latencyStats } from './stats';

export interface MeasureOptions {
  warmup: number;
  iterations: number;
  /** Checked before every run; an abort rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called after every run (warm-up or timed), outside the timed region: for sampling memory. */
  afterRun?(): void;
  /** Called after each run with the share done, 0..1 over warm-up and timed runs together. */
  onProgress?(fraction: number): void;
}

export interface Measurement {
  /** Milliseconds per timed run, in run order. */
  samplesMs: number[];
  latencyMs: LatencyStats;
  /** Wall time of the timed runs together, in milliseconds. */
  totalMs: number;
}

export async function measure(runOnce: () => unknown, options: MeasureOptions): Promise<Measurement> {
  const { warmup, iterations, signal, afterRun, onProgress } = options;
  if (!(Number.isInteger(iterations) && iterations > 0)) {
    throw new RangeError(`Expected a positive integer for iterations but received ${iterations}`);
  }
  if (!(Number.isInteger(warmup) && warmup >= 0)) {
    throw new RangeError(`Expected a non-negative integer for warmup but received ${warmup}`);
  }
  const runs = warmup + iterations;
  for (let i = 0; i < warmup; i++) {
    signal?.throwIfAborted();
    await runOnce();
    afterRun?.();
    onProgress?.((i + 1) / runs);
  }
  const samplesMs: number[] = [];
  let totalNs = 0n;
  for (let i = 0; i < iterations; i++) {
    signal?.throwIfAborted();
    const start = process.hrtime.bigint();
    await runOnce();
    const elapsed = process.hrtime.bigint() - start;
    totalNs += elapsed;
    samplesMs.push(Number(elapsed) / 1e6);
    afterRun?.();
    onProgress?.((warmup + i + 1) / runs);
  }
  return { samplesMs, latencyMs: latencyStats(samplesMs), totalMs: Number(totalNs) / 1e6 };
}

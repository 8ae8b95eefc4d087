/**
 * Benchmark of an ONNX Runtime build: the built model, loaded with optimisations disabled (the
 * artifact as written, as a client loads it), run on seeded inputs at batch sizes 1, 2, 4, ... up to
 * options.benchmark.maxBatch (and maxBatch itself) when the batch dim is dynamic, else at the
 * model's own batch size. Latency is host wall-clock time around session.run, inputs prepared
 * beforehand; ONNX Runtime picks its default thread count, as a client would, unless the options
 * give runtime settings (intraOpNumThreads, executionMode, or a sweep's benchmarkRuntimes).
 *
 * memoryBytes is the largest resident set size of the worker process sampled after each run of the
 * row (outside the timed region). ONNX Runtime's CPU arena keeps what it allocated, so the RSS after
 * a run covers the run's peak. It includes the worker's own baseline. process.resourceUsage()'s
 * maxRSS is not used: it is monotonic over the process's life, so after one large model every
 * later row would report that model's peak.
 */
import type { BenchmarkReport, BenchmarkRow } from '../../../core/report';
import { measure } from '../../benchmark/measure';
import { batchInfo, resolveShapes } from '../../shapes';
import { makeInputs } from '../../validation/seeded-inputs';
import { BuildInputError, type BuildOutput, type StepContext } from '../toolchain';
import { toOrtFeeds } from './tensors';
import { describeInputs, withSession } from './session';
import { onnxRuntimeOptions } from './options';
import type { OnnxRuntimeSettings } from '../../../core/options';

/** 1, 2, 4, ... below maxBatch, then maxBatch itself. */
export function batchSizes(maxBatch: number): number[] {
  const sizes: number[] = [];
  for (let b = 1; b < maxBatch; b *= 2) sizes.push(b);
  sizes.push(maxBatch);
  return sizes;
}

/**
 * The build's own runtime settings, or each of `benchmarkRuntimes` in turn (a sweep over runtime
 * settings measures its one artifact once per setting instead of building it again).
 */
export async function benchmarkOnnxRuntime(ctx: StepContext, built: BuildOutput): Promise<BenchmarkReport> {
  const { intraOpNumThreads, executionMode, benchmarkRuntimes } = onnxRuntimeOptions(ctx.spec);
  const batch = batchInfo(ctx.model);
  const progress = throttledProgress(ctx.progress);
  progress(0);
  ctx.signal.throwIfAborted();
  if (!benchmarkRuntimes) {
    const rows = await measureRows(ctx, built, { intraOpNumThreads, executionMode }, (p) => progress(p));
    progress(100);
    return { dynamicBatch: batch.dynamic, rows };
  }
  const runtimes: NonNullable<BenchmarkReport['runtimes']> = [];
  for (const [i, settings] of benchmarkRuntimes.entries()) {
    ctx.log(`benchmark runtime ${i + 1}/${benchmarkRuntimes.length}: ${JSON.stringify(settings)}`);
    const rows = await measureRows(ctx, built, settings, (p) => progress((i * 100 + p) / benchmarkRuntimes.length));
    runtimes.push({ settings, rows });
  }
  progress(100);
  return { dynamicBatch: batch.dynamic, rows: runtimes[0].rows, runtimes };
}

async function measureRows(ctx: StepContext, built: BuildOutput, settings: OnnxRuntimeSettings, progress: (percent: number) => void): Promise<BenchmarkRow[]> {
  const { benchmark, shapes, validation } = ctx.spec.options;
  const batch = batchInfo(ctx.model);
  const sizes = batch.dynamic ? batchSizes(benchmark.maxBatch) : [batch.fixedBatch];
  return withSession(
    built.primary.path,
    'disabled',
    `the built ${built.primary.name}`,
    async (session) => {
      const out: BenchmarkRow[] = [];
      for (const [index, size] of sizes.entries()) {
        const dims = resolveShapes(ctx.model, shapes, batch.dynamic ? { batch: size } : {});
        // The validation's seed and ranges keep integer inputs (token ids, indices) in range.
        const inputs = makeInputs(ctx.model, dims, { seed: validation.seed, inputRanges: validation.inputRanges });
        const feeds = toOrtFeeds(inputs);
        let memoryBytes = process.memoryUsage.rss();
        const m = await measure(
          () =>
            session.run(feeds).catch((err: Error) => {
              // A model whose batch dim is declared dynamic but is not (a Reshape to a fixed batch).
              throw new BuildInputError(
                `ONNX Runtime could not run the built ${built.primary.name} at batch ${size} on inputs ${describeInputs(inputs)}: ` +
                  `${err.message}${size > 1 ? '; set options.benchmark.maxBatch to the largest batch the model runs at' : ''}`,
              );
            }),
          {
            afterRun: () => {
              memoryBytes = Math.max(memoryBytes, process.memoryUsage.rss());
            },
            warmup: benchmark.warmup,
            iterations: benchmark.iterations,
            signal: ctx.signal,
            onProgress: (fraction) => progress(((index + fraction) / sizes.length) * 100),
          },
        );
        const throughputQps = m.totalMs > 0 ? (benchmark.iterations * 1000) / m.totalMs : 0;
        const row: BenchmarkRow = {
          batch: size,
          iterations: benchmark.iterations,
          latencyMs: m.latencyMs,
          throughputQps,
          throughputSps: throughputQps * size,
          memoryBytes,
        };
        ctx.log(
          `benchmark batch ${size}: median ${row.latencyMs.median.toFixed(3)} ms, p99 ${row.latencyMs.p99.toFixed(3)} ms, ` +
            `${row.throughputSps.toFixed(1)} samples/s, rss ${(memoryBytes / 2 ** 20).toFixed(0)} MiB`,
        );
        out.push(row);
      }
      return out;
    },
    false,
    settings,
  );
}

/** Reports whole percents only when they change: progress may travel to Redis on every call. */
function throttledProgress(report: (percent: number) => void): (percent: number) => void {
  let last = -1;
  return (percent) => {
    const whole = Math.min(100, Math.max(0, Math.floor(percent)));
    if (whole === last) return;
    last = whole;
    report(whole);
  };
}

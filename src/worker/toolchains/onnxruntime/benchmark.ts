/**
 * Benchmark of an ONNX Runtime build: the built model, loaded with optimisations disabled (the
 * artifact as written, as a client loads it), run on seeded inputs at batch sizes 1, 2, 4, ... up to
 * options.benchmark.maxBatch (and maxBatch itself) when the batch dim is dynamic, else at the
 * model's own batch size. Latency is host wall-clock time around session.run, inputs prepared
 * beforehand. The options' runtime settings (intraOpNumThreads, executionMode) apply to every
 * session; a sweep's benchmarkRuntimes measures the one artifact once per setting instead of
 * building it again.
 *
 * The reference, the original model with optimisations off, is then measured the same way: same
 * intra-op threads, batch sizes and inputs, so the speed-up per batch size compares only what the
 * build changed. The thread count is set explicitly (the host's available parallelism) because
 * ONNX Runtime's own default is not reported back, and a report must say what it measured with.
 * Host load from /proc is read over both measurements (docs/benchmark-conditions.md). A last,
 * separate pass runs ONNX Runtime's profiler for the per-node times (./profile.ts).
 *
 * memoryBytes is the largest resident set size of the worker process sampled after each run of the
 * row (outside the timed region). ONNX Runtime's CPU arena keeps what it allocated, so the RSS after
 * a run covers the run's peak. It includes the worker's own baseline. process.resourceUsage()'s
 * maxRSS is not used: it is monotonic over the process's life, so after one large model every
 * later row would report that model's peak.
 */
import { availableParallelism } from 'node:os';
import type { BenchmarkReport, BenchmarkRow } from '../../../core/report';
import { judgeConditions, watchHostLoad } from '../../benchmark/host-load';
import { measure } from '../../benchmark/measure';
import { speedups } from '../../benchmark/speedup';
import { batchInfo, resolveShapes } from '../../shapes';
import { makeInputs } from '../../validation/seeded-inputs';
import { BuildInputError, type BuildOutput, type StepContext } from '../toolchain';
import { REFERENCE_NAME } from './options';
import { profileOnnxRuntime } from './profile';
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

/** Intra-op threads of a benchmark session: the options' own, else the host's available parallelism. */
export function benchmarkThreads(settings: OnnxRuntimeSettings = {}): number {
  return settings.intraOpNumThreads ?? availableParallelism();
}

export async function benchmarkOnnxRuntime(ctx: StepContext, built: BuildOutput): Promise<BenchmarkReport> {
  const { intraOpNumThreads, executionMode, benchmarkRuntimes } = onnxRuntimeOptions(ctx.spec);
  const batch = batchInfo(ctx.model);
  const sizes = batch.dynamic ? batchSizes(ctx.spec.options.benchmark.maxBatch) : [batch.fixedBatch];
  const settingsList: OnnxRuntimeSettings[] = benchmarkRuntimes ?? [{ intraOpNumThreads, executionMode }];
  // Each runtime setting, then the reference: equal shares of the phase's progress.
  const share = 100 / (settingsList.length + 1);
  const progress = throttledProgress(ctx.progress);
  progress(0);
  ctx.signal.throwIfAborted();
  const load = watchHostLoad();
  const runtimes: NonNullable<BenchmarkReport['runtimes']> = [];
  for (const [i, settings] of settingsList.entries()) {
    if (benchmarkRuntimes) ctx.log(`benchmark runtime ${i + 1}/${benchmarkRuntimes.length}: ${JSON.stringify(settings)}`);
    const rows = await measureOnnxRuntime(ctx, {
      modelPath: built.primary.path,
      what: `the built ${built.primary.name}`,
      label: 'benchmark',
      sizes,
      dynamic: batch.dynamic,
      threads: benchmarkThreads(settings),
      executionMode: settings.executionMode,
      onProgress: (fraction) => progress((i + fraction) * share),
    });
    runtimes.push({ settings, rows });
  }
  // The reference runs with the first setting's threads, as the speed-up compares it with those rows.
  const threads = benchmarkThreads(settingsList[0]);
  const referenceRows = await measureOnnxRuntime(ctx, {
    modelPath: ctx.modelPath,
    what: 'the original model',
    label: 'reference',
    sizes,
    dynamic: batch.dynamic,
    threads,
    executionMode: settingsList[0].executionMode,
    onProgress: (fraction) => progress((settingsList.length + fraction) * share),
  });
  const rows = runtimes[0].rows;
  const conditions = judgeConditions({ threads, host: load.stop() });
  const speedup = speedups(rows, referenceRows);
  logSpeedups(ctx, speedup, conditions.reasons);
  const profile = await profileOnnxRuntime(ctx, built.primary.path, sizes[0], batch.dynamic, threads);
  ctx.log(`layer profile (batch ${profile.batch}, ${profile.runs} runs): ${profile.layers.slice(0, 3).map((l) => `${l.name} ${(l.share * 100).toFixed(1)}%`).join(', ')}`);
  progress(100);
  return {
    dynamicBatch: batch.dynamic,
    rows,
    ...(benchmarkRuntimes ? { runtimes } : {}),
    reference: { name: REFERENCE_NAME, rows: referenceRows },
    speedup,
    conditions,
  };
}

export function logSpeedups(ctx: Pick<StepContext, 'log'>, rows: { batch: number; speedup: number }[], noisy: string[]): void {
  ctx.log(`speed-up over the reference: ${rows.map((r) => `batch ${r.batch} ${r.speedup.toFixed(2)}x`).join(', ') || 'none measured'}`);
  if (noisy.length > 0) ctx.log(`benchmark noisy: ${noisy.join('; ')}`);
}

export interface MeasureModelOptions {
  modelPath: string;
  /** Names the model in errors ("the built model.optimized.onnx"). */
  what: string;
  /** Starts each row's log line ("benchmark", "reference"). */
  label: string;
  sizes: number[];
  dynamic: boolean;
  threads: number;
  /** ONNX Runtime's execution mode, when the options set one. */
  executionMode?: OnnxRuntimeSettings['executionMode'];
  /** 0..1 over every batch size. */
  onProgress(fraction: number): void;
}

/** Measures one model, loaded with optimisations off, at each batch size on the validation's seeded inputs. */
export async function measureOnnxRuntime(ctx: StepContext, o: MeasureModelOptions): Promise<BenchmarkRow[]> {
  const { benchmark, shapes, validation } = ctx.spec.options;
  return withSession(
    o.modelPath,
    'disabled',
    o.what,
    async (session) => {
      const out: BenchmarkRow[] = [];
      for (const [index, size] of o.sizes.entries()) {
        const dims = resolveShapes(ctx.model, shapes, o.dynamic ? { batch: size } : {});
        // The validation's seed and ranges keep integer inputs (token ids, indices) in range.
        const inputs = makeInputs(ctx.model, dims, { seed: validation.seed, inputRanges: validation.inputRanges });
        const feeds = toOrtFeeds(inputs);
        let memoryBytes = process.memoryUsage.rss();
        const m = await measure(
          () =>
            session.run(feeds).catch((err: Error) => {
              // A model whose batch dim is declared dynamic but is not (a Reshape to a fixed batch).
              throw new BuildInputError(
                `ONNX Runtime could not run ${o.what} at batch ${size} on inputs ${describeInputs(inputs)}: ` +
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
            onProgress: (fraction) => o.onProgress((index + fraction) / o.sizes.length),
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
          `${o.label} batch ${size}: median ${row.latencyMs.median.toFixed(3)} ms, p99 ${row.latencyMs.p99.toFixed(3)} ms, ` +
            `${row.throughputSps.toFixed(1)} samples/s, rss ${(memoryBytes / 2 ** 20).toFixed(0)} MiB`,
        );
        out.push(row);
      }
      return out;
    },
    false,
    { intraOpNumThreads: o.threads, executionMode: o.executionMode },
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

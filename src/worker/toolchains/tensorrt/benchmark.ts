/**
 * Benchmark of a TensorRT engine: trtexec `--loadEngine --shapes` at each batch size the engine's
 * profile allows (1, 2, 4, ... up to its largest batch, capped by options.benchmark.maxBatch), or
 * at the model's own batch when it is fixed. Each run times at least options.benchmark.iterations
 * inferences and at least trtexec's default 3 seconds (short windows give unstable GPU timings),
 * after trtexec's 200 ms warm-up (none when options.benchmark.warmup is 0; trtexec warms up by
 * time, not by runs). Rows carry trtexec's own numbers: throughput (inferences/s; samples/s is that
 * times the batch), latency, GPU compute, H2D, D2H and enqueue percentiles, and the device memory
 * TensorRT reported (the largest [MemUsageChange] total).
 */
import type { BenchmarkReport, BenchmarkRow } from '../../../core/report';
import { inferenceArgs } from '../../../core/tensorrt/inference-argv';
import type { StepContext } from '../toolchain';
import type { TensorRtBuilt } from './build';
import { trtexecFailure } from './failure';
import { toLatencyStats } from './log-parser';
import { benchmarkBatches, benchmarkShapes, dynamicShapes } from './profiles';
import { abortError, deviceArgs, loggedRun, type TensorRtSetup } from './setup';

const MiB = 1024 * 1024;
const WARM_UP_MS = 200;

export async function benchmarkTensorRt(ctx: StepContext, built: TensorRtBuilt, setup: TensorRtSetup): Promise<BenchmarkReport> {
  const options = ctx.spec.options;
  const profile = built.engine.profiles?.[0];
  const { dynamic, batches } = benchmarkBatches(ctx.model, options, profile);
  const { iterations, warmup } = ctx.spec.options.benchmark;
  ctx.progress(0);
  const rows: BenchmarkRow[] = [];
  for (const [index, batch] of batches.entries()) {
    ctx.signal.throwIfAborted();
    const shapes = benchmarkShapes(ctx.model, options, profile, batch, dynamic);
    const args = [
      ...inferenceArgs({
        kind: 'benchmark',
        trt: setup.trtexec.version,
        engine: built.primary.path,
        loading: built.engine.loading,
        onnx: ctx.modelPath,
        shapes: dynamicShapes(ctx.model, shapes),
        iterations,
        warmUpMs: warmup > 0 ? WARM_UP_MS : 0,
      }),
      ...deviceArgs(setup),
    ];
    const run = await loggedRun(ctx, setup, args);
    if (run.aborted) throw abortError(ctx.signal, run.killed);
    if (run.code !== 0 || run.log.status !== 'passed') throw trtexecFailure(run, `benchmark at batch ${batch}`);
    const perf = run.log.performance;
    const latencyMs = toLatencyStats(perf?.latency);
    if (!perf?.throughputQps || !latencyMs) {
      throw new Error(`trtexec printed no performance summary (throughput and latency percentiles 90, 95, 99) for batch ${batch}`);
    }
    const row: BenchmarkRow = {
      batch,
      iterations: perf.timedQueries ?? iterations,
      latencyMs,
      throughputQps: perf.throughputQps,
      throughputSps: perf.throughputQps * batch,
    };
    const extra = {
      gpuComputeMs: toLatencyStats(perf.gpuComputeTime),
      h2dMs: toLatencyStats(perf.h2dLatency),
      d2hMs: toLatencyStats(perf.d2hLatency),
      enqueueMs: toLatencyStats(perf.enqueueTime),
    };
    for (const [key, stats] of Object.entries(extra)) if (stats) row[key as keyof typeof extra] = stats;
    const deviceMiB = run.log.memory.peakGpuMiB ?? run.log.memory.contextMiB;
    if (deviceMiB !== undefined) row.memoryBytes = Math.round(deviceMiB * MiB);
    ctx.log(
      `benchmark batch ${batch}: median ${latencyMs.median} ms, p99 ${latencyMs.p99} ms, ${row.throughputSps.toFixed(1)} samples/s` +
        (row.gpuComputeMs ? `, GPU compute median ${row.gpuComputeMs.median} ms` : ''),
    );
    rows.push(row);
    ctx.progress(((index + 1) / batches.length) * 100);
  }
  return { dynamicBatch: dynamic, rows };
}

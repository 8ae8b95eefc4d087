/**
 * Benchmark of a TensorRT engine: trtexec `--loadEngine --shapes` at each batch size the engine's
 * profile allows (1, 2, 4, ... up to its largest batch, capped by options.benchmark.maxBatch), or
 * at the model's own batch when it is fixed. Each run times at least options.benchmark.iterations
 * inferences and at least trtexec's default 3 seconds (short windows give unstable GPU timings),
 * after trtexec's 200 ms warm-up (none when options.benchmark.warmup is 0; trtexec warms up by
 * time, not by runs). Rows carry trtexec's own numbers: throughput (inferences/s; samples/s is that
 * times the batch), latency, GPU compute, H2D, D2H and enqueue percentiles, and the device memory
 * TensorRT reported (the largest [MemUsageChange] total).
 *
 * The speed-up is over the ONNX Runtime CPU reference that validation compares with (the original
 * model, optimisations off, on this host's CPU), measured at the same batch sizes on the same
 * seeded inputs and labelled as the validation reference: there is no GPU framework baseline on a
 * worker. The first run also exports trtexec's per-layer profile (in a separate profiling run),
 * kept as layer-profile.json beside the layer info. The GPU idle guard is read before each trtexec run and after the last; a busy reading, or
 * other processes loading the host while the reference ran, marks the benchmark noisy.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LAYER_PROFILE_FILE } from '../../../core/layer-profile';
import type { BenchmarkReport, BenchmarkRow, GpuLoadReading } from '../../../core/report';
import { inferenceArgs } from '../../../core/tensorrt/inference-argv';
import { judgeConditions, watchHostLoad } from '../../benchmark/host-load';
import { speedups } from '../../benchmark/speedup';
import type { IdleGuard } from '../../gpu/idle-guard';
import { benchmarkThreads, logSpeedups, measureOnnxRuntime } from '../onnxruntime/benchmark';
import type { StepContext } from '../toolchain';
import type { TensorRtBuilt } from './build';
import { trtexecFailure } from './failure';
import { toLatencyStats } from './log-parser';
import { benchmarkBatches, benchmarkShapes, dynamicShapes } from './profiles';
import { abortError, deviceArgs, loggedRun, type TensorRtSetup } from './setup';
import { REFERENCE_NAME } from './validate';
import { layerTypes, parseTrtexecProfile } from './layer-profile';

const MiB = 1024 * 1024;
const WARM_UP_MS = 200;

export async function benchmarkTensorRt(ctx: StepContext, built: TensorRtBuilt, setup: TensorRtSetup): Promise<BenchmarkReport> {
  const options = ctx.spec.options;
  const profile = built.engine.profiles?.[0];
  const { dynamic, batches } = benchmarkBatches(ctx.model, options, profile);
  const { iterations, warmup } = ctx.spec.options.benchmark;
  ctx.progress(0);
  const rows: BenchmarkRow[] = [];
  const gpu: GpuLoadReading[] = [];
  const profilePath = path.join(ctx.workDir, 'trtexec-profile.json');
  for (const [index, batch] of batches.entries()) {
    ctx.signal.throwIfAborted();
    await readGpu(setup.idleGuard, gpu);
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
        // The smallest batch gets the layer profile, as the CPU toolchain's profiled pass does.
        ...(index === 0 ? { exportProfile: profilePath } : {}),
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
    ctx.progress(((index + 1) / batches.length) * 80);
  }
  await readGpu(setup.idleGuard, gpu);
  await writeLayerProfile(ctx, built, profilePath, batches[0]);

  const threads = benchmarkThreads();
  const load = watchHostLoad();
  let referenceRows: BenchmarkRow[];
  try {
    referenceRows = await measureOnnxRuntime(ctx, {
      modelPath: ctx.modelPath,
      what: 'the original model',
      label: `reference (${REFERENCE_NAME})`,
      sizes: batches,
      dynamic,
      threads,
      onProgress: (fraction) => ctx.progress(80 + fraction * 20),
    });
  } catch (err) {
    // The engine's numbers stand on their own; a reference that cannot run (shapes only a TensorRT
    // profile names) costs the speed-up, not the build.
    if (ctx.signal.aborted) throw err;
    ctx.log(`reference benchmark skipped: ${(err as Error).message}`);
    return { dynamicBatch: dynamic, rows, conditions: judgeConditions({ threads: null, host: load.stop(), ...(setup.idleGuard ? { gpu } : {}) }) };
  }
  const conditions = judgeConditions({ threads: null, referenceThreads: threads, host: load.stop(), ...(setup.idleGuard ? { gpu } : {}) });
  const speedup = speedups(rows, referenceRows);
  logSpeedups(ctx, speedup, conditions.reasons);
  return {
    dynamicBatch: dynamic,
    rows,
    reference: { name: `${REFERENCE_NAME} (the validation reference: the original model on this host's CPU, optimisations off)`, rows: referenceRows },
    speedup,
    conditions,
  };
}

/** layer-profile.json from trtexec's profile; a missing or unreadable one is logged, not fatal. */
async function writeLayerProfile(ctx: StepContext, built: TensorRtBuilt, profilePath: string, batch: number): Promise<void> {
  try {
    const types = await layerTypes(built.extra.find((f) => f.role === 'layer-info')?.path);
    const profile = parseTrtexecProfile(JSON.parse(await readFile(profilePath, 'utf8')), batch, types);
    await writeFile(path.join(ctx.workDir, LAYER_PROFILE_FILE), JSON.stringify(profile, null, 2));
    ctx.log(`layer profile (batch ${batch}, ${profile.runs} runs): ${profile.layers.slice(0, 3).map((l) => `${l.name} ${(l.share * 100).toFixed(1)}%`).join(', ')}`);
  } catch (err) {
    ctx.log(`layer profile not kept: ${(err as Error).message}`);
  }
}

/** One idle-guard reading between trtexec runs (none running, so utilisation counts too). */
async function readGpu(guard: IdleGuard | undefined, into: GpuLoadReading[]): Promise<void> {
  if (!guard) return;
  const r = await guard.read();
  into.push({ at: r.at, utilizationGpu: r.utilizationGpu, otherProcesses: r.others ? r.others.length : null, busy: r.busy, why: r.why });
}

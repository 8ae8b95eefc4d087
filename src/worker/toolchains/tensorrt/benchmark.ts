/**
 * Benchmark of a TensorRT engine: trtexec `--loadEngine --shapes` at each batch size the engine's
 * profile allows (1, 2, 4, ... up to its largest batch, capped by options.benchmark.maxBatch), or
 * at the model's own batch when it is fixed. A client may select any optimization profile, so each
 * is measured on its own (`--useProfile=N`, TensorRT >= 9.0; 8.6 builds one profile only, which
 * needs no flag) at the batch sizes and shapes it accepts: `profiles[i]`, with profile 0's rows
 * also the top-level `rows` (docs/fleet.md). Each run times at least options.benchmark.iterations
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
import type { BenchmarkReport, BenchmarkRow, GpuLoadReading, ProfileBenchmark } from '../../../core/report';
import type { ShapeProfile } from '../../../core/tensorrt/options';
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

/** What one optimization profile is measured at (profile undefined: a static engine). */
interface ProfilePlan {
  index: number;
  profile: ShapeProfile | undefined;
  dynamic: boolean;
  batches: number[];
}

export async function benchmarkTensorRt(ctx: StepContext, built: TensorRtBuilt, setup: TensorRtSetup): Promise<BenchmarkReport> {
  const options = ctx.spec.options;
  const engineProfiles = built.engine.profiles;
  const plans: ProfilePlan[] = (engineProfiles?.length ? engineProfiles : [undefined]).map((profile, index) => ({
    index,
    profile,
    ...benchmarkBatches(ctx.model, options, profile),
  }));
  const runs = plans.reduce((n, plan) => n + plan.batches.length, 0);
  ctx.progress(0);
  const gpu: GpuLoadReading[] = [];
  const profilePath = path.join(ctx.workDir, 'trtexec-profile.json');
  const measured: BenchmarkRow[][] = [];
  let done = 0;
  for (const plan of plans) {
    const rows: BenchmarkRow[] = [];
    for (const [i, batch] of plan.batches.entries()) {
      ctx.signal.throwIfAborted();
      await readGpu(setup.idleGuard, gpu);
      // Profile 0's smallest batch gets the layer profile, as the CPU toolchain's profiled pass does.
      rows.push(await measureBatch(ctx, built, setup, plan, batch, plan.index === 0 && i === 0 ? profilePath : undefined));
      ctx.progress((++done / runs) * 80);
    }
    measured.push(rows);
  }
  await readGpu(setup.idleGuard, gpu);
  const [first] = plans;
  const rows = measured[0];
  await writeLayerProfile(ctx, built, profilePath, first.batches[0]);
  // Profile 0's figures stay at the top level, where readers from before per-profile benchmarks look.
  const profiles: ProfileBenchmark[] | undefined = engineProfiles?.length
    ? plans.map((plan, i) => ({ index: plan.index, shapes: plan.profile!, dynamicBatch: plan.dynamic, rows: measured[i] }))
    : undefined;
  const perProfile = profiles ? { profiles } : {};

  // The reference runs at profile 0's batch sizes: the speed-up is profile 0's, like `rows`.
  const threads = benchmarkThreads();
  const load = watchHostLoad();
  let referenceRows: BenchmarkRow[];
  try {
    referenceRows = await measureOnnxRuntime(ctx, {
      modelPath: ctx.modelPath,
      what: 'the original model',
      label: `reference (${REFERENCE_NAME})`,
      sizes: first.batches,
      dynamic: first.dynamic,
      threads,
      onProgress: (fraction) => ctx.progress(80 + fraction * 20),
    });
  } catch (err) {
    // The engine's numbers stand on their own; a reference that cannot run (shapes only a TensorRT
    // profile names) costs the speed-up, not the build.
    if (ctx.signal.aborted) throw err;
    ctx.log(`reference benchmark skipped: ${(err as Error).message}`);
    return { dynamicBatch: first.dynamic, rows, ...perProfile, conditions: judgeConditions({ threads: null, host: load.stop(), ...(setup.idleGuard ? { gpu } : {}) }) };
  }
  const conditions = judgeConditions({ threads: null, referenceThreads: threads, host: load.stop(), ...(setup.idleGuard ? { gpu } : {}) });
  const speedup = speedups(rows, referenceRows);
  logSpeedups(ctx, speedup, conditions.reasons);
  return {
    dynamicBatch: first.dynamic,
    rows,
    ...perProfile,
    reference: { name: `${REFERENCE_NAME} (the validation reference: the original model on this host's CPU, optimisations off)`, rows: referenceRows },
    speedup,
    conditions,
  };
}

/** One trtexec timing run: `batch` on the plan's profile (--useProfile=N for any but profile 0). */
async function measureBatch(
  ctx: StepContext,
  built: TensorRtBuilt,
  setup: TensorRtSetup,
  plan: ProfilePlan,
  batch: number,
  exportProfile: string | undefined,
): Promise<BenchmarkRow> {
  const options = ctx.spec.options;
  const { iterations, warmup } = options.benchmark;
  const shapes = benchmarkShapes(ctx.model, options, plan.profile, batch, plan.dynamic);
  const args = [
    ...inferenceArgs({
      kind: 'benchmark',
      trt: setup.trtexec.version,
      engine: built.primary.path,
      loading: built.engine.loading,
      onnx: ctx.modelPath,
      shapes: dynamicShapes(ctx.model, shapes),
      profileIndex: plan.index,
      iterations,
      warmUpMs: warmup > 0 ? WARM_UP_MS : 0,
      ...(exportProfile ? { exportProfile } : {}),
    }),
    ...deviceArgs(setup),
  ];
  const which = plan.index > 0 ? ` of optimization profile ${plan.index}` : '';
  const run = await loggedRun(ctx, setup, args);
  if (run.aborted) throw abortError(ctx.signal, run.killed);
  if (run.code !== 0 || run.log.status !== 'passed') throw trtexecFailure(run, `benchmark at batch ${batch}${which}`);
  const perf = run.log.performance;
  const latencyMs = toLatencyStats(perf?.latency);
  if (!perf?.throughputQps || !latencyMs) {
    throw new Error(`trtexec printed no performance summary (throughput and latency percentiles 90, 95, 99) for batch ${batch}${which}`);
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
    `${plan.index > 0 ? `profile ${plan.index}: ` : ''}benchmark batch ${batch}: median ${latencyMs.median} ms, p99 ${latencyMs.p99} ms, ${row.throughputSps.toFixed(1)} samples/s` +
      (row.gpuComputeMs ? `, GPU compute median ${row.gpuComputeMs.median} ms` : ''),
  );
  return row;
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

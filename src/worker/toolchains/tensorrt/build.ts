/**
 * The TensorRT build: trtexec turns the ONNX into an engine on this worker's GPU, starting from
 * the fleet timing cache of (TensorRT version, platform, CC, this GPU's SKU) and growing it; the
 * SKU's first build starts from the best match of its CC (storage/timing-caches.ts).
 *
 *   fleet cache (and the INT8 calibration cache the options name) -> work dir; idle guard;
 *   trtexec --onnx --saveEngine --timingCacheFile [--calib]
 *   --skipInference --exportLayerInfo --profilingVerbosity=detailed + the mapped options;
 *   check what trtexec says it ran on and the plan header; publish the grown cache (CAS).
 *
 * Nothing is published (no engine, no cache) unless trtexec passed, its log names this worker's
 * TensorRT version, GPU and CC, and the plan header carries this worker's TensorRT version.
 *
 * What every later run on the engine needs (its profiles, how it loads) is decided here, once,
 * and handed to validation and the benchmark with the engine.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { buildArgs, builderFlagsOf, type BuildPaths } from '../../../core/tensorrt/build-argv';
import { calibrationWarnings } from '../../../core/tensorrt/calibration-cache';
import { engineLoading, type EngineLoading } from '../../../core/tensorrt/engine-loading';
import { loadOptionNames } from '../../../core/tensorrt/inference-argv';
import type { ShapeProfile } from '../../../core/tensorrt/options';
import { checkPlan } from '../../../core/tensorrt/plan-header';
import { parseTrtVersion } from '../../../core/tensorrt/version';
import { targetPlatform } from '../../../core/target';
import { timingCacheName } from '../../../core/timing-cache';
import { fetchFleetCache, publishFleetCache, type CachePublishOutcome } from '../../../storage/timing-caches';
import { GpuBusyError, type IdleReport } from '../../gpu/idle-guard';
import type { BuildOutput, BuiltFile, StepContext } from '../toolchain';
import { fetchCalibrationCache } from './calibration';
import { writeEpContext } from './epcontext';
import { trtexecFailure } from './failure';
import type { TrtexecLog } from './log-parser';
import { buildProfiles } from './profiles';
import { abortError, checkTarget, deviceArgs, loggedRun, type TensorRtSetup } from './setup';

export const ENGINE_FILE = 'engine.plan';
export const TIMING_CACHE_FILE = 'timing.cache';
export const LAYER_INFO_FILE = 'layer-info.json';
/** The work dir's copy of the INT8 calibration cache, as --calib. */
export const CALIBRATION_FILE = 'calibration.cache';
/** trtexec warnings kept in the report (the build log has them all). */
const WARNINGS_KEPT = 50;

/** A built engine, with what every run on it needs. */
export interface TensorRtBuilt extends BuildOutput {
  engine: {
    /** The optimization profiles it was built with; none for a static model. */
    profiles: ShapeProfile[] | undefined;
    loading: EngineLoading;
  };
}

export async function buildTensorRt(ctx: StepContext, setup: TensorRtSetup): Promise<TensorRtBuilt> {
  const target = checkTarget(ctx.spec, setup);
  const options = ctx.spec.options.tensorrt;
  const { trtexec, gpu } = setup;
  const profiles = buildProfiles(ctx.model, ctx.spec.options);
  const loading = engineLoading(options, parseTrtVersion(trtexec.version));
  const paths: BuildPaths = {
    onnx: ctx.modelPath,
    engine: path.join(ctx.workDir, ENGINE_FILE),
    timingCache: path.join(ctx.workDir, TIMING_CACHE_FILE),
    layerInfo: path.join(ctx.workDir, LAYER_INFO_FILE),
    ...(options.calibration ? { calib: path.join(ctx.workDir, CALIBRATION_FILE) } : {}),
  };
  // Options this TensorRT or GPU does not accept fail here, before anything is downloaded or run.
  const args = [
    ...buildArgs({ trt: trtexec.version, cc: gpu.cc, options: { ...options, profiles }, paths, targetHwCompat: target.hwCompat, subject: 'worker' }),
    ...deviceArgs(setup),
  ];

  const warnings: string[] = [];
  const calibration = options.calibration ? await fetchCalibrationCache(setup.store, options.calibration, paths.calib!) : null;
  if (calibration) {
    ctx.log(`calibration: INT8 calibration cache ${calibration.sha256} (${calibration.header}, ${calibration.tensors} tensor scales, ${calibration.sizeBytes} bytes)`);
    for (const warning of calibrationWarnings(calibration, trtexec.version)) {
      ctx.log(`calibration: ${warning}`);
      warnings.push(warning);
    }
  }

  const cacheScope = { trt: trtexec.version, cc: gpu.cc, sku: gpu.sku, platform: targetPlatform(target) };
  const cacheName = timingCacheName(cacheScope);
  const fleet = await fetchFleetCache(setup.store, cacheScope, paths.timingCache);
  ctx.log(
    fleet.etag
      ? `timing cache: starting from the fleet cache ${cacheName} (${fleet.bytes} bytes)`
      : fleet.seededFrom
        ? `timing cache: no fleet cache ${cacheName} yet; starting from ${fleet.seededFrom} (${fleet.bytes} bytes), the best match of CC ${gpu.cc}`
        : `timing cache: no fleet cache ${cacheName} yet and none of CC ${gpu.cc} to start from; starting empty`,
  );
  ctx.signal.throwIfAborted();

  const idle = setup.idleGuard ? await setup.idleGuard.beforeBuild(ctx.signal, ctx.log) : null;
  const busy = new AbortController();
  const running: number[] = [];
  const watch = idle && setup.idleGuard
    ? setup.idleGuard.watch(idle, () => running, (reading) => {
        ctx.log(`GPU busy during the build: ${reading.why}`);
        if (setup.idleGuard!.policy === 'refuse') busy.abort(new GpuBusyError(`GPU busy during the build: ${reading.why}; KILN_GPU_IDLE_POLICY=refuse, so this attempt is given back to be retried`));
      })
    : null;
  const started = process.hrtime.bigint();
  let run;
  try {
    run = await loggedRun(ctx, setup, args, {
      signal: AbortSignal.any([ctx.signal, busy.signal]),
      onSpawn: (pid) => running.push(pid),
      onMilestonePercent: (p) => ctx.progress(p),
    });
  } finally {
    watch?.stop();
  }
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (busy.signal.aborted) throw busy.signal.reason as Error;
  if (run.aborted) throw abortError(ctx.signal, run.killed);
  if (run.code !== 0 || run.log.status !== 'passed') throw trtexecFailure(run, 'build');

  checkRanHere(run.log, setup);
  const expected = trtexec.build !== undefined ? `${trtexec.version}.${trtexec.build}` : trtexec.version;
  await checkPlan(paths.engine, expected);
  const engineBytes = (await stat(paths.engine)).size;
  ctx.log(`engine: ${engineBytes} bytes, plan header checked (TensorRT ${expected})`);

  warnings.push(...dedupe(run.log.warnings).slice(0, WARNINGS_KEPT));
  let outcome: CachePublishOutcome | 'not-written' = 'not-written';
  let savedBytes = 0;
  if (await exists(paths.timingCache)) {
    const published = await publishFleetCache(setup.store, cacheScope, paths.timingCache, fleet, {
      buildKey: ctx.buildKey,
      modelId: ctx.spec.modelId,
      targetKey: ctx.spec.targetKey,
      worker: setup.workerLabel,
    });
    outcome = published.outcome;
    savedBytes = published.bytes;
    const note = {
      published: `timing cache: published the grown cache (${fleet.bytes} -> ${published.bytes} bytes) as the fleet cache ${cacheName}`,
      unchanged: `timing cache: nothing new; the fleet cache ${cacheName} is unchanged`,
      conflict: `timing cache: another build published a newer fleet cache first; it stays, and this build's new entries (${fleet.bytes} -> ${published.bytes} bytes) were not merged (merging needs the TensorRT API, which trtexec does not expose)`,
    }[published.outcome];
    ctx.log(note);
    if (published.outcome === 'conflict') warnings.push(note);
  } else {
    warnings.push('trtexec wrote no timing cache; the fleet cache is unchanged');
  }
  if (idle?.flagged) {
    warnings.push(`built on a busy GPU (${idle.during.firstBusy?.why ?? idle.start.why}): kernel timings, and so the engine's speed, may be off`);
  }
  if (loading.cannotRun) {
    ctx.log(`engine: ${loading.cannotRun}`);
    warnings.push(loading.cannotRun);
  }
  ctx.progress(100);

  const extra: BuiltFile[] = [];
  if (await exists(paths.layerInfo)) extra.push({ name: LAYER_INFO_FILE, path: paths.layerInfo, role: 'layer-info' });
  if (await exists(paths.timingCache)) extra.push({ name: TIMING_CACHE_FILE, path: paths.timingCache, role: 'timing-cache' });
  const epContext = await writeEpContext(ctx, ENGINE_FILE, { cc: gpu.cc, trtVersion: trtexec.version, weightsStripped: Boolean(options.stripWeights) });
  if (epContext) extra.push(epContext);
  return {
    primary: { name: ENGINE_FILE, path: paths.engine, role: 'engine' },
    extra,
    engine: { profiles, loading },
    invocation: { argv: [trtexec.path, ...args], timingCacheBefore: fleet.sha256 },
    ...(loading.cannotRun ? { cannotRun: loading.cannotRun } : {}),
    details: {
      device: { ...run.log.device, index: gpu.index, sku: gpu.sku },
      cc: run.log.device.cc,
      uuid: run.log.device.uuid ?? gpu.uuid,
      trtVersion: run.log.trtVersion,
      trtexec: trtexec.path,
      buildSeconds: run.log.buildSeconds ?? wallSeconds,
      engineBytes,
      timingCache: {
        loadedBytes: run.log.timingCache.loadedBytes ?? fleet.bytes,
        savedBytes: run.log.timingCache.savedBytes ?? savedBytes,
        fleet: outcome,
        name: cacheName,
        ...(fleet.seededFrom ? { seededFrom: fleet.seededFrom } : {}),
        ...(run.log.timingCache.entries !== undefined ? { entries: run.log.timingCache.entries } : {}),
      },
      layers: await layerSummary(paths.layerInfo),
      profiles: profiles ?? null,
      weights: options.stripWeights ? 'stripped' : 'included',
      builderFlags: builderFlagsOf(args, trtexec.version),
      loadedWith: loadOptionNames(loading, trtexec.version),
      ...(calibration
        ? { calibration: { sha256: calibration.sha256, header: calibration.header, algorithm: calibration.algorithm, trtVersion: calibration.trtVersion, tensors: calibration.tensors, sizeBytes: calibration.sizeBytes } }
        : {}),
      argv: args,
      warningCount: run.log.warningCount,
      ...(idle ? { gpuIdle: idle satisfies IdleReport } : {}),
    },
    warnings,
  };
}

/** trtexec must have run where the worker says it is: same TensorRT, same CC, same GPU. */
function checkRanHere(log: TrtexecLog, setup: TensorRtSetup): void {
  const { gpu, trtexec } = setup;
  const problems: string[] = [];
  if (log.trtVersion !== trtexec.version) problems.push(`TensorRT ${log.trtVersion ?? '(not printed)'} instead of ${trtexec.version}`);
  if (log.device.cc !== gpu.cc) problems.push(`compute capability ${log.device.cc ?? '(not printed)'} instead of ${gpu.cc}`);
  if (log.device.name !== undefined && log.device.name !== gpu.name) problems.push(`device "${log.device.name}" instead of "${gpu.name}"`);
  if (log.device.uuid !== undefined && gpu.uuid && log.device.uuid !== gpu.uuid) problems.push(`device ${log.device.uuid} instead of ${gpu.uuid}`);
  if (problems.length > 0) {
    throw new Error(
      `trtexec built on another GPU or TensorRT than this worker registered (${problems.join('; ')}); nothing is published. ` +
        'Check CUDA_VISIBLE_DEVICES and KILN_TRTEXEC on this worker',
    );
  }
}

/** Layer count by kind, from --exportLayerInfo (detailed: LayerType; names only: just the count). */
async function layerSummary(file: string): Promise<{ count: number; byType: Record<string, number> } | null> {
  try {
    const info = JSON.parse(await readFile(file, 'utf8')) as { Layers?: unknown[] };
    const layers = Array.isArray(info.Layers) ? info.Layers : [];
    const byType: Record<string, number> = {};
    for (const layer of layers) {
      const kind = typeof layer === 'object' && layer && typeof (layer as { LayerType?: unknown }).LayerType === 'string' ? (layer as { LayerType: string }).LayerType : 'unknown';
      byType[kind] = (byType[kind] ?? 0) + 1;
    }
    return { count: layers.length, byType };
  } catch {
    return null;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then((s) => s.isFile(), () => false);
}

function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}

/**
 * The TensorRT toolchain, step by step, against the trtexec stand-in (a test double, not
 * TensorRT) on a filesystem store: detection, build with the fleet timing cache, validation,
 * benchmark, and every way a build must fail without publishing anything.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import { readModelInfo } from '../../src/core/onnx/read-model';
import { BuildOptionsSchema, type BuildOptionsInput } from '../../src/core/options';
import { parseTargetKey, targetKey } from '../../src/core/target';
import type { GpuTelemetry } from '../../src/native/types';
import type { ArtifactStore } from '../../src/storage/artifact-store';
import { FsStore } from '../../src/storage/fs-store';
import { timingCacheKey } from '../../src/storage/layout';
import { GpuBusyError, IdleGuard } from '../../src/worker/gpu/idle-guard';
import { timingCacheHistoryKey } from '../../src/storage/timing-caches';
import { createTensorRtToolchain, type TensorRtToolchainOptions } from '../../src/worker/toolchains/tensorrt';
import { PlanHeaderError, TrtOptionError } from '../../src/core/tensorrt/errors';
import { BuildInputError, type BuildOutput, type StepContext, type Toolchain } from '../../src/worker/toolchains/toolchain';
import { tinyConv, tinyMlp, writeModel } from '../models';
import { RTX_4080, T4, standinTrtexec, type PlayedGpu } from './gpu-standin';

let root: string;
let store: FsStore;
let count = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kiln-trt-toolchain-'));
  store = new FsStore(join(root, 'store'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const FAST = { benchmark: { maxBatch: 4, warmup: 0, iterations: 5 } };

async function toolchain(played: PlayedGpu, extra: Partial<TensorRtToolchainOptions> = {}, env: Record<string, string> = {}): Promise<Toolchain> {
  const trtexec = await standinTrtexec(root, `bin-${count++}`, played, env);
  const tc = createTensorRtToolchain({ store, gpu: played.gpu, trtexec, device: 0, killGraceMs: 500, ...extra });
  await tc.detect();
  return tc;
}

interface Ctx extends StepContext {
  logs: string[];
  percents: number[];
}

async function context(model: Buffer, target: string, options: BuildOptionsInput = {}, signal = new AbortController().signal): Promise<Ctx> {
  const dir = join(root, `ctx-${count++}`);
  const modelPath = await writeModel(model, dir, 'model.onnx');
  const workDir = join(dir, 'work');
  await mkdir(workDir);
  const info = await readModelInfo(modelPath);
  const logs: string[] = [];
  const percents: number[] = [];
  const spec = makeBuildSpec(info.sha256, parseTargetKey(target), BuildOptionsSchema.parse({ ...FAST, ...options }));
  return {
    buildKey: buildKeyOf(spec),
    spec,
    model: info,
    modelPath,
    workDir,
    signal,
    progress: (p) => percents.push(p),
    log: (line) => logs.push(line),
    logs,
    percents,
  };
}

const cacheScope = (played: PlayedGpu) => ({ trt: played.trt, cc: played.gpu.cc, sku: played.gpu.sku });
const cacheHead = (played: PlayedGpu) => store.head(timingCacheKey(cacheScope(played)));

describe('detect', () => {
  test('a GPU without trtexec registers the GPU, no target, and the reason', async () => {
    const tc = createTensorRtToolchain({ store, gpu: RTX_4080.gpu, searchPath: join(root, 'nowhere'), fallbackPaths: ['/nonexistent/trtexec'] });
    const caps = await tc.detect();
    expect(caps.targets).toEqual([]);
    expect(caps.unavailableReason).toBe(`no trtexec found on PATH (${join(root, 'nowhere')}) or at /nonexistent/trtexec; install TensorRT or set KILN_TRTEXEC`);
    expect(caps.hardware.gpu).toMatchObject({ name: 'NVIDIA GeForce RTX 4080', cc: '8.9', uuid: RTX_4080.gpu.uuid });
    await expect(tc.build(await context(tinyConv(), 'trt10.9.0-sm89'))).rejects.toThrow(/TensorRT is not available on this worker: no trtexec found/);
  });

  test('the CC and SKU targets and the hardware-compatible ones each GPU and TensorRT allow', async () => {
    const rtx = await (await toolchain(RTX_4080)).detect();
    expect(rtx.version).toBe('10.9.0');
    expect(rtx.targets.map(targetKey)).toEqual([
      'trt10.9.0-sm89',
      'trt10.9.0-sm89-nvidia-geforce-rtx-4080',
      'trt10.9.0-sm89-ampere+',
      'trt10.9.0-sm89-same-cc',
    ]);
    const t4 = await (await toolchain(T4)).detect();
    expect(t4.version).toBe('8.6.1');
    // No ampere+ below CC 8.0, no same-cc before TensorRT 10.9.
    expect(t4.targets.map(targetKey)).toEqual(['trt8.6.1-sm75', 'trt8.6.1-sm75-nvidia-tesla-t4']);
  });
});

describe('build, validate, benchmark', () => {
  let rtx: Toolchain;
  let ctx: Ctx;
  let built: BuildOutput;
  beforeAll(async () => {
    rtx = await toolchain(RTX_4080);
    ctx = await context(tinyConv(), 'trt10.9.0-sm89', { tensorrt: { precision: ['fp16'] } });
    built = await rtx.build(ctx);
  });

  test('builds an engine with trtexec, logging every line, and reports what it ran on', async () => {
    expect(built.primary).toMatchObject({ name: 'engine.plan', role: 'engine' });
    expect(built.extra.map((f) => [f.name, f.role])).toEqual([['layer-info.json', 'layer-info'], ['timing.cache', 'timing-cache'], ['model_ctx.onnx', 'epcontext']]);
    const pidLine = ctx.logs.find((l) => l.startsWith('trtexec pid '))!;
    expect(pidLine).toContain('--onnx=');
    for (const flag of ['--saveEngine=', '--timingCacheFile=', '--skipInference', '--exportLayerInfo=', '--profilingVerbosity=detailed', '--fp16', '--device=0']) {
      expect(pidLine).toContain(flag);
    }
    // The default profile: batch 1 to options.benchmark.maxBatch.
    expect(pidLine).toContain('--minShapes=x:1x3x16x16 --optShapes=x:1x3x16x16 --maxShapes=x:4x3x16x16');
    expect(ctx.logs.some((l) => l.startsWith('&&&& PASSED TensorRT.trtexec [TensorRT v100900]'))).toBe(true);
    expect(ctx.percents).toEqual(expect.arrayContaining([5, 90, 100]));
    expect(built.details).toMatchObject({
      device: { name: 'NVIDIA GeForce RTX 4080', cc: '8.9', uuid: RTX_4080.gpu.uuid },
      cc: '8.9',
      trtVersion: '10.9.0',
      timingCache: { loadedBytes: 0, fleet: 'published' },
      layers: { count: expect.any(Number), byType: expect.any(Object) },
    });
    expect(built.details.engineBytes).toBeGreaterThan(28);
    expect((built.details.timingCache as { savedBytes: number }).savedBytes).toBeGreaterThan(0);
  });

  test('publishes the grown cache as the fleet cache, with the build in its history', async () => {
    const head = await cacheHead(RTX_4080);
    expect(head?.sha256).toBeDefined();
    expect(head!.size).toBe((await readFile(join(ctx.workDir, 'timing.cache'))).length);
    const history = JSON.parse((await readFile(join(root, 'store', timingCacheHistoryKey(cacheScope(RTX_4080))))).toString());
    expect(history).toMatchObject({ trt: '10.9.0', cc: '8.9', sku: 'nvidia-geforce-rtx-4080', builds: 1, recent: [{ modelId: ctx.spec.modelId, targetKey: 'trt10.9.0-sm89', loadedBytes: 0 }] });
  });

  test('validates against ONNX Runtime: fp16 shows a small, reported error within fp16 tolerances', async () => {
    const report = await rtx.validate(ctx, built);
    expect(report).toMatchObject({ reference: 'onnxruntime-cpu', rtol: 1e-2, atol: 1e-3, inputs: { x: { dims: [1, 3, 16, 16], type: 'float', source: 'seeded' } } });
    expect(report.verdict).not.toBe('fail');
    const [logits] = report.outputs;
    expect(logits.name).toBe('logits');
    expect(logits.maxAbsError).toBeGreaterThan(0);
    expect(logits.maxRelError).toBeLessThan(1e-2);
    expect(ctx.logs.some((l) => l.includes('--loadInputs=x:') && l.includes('--exportOutput='))).toBe(true);
  });

  test('benchmarks every batch size the profile allows, with trtexec\'s own numbers', async () => {
    const report = await rtx.benchmark(ctx, built);
    expect(report.dynamicBatch).toBe(true);
    expect(report.rows.map((r) => r.batch)).toEqual([1, 2, 4]);
    for (const row of report.rows) {
      expect(row.throughputQps).toBeGreaterThan(0);
      expect(row.throughputSps).toBeCloseTo(row.throughputQps * row.batch, 6);
      expect(row.latencyMs.p99).toBeGreaterThanOrEqual(row.latencyMs.median);
      expect(row.gpuComputeMs?.median).toBeGreaterThan(0);
      expect(row.h2dMs && row.d2hMs && row.enqueueMs).toBeTruthy();
      expect(row.memoryBytes).toBeGreaterThan(0);
    }
    expect(ctx.logs.some((l) => l.includes('--shapes=x:4x3x16x16'))).toBe(true);
    // The speed-up is over ONNX Runtime on this host's CPU, labelled as the validation reference.
    expect(report.reference?.name).toMatch(/^onnxruntime-cpu \(the validation reference: /);
    expect(report.reference?.rows.map((r) => r.batch)).toEqual([1, 2, 4]);
    expect(report.speedup?.map((s) => s.batch)).toEqual([1, 2, 4]);
    expect(report.conditions).toMatchObject({ threads: null, referenceThreads: expect.any(Number) });
    // trtexec's layer profile, from a run of its own, is left for the pipeline to publish.
    expect(ctx.logs.some((l) => l.includes('--exportProfile=') && l.includes('--separateProfileRun'))).toBe(true);
    const profile = JSON.parse(await readFile(join(ctx.workDir, 'layer-profile.json'), 'utf8'));
    expect(profile).toMatchObject({ schema: 1, source: 'trtexec --exportProfile', batch: 1 });
    expect(profile.layers.length).toBeGreaterThan(0);
    expect(profile.layers.reduce((sum: number, l: { share: number }) => sum + l.share, 0)).toBeCloseTo(1, 6);
  });

  test('a second model starts from the fleet cache and grows it', async () => {
    const before = (await cacheHead(RTX_4080))!;
    const second = await context(tinyMlp(), 'trt10.9.0-sm89', { tensorrt: { precision: ['fp16'] } });
    const out = await rtx.build(second);
    expect(out.details.timingCache).toMatchObject({ loadedBytes: before.size, fleet: 'published' });
    const after = (await cacheHead(RTX_4080))!;
    expect(after.size).toBeGreaterThan(before.size);
    // The same model again adds nothing: the cache is left alone.
    const again = await rtx.build(await context(tinyMlp(), 'trt10.9.0-sm89', { tensorrt: { precision: ['fp16'] } }));
    expect(again.details.timingCache).toMatchObject({ loadedBytes: after.size, fleet: 'unchanged' });
    expect((await cacheHead(RTX_4080))!.etag).toBe(after.etag);
  });

  test('on a compare-and-swap conflict the newer fleet cache stays and the report says so', async () => {
    // Another worker publishes between this build's download and its publish.
    const racing: ArtifactStore = Object.create(store);
    let raced = false;
    racing.put = async (key, body, options) => {
      if (key === timingCacheKey(cacheScope(RTX_4080)) && !raced) {
        raced = true;
        await store.put(key, Buffer.from('a newer cache from another worker'));
      }
      return store.put(key, body, options);
    };
    const tc = await toolchain(RTX_4080, { store: racing });
    const c = await context(tinyConv({ seed: 7 }), 'trt10.9.0-sm89');
    const out = await tc.build(c);
    expect(out.details.timingCache).toMatchObject({ fleet: 'conflict' });
    expect(out.warnings.join('\n')).toMatch(/another build published a newer fleet cache first; it stays, and this build's new entries .* were not merged/);
    expect((await readFile(join(root, 'store', timingCacheKey(cacheScope(RTX_4080))))).toString()).toBe('a newer cache from another worker');
    // The artifact set still carries the cache this build used and grew.
    expect(out.extra.find((f) => f.role === 'timing-cache')).toBeDefined();
  });
});

describe('refusals and failures publish nothing', () => {
  test('options this TensorRT does not accept fail before trtexec runs, with the gate in the message', async () => {
    const t4 = await toolchain(T4);
    const same = await context(tinyConv(), 'trt8.6.1-sm75', { tensorrt: { hardwareCompatibilityLevel: 'sameComputeCapability' } });
    await expect(t4.build(same)).rejects.toThrow(new TrtOptionError('sameComputeCapability needs TensorRT >= 10.9; this worker has 8.6.1'));
    const bf16 = await context(tinyConv(), 'trt8.6.1-sm75', { tensorrt: { precision: ['bf16'] } });
    await expect(t4.build(bf16)).rejects.toThrow('bf16 needs TensorRT >= 9.0; this worker has 8.6.1');
    const strip = await context(tinyConv(), 'trt8.6.1-sm75', { tensorrt: { stripWeights: true } });
    await expect(t4.build(strip)).rejects.toBeInstanceOf(BuildInputError);
    expect([...same.logs, ...bf16.logs, ...strip.logs].some((l) => l.startsWith('trtexec pid'))).toBe(false);
    expect(await cacheHead(T4)).toBeNull();
  });

  test('a job for another GPU is refused: it reached the wrong queue', async () => {
    const t4 = await toolchain(T4);
    await expect(t4.build(await context(tinyConv(), 'trt8.6.1-sm89'))).rejects.toThrow(
      'This worker has TensorRT 8.6.1 on a Tesla T4 (CC 7.5, nvidia-tesla-t4), which cannot build trt8.6.1-sm89; the job reached the wrong queue',
    );
  });

  test('trtexec reporting another CC than the worker took: the build fails and nothing is published', async () => {
    const liar = await toolchain({ ...T4, misbehave: 'wrong-cc' });
    const c = await context(tinyMlp(), 'trt8.6.1-sm75');
    const error = await liar.build(c).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^trtexec built on another GPU or TensorRT than this worker registered \(compute capability 8\.6 instead of 7\.5\); nothing is published/);
    expect(await cacheHead(T4)).toBeNull();
  });

  test('a plan with a wrong header is never published', async () => {
    const bad = await toolchain({ ...T4, misbehave: 'bad-plan-header' });
    await expect(bad.build(await context(tinyMlp(), 'trt8.6.1-sm75'))).rejects.toBeInstanceOf(PlanHeaderError);
    const old = await toolchain({ ...T4, misbehave: 'plan-version=8.6.0.12' });
    await expect(old.build(await context(tinyMlp(), 'trt8.6.1-sm75'))).rejects.toThrow(/Expected a plan made by TensorRT 8\.6\.1 but .* was made by 8\.6\.0\.12/);
    expect(await cacheHead(T4)).toBeNull();
  });

  test('trtexec\'s own error lines are in the error: a parse error is the model\'s fault, out of memory is not', async () => {
    const parse = await toolchain({ ...T4, misbehave: 'parse-error' });
    const p = await parse.build(await context(tinyMlp(), 'trt8.6.1-sm75')).catch((e: Error) => e);
    expect(p).toBeInstanceOf(BuildInputError);
    expect((p as Error).message).toMatch(/^trtexec build failed: it exited with status 1: \[TRT\] ModelImporter\.cpp:771: While parsing node number 0 .*Failed to parse onnx file/);
    const oom = await toolchain({ ...T4, misbehave: 'oom' });
    const o = await oom.build(await context(tinyMlp(), 'trt8.6.1-sm75')).catch((e: Error) => e);
    expect(o).not.toBeInstanceOf(BuildInputError);
    expect((o as Error).message).toMatch(/Cuda Runtime \(out of memory\)/);
  });

  test('cancel stops trtexec: SIGTERM, then SIGKILL when it ignores SIGTERM', async () => {
    const stubborn = await toolchain({ ...T4, misbehave: 'sleep=60000,ignore-sigterm' });
    const abort = new AbortController();
    const c = await context(tinyMlp(), 'trt8.6.1-sm75', {}, abort.signal);
    let pid = 0;
    const started = new Promise<void>((resolve) => {
      c.log = (line) => {
        c.logs.push(line);
        const m = /^trtexec pid (\d+):/.exec(line);
        if (m) pid = Number(m[1]);
        // Cancel once trtexec is building (its SIGTERM handler is set up by then).
        if (line.includes('Start parsing network model')) resolve();
      };
    });
    const result = stubborn.build(c).catch((e: Error) => e);
    await started;
    abort.abort('cancel');
    const error = await result;
    expect((error as Error).message).toBe('trtexec stopped (cancel) with SIGKILL after it ignored SIGTERM');
    expect(c.logs.some((l) => l.includes('the stand-in ignores SIGTERM'))).toBe(true);
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    expect(await cacheHead(T4)).toBeNull();
  });
});

describe('the idle guard around a build', () => {
  const reading = (processes: { pid: number; usedMemoryBytes: number | null }[], utilizationGpu = 0): GpuTelemetry => ({
    index: 0,
    utilizationGpu,
    utilizationMemory: 0,
    memoryUsedBytes: 1,
    memoryTotalBytes: 2,
    processes,
    temperatureC: 40,
    smClockMHz: 1000,
    memClockMHz: 1000,
    powerWatts: 50,
    at: new Date().toISOString(),
  });

  test('refuse: a busy GPU fails the attempt before trtexec runs (a transient error)', async () => {
    const guard = new IdleGuard({ policy: 'refuse', waitSeconds: 0, utilizationPercent: 10, telemetry: async () => reading([{ pid: 4242, usedMemoryBytes: 1 }]) });
    const tc = await toolchain(T4, { idleGuard: guard });
    const c = await context(tinyMlp(), 'trt8.6.1-sm75');
    const error = await tc.build(c).catch((e: Error) => e);
    expect(error).toBeInstanceOf(GpuBusyError);
    expect(error).not.toBeInstanceOf(BuildInputError);
    expect((error as Error).message).toBe('GPU busy before the build: 1 other compute process(es) (PIDs 4242); KILN_GPU_IDLE_POLICY=refuse, so this attempt is given back to be retried');
    expect(c.logs.some((l) => l.startsWith('trtexec pid'))).toBe(false);
  });

  test('flag: builds on a busy GPU and the report records what was seen', async () => {
    const guard = new IdleGuard({ policy: 'flag', waitSeconds: 0, utilizationPercent: 10, pollMs: 10, telemetry: async () => reading([], 85) });
    const tc = await toolchain(T4, { idleGuard: guard });
    const out = await tc.build(await context(tinyMlp({ seed: 3 }), 'trt8.6.1-sm75'));
    expect(out.details.gpuIdle).toMatchObject({ policy: 'flag', flagged: true, before: { busy: true, why: 'utilization 85% > 10%' } });
    expect(out.warnings.join('\n')).toMatch(/built on a busy GPU \(utilization 85% > 10%\)/);
  });
});

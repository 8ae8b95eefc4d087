import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildArgs } from '../../src/core/tensorrt/build-argv';
import { inferenceArgs } from '../../src/core/tensorrt/inference-argv';
import { readExportedOutputs } from '../../src/worker/toolchains/tensorrt/export-output';
import { isFound, locateTrtexec } from '../../src/worker/toolchains/tensorrt/locate';
import { toLatencyStats } from '../../src/worker/toolchains/tensorrt/log-parser';
import { TensorRtOptionsSchema, type TensorRtOptionsInput } from '../../src/core/tensorrt/options';
import { checkPlan } from '../../src/core/tensorrt/plan-header';
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import { readModelInfo } from '../../src/core/onnx/read-model';
import { BuildOptionsSchema } from '../../src/core/options';
import { FsStore } from '../../src/storage/fs-store';
import { cudaEnvFor, detectGpus } from '../../src/worker/hardware/gpu';
import { createTensorRtToolchain } from '../../src/worker/toolchains/tensorrt';
import type { StepContext } from '../../src/worker/toolchains/toolchain';
import { tinyConv } from '../models';
import { runTrtexec } from './standin';

/**
 * Opt-in: the same checks as the stand-in suite, against a real trtexec on a real GPU. Run in
 * NVIDIA's TensorRT container with `KILN_TRTEXEC=/usr/src/tensorrt/bin/trtexec npx jest test/tensorrt/real-trtexec`.
 * Without KILN_TRTEXEC the suite is skipped, and its title says so.
 */
const REAL = process.env.KILN_TRTEXEC;
const suite = REAL ? describe : describe.skip;

suite(REAL ? `against the real trtexec at ${REAL}` : 'against a real trtexec: skipped, set KILN_TRTEXEC=/path/to/trtexec to run it', () => {
  const PROFILE = { x: { min: [1, 3, 16, 16], opt: [4, 3, 16, 16], max: [8, 3, 16, 16] } };
  let dir: string;
  let onnx: string;
  let trt: string;
  let cc: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-real-trtexec-'));
    onnx = join(dir, 'conv.onnx');
    await writeFile(onnx, tinyConv());
    const found = await locateTrtexec({ explicitPath: REAL });
    if (!isFound(found)) throw new Error(found.reason);
    trt = found.version;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function build(name: string, input: TensorRtOptionsInput) {
    const paths = { onnx, engine: join(dir, `${name}.plan`), timingCache: join(dir, 'timing.cache'), layerInfo: join(dir, `${name}.json`) };
    // No CC-gated option is used, so the CC passed here only matters once the log has told us the real one.
    const run = await runTrtexec(REAL!, buildArgs({ trt, cc: cc ?? '7.5', options: TensorRtOptionsSchema.parse(input), paths, subject: 'worker' }));
    expect(run.log.errors).toEqual([]);
    expect(run.log.status).toBe('passed');
    cc = run.log.device.cc!;
    return { paths, log: run.log };
  }

  async function compare(engine: string): Promise<number> {
    const x = Float32Array.from({ length: 2 * 3 * 16 * 16 }, (_, i) => Math.sin(i));
    const inputFile = join(dir, 'x.bin');
    await writeFile(inputFile, Buffer.from(x.buffer));
    const out = join(dir, `${Date.now()}.json`);
    const run = await runTrtexec(REAL!, inferenceArgs({ kind: 'validate', trt, engine, shapes: { x: [2, 3, 16, 16] }, inputs: { x: inputFile }, exportOutput: out }));
    expect(run.log.status).toBe('passed');
    const exported = (await readExportedOutputs(out)).find((o) => o.name === 'logits')!;
    const session = await ort.InferenceSession.create(onnx);
    const reference = (await session.run({ x: new ort.Tensor('float32', x, [2, 3, 16, 16]) })).logits.data as Float32Array;
    await session.release();
    const scale = Math.max(...Array.from(reference, Math.abs));
    return Math.max(...Array.from(reference, (b, i) => Math.abs(exported.values[i] - b))) / scale;
  }

  test('build: the log names the GPU and version, and the plan header carries the version', async () => {
    const { paths, log } = await build('fp32', { profiles: [PROFILE], precision: ['noTF32'] });
    expect(log.trtVersion).toBe(trt);
    expect(log.device.cc).toMatch(/^\d+\.\d$/);
    expect(log.buildSeconds).toBeGreaterThan(0);
    expect(log.timingCache.savedBytes).toBeGreaterThan(0);
    await checkPlan(paths.engine, trt);
    expect(await compare(paths.engine)).toBeLessThan(1e-4);
  });

  test('fp16: a small error', async () => {
    const { paths } = await build('fp16', { profiles: [PROFILE], precision: ['fp16'] });
    expect(await compare(paths.engine)).toBeLessThan(1e-2);
  });

  test('benchmark: the summary parses into the report\'s statistics', async () => {
    const { paths } = await build('bench', { profiles: [PROFILE] });
    const run = await runTrtexec(REAL!, inferenceArgs({ kind: 'benchmark', trt, engine: paths.engine, shapes: { x: [4, 3, 16, 16] }, durationSeconds: 1 }));
    expect(run.log.status).toBe('passed');
    expect(toLatencyStats(run.log.performance?.gpuComputeTime)).not.toBeNull();
    expect(run.log.performance?.throughputQps).toBeGreaterThan(0);
  });

  test('the toolchain on this GPU: build from the fleet cache, validate against ONNX Runtime, benchmark', async () => {
    const detection = await detectGpus();
    if (!detection.ok) throw new Error(`The real-trtexec suite needs the GPU through NVML: ${detection.reason}`);
    const gpu = detection.gpus[0];
    const store = new FsStore(join(dir, 'store'));
    const toolchain = createTensorRtToolchain({ store, gpu, trtexec: REAL, env: cudaEnvFor(gpu), device: 0 });
    const caps = await toolchain.detect();
    expect(caps.targets.length).toBeGreaterThan(0);
    const modelPath = join(dir, 'toolchain.onnx');
    await writeFile(modelPath, tinyConv());
    const workDir = join(dir, 'toolchain-work');
    await mkdir(workDir);
    const model = await readModelInfo(modelPath);
    const options = BuildOptionsSchema.parse({ tensorrt: { precision: ['fp16'] }, benchmark: { maxBatch: 4 } });
    const lines: string[] = [];
    const spec = makeBuildSpec(model.sha256, caps.targets[0], options);
    const ctx: StepContext = {
      buildKey: buildKeyOf(spec),
      spec,
      model,
      modelPath,
      workDir,
      signal: new AbortController().signal,
      progress: () => undefined,
      log: (line) => lines.push(line),
    };
    const built = await toolchain.build(ctx);
    expect(built.details).toMatchObject({ cc: gpu.cc, trtVersion: trt, timingCache: { fleet: 'published' } });
    const validation = await toolchain.validate(ctx, built);
    expect(validation.verdict).not.toBe('fail');
    const benchmark = await toolchain.benchmark(ctx, built);
    expect(benchmark.rows.map((r) => r.batch)).toEqual([1, 2, 4]);
  });
});

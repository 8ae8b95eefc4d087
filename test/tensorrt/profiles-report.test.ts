/**
 * Every optimization profile is validated and benchmarked on its own (trtexec --useProfile=N),
 * against the trtexec stand-in (a test double, not TensorRT): an engine with two profiles of
 * different batch ranges reports each profile's shapes, inputs and isclose figures, and each
 * profile's latency and throughput at the batch sizes it accepts. TensorRT 8.6 (no --useProfile)
 * builds one profile, measured without the flag.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import { readModelInfo } from '../../src/core/onnx/read-model';
import { BuildOptionsSchema } from '../../src/core/options';
import { parseTargetKey } from '../../src/core/target';
import { FsStore } from '../../src/storage/fs-store';
import { createTensorRtToolchain } from '../../src/worker/toolchains/tensorrt';
import type { StepContext } from '../../src/worker/toolchains/toolchain';
import { tinyConv, writeModel } from '../models';
import { RTX_4080, standinTrtexec, T4, type PlayedGpu } from './gpu-standin';

const range = (min: number, opt: number, max: number) => ({ x: { min: [min, 3, 16, 16], opt: [opt, 3, 16, 16], max: [max, 3, 16, 16] } });

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kiln-trt-profiles-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function setUp(played: PlayedGpu, name: string, targetKey: string, tensorrt: object) {
  const store = new FsStore(join(root, name, 'store'));
  const trtexec = await standinTrtexec(root, name, played);
  const tc = createTensorRtToolchain({ store, gpu: played.gpu, trtexec, device: 0, killGraceMs: 500 });
  await tc.detect();
  const modelPath = await writeModel(tinyConv(), join(root, name, 'model'), 'model.onnx');
  const workDir = join(root, name, 'work');
  await mkdir(workDir, { recursive: true });
  const options = BuildOptionsSchema.parse({ benchmark: { maxBatch: 8, warmup: 0, iterations: 5 }, tensorrt });
  const model = await readModelInfo(modelPath);
  const spec = makeBuildSpec(model.sha256, parseTargetKey(targetKey), options);
  const logs: string[] = [];
  const ctx: StepContext = { buildKey: buildKeyOf(spec), spec, model, modelPath, workDir, signal: new AbortController().signal, progress: () => {}, log: (l) => logs.push(l) };
  return { tc, ctx, logs };
}

/** The argv of each trtexec run whose argv has `marker`, as logged by the worker. */
const runsWith = (logs: string[], marker: string) => logs.filter((l) => l.startsWith('trtexec pid ') && l.includes(marker));

test('two profiles: each validated at shapes it accepts and benchmarked at the batch sizes it accepts', async () => {
  const { tc, ctx, logs } = await setUp(RTX_4080, 'rtx4080', 'trt10.9.0-sm89', { profiles: [range(1, 1, 2), range(4, 4, 8)] });

  const built = await tc.build(ctx);
  const validation = await tc.validate(ctx, built);
  expect(validation.verdict).toBe('pass');
  expect(validation.profiles?.map((p) => [p.index, p.verdict, p.inputs.x.dims, p.shapes])).toEqual([
    [0, 'pass', [1, 3, 16, 16], range(1, 1, 2)],
    [1, 'pass', [4, 3, 16, 16], range(4, 4, 8)],
  ]);
  for (const p of validation.profiles!) expect(p.outputs[0]).toMatchObject({ name: 'logits', mismatched: 0, elements: expect.any(Number) });
  expect(validation.profiles![1].outputs[0].elements).toBe(4 * validation.profiles![0].outputs[0].elements);
  expect(runsWith(logs, '--loadInputs=').map((l) => /--useProfile=\d+/.exec(l)?.[0] ?? null)).toEqual([null, '--useProfile=1']);

  const benchmark = await tc.benchmark(ctx, built);
  // Every profile, with its own shapes and the batch sizes only it accepts (profile 0 stops at 2).
  expect(benchmark.profiles?.map((p) => [p.index, p.shapes, p.dynamicBatch, p.rows.map((r) => r.batch)])).toEqual([
    [0, range(1, 1, 2), true, [1, 2]],
    [1, range(4, 4, 8), true, [4, 8]],
  ]);
  for (const p of benchmark.profiles!) {
    for (const r of p.rows) {
      expect(r.latencyMs.p99).toBeGreaterThanOrEqual(r.latencyMs.median);
      expect(r.throughputQps).toBeGreaterThan(0);
      expect(r.throughputSps).toBeCloseTo(r.throughputQps * r.batch);
    }
  }
  // Larger batches take longer per run: profile 1's numbers are its own, not profile 0's again.
  expect(benchmark.profiles![1].rows[0].latencyMs.median).toBeGreaterThan(benchmark.profiles![0].rows[1].latencyMs.median);
  // Profile 0's figures stay at the top level for readers from before, with the speed-up over its batches.
  expect(benchmark.rows).toEqual(benchmark.profiles![0].rows);
  expect(benchmark.dynamicBatch).toBe(true);
  expect(benchmark.speedup?.map((s) => s.batch)).toEqual([1, 2]);
  // Each timing run selected its profile and shapes inside it (the stand-in, like TensorRT, refuses
  // batch 4 on profile 0, whose max is 2).
  expect(runsWith(logs, '--percentile=').map((l) => [/--useProfile=\d+/.exec(l)?.[0] ?? null, /--shapes=(\S+)/.exec(l)?.[1]])).toEqual([
    [null, 'x:1x3x16x16'],
    [null, 'x:2x3x16x16'],
    ['--useProfile=1', 'x:4x3x16x16'],
    ['--useProfile=1', 'x:8x3x16x16'],
  ]);
  expect(logs).toContainEqual(expect.stringMatching(/^profile 1: benchmark batch 8: median /));
});

test('TensorRT 8.6 (no --useProfile): its one profile is validated and benchmarked without the flag', async () => {
  const { tc, ctx, logs } = await setUp(T4, 't4', 'trt8.6.1-sm75', { profiles: [range(1, 2, 4)] });
  const built = await tc.build(ctx);
  const validation = await tc.validate(ctx, built);
  expect(validation.profiles?.map((p) => [p.index, p.shapes])).toEqual([[0, range(1, 2, 4)]]);
  const benchmark = await tc.benchmark(ctx, built);
  expect(benchmark.profiles?.map((p) => [p.index, p.shapes, p.rows.map((r) => r.batch)])).toEqual([[0, range(1, 2, 4), [1, 2, 4]]]);
  expect(benchmark.rows).toEqual(benchmark.profiles![0].rows);
  const runs = runsWith(logs, '--loadEngine=');
  expect(runs.length).toBe(4);
  for (const l of runs) expect(l).not.toContain('--useProfile');
});

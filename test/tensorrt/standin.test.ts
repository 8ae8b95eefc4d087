import { readFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildArgs } from '../../src/core/tensorrt/build-argv';
import { inferenceArgs } from '../../src/core/tensorrt/inference-argv';
import { readExportedOutputs } from '../../src/worker/toolchains/tensorrt/export-output';
import { toLatencyStats } from '../../src/worker/toolchains/tensorrt/log-parser';
import { TensorRtOptionsSchema, type TensorRtOptionsInput } from '../../src/core/tensorrt/options';
import { checkPlan } from '../../src/core/tensorrt/plan-header';
import { intInputModel, tinyConv, tinyMlp } from '../models';
import { RTX_4080, runStandin, T4, type Played } from './standin';

/**
 * End to end against the trtexec stand-in (a test double, not TensorRT): the argv Kiln builds is
 * accepted, the log reads back, the plan header checks, and exported outputs compare with ONNX
 * Runtime the way validation will compare them.
 */

const CONV_PROFILE = { x: { min: [1, 3, 16, 16], opt: [4, 3, 16, 16], max: [8, 3, 16, 16] } };

let dir: string;
let convPath: string;
let mlpPath: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-standin-'));
  convPath = join(dir, 'conv.onnx');
  mlpPath = join(dir, 'mlp.onnx');
  await writeFile(convPath, tinyConv());
  await writeFile(mlpPath, tinyMlp());
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function seeded(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

async function build(name: string, played: Played, input: TensorRtOptionsInput, onnx = convPath, cache = join(dir, `${name}.cache`)) {
  const paths = { onnx, engine: join(dir, `${name}.plan`), timingCache: cache, layerInfo: join(dir, `${name}.layers.json`) };
  const args = buildArgs({ trt: played.trt, cc: played.cc, options: TensorRtOptionsSchema.parse(input), paths, subject: 'worker' });
  return { ...(await runStandin(args, played)), paths };
}

/** Validates an engine on seeded inputs; returns exported and reference outputs of `output`. */
async function validate(engine: string, played: Played, onnx: string, x: Float32Array, dims: number[], output: string) {
  const inputFile = join(dir, `x-${dims.join('x')}.bin`);
  await writeFile(inputFile, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  const exportFile = join(dir, `out-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const run = await runStandin(
    inferenceArgs({ kind: 'validate', trt: played.trt, engine, shapes: { x: dims }, inputs: { x: inputFile }, exportOutput: exportFile }),
    played,
  );
  expect(run.log.status).toBe('passed');
  const exported = (await readExportedOutputs(exportFile)).find((o) => o.name === output)!;
  const session = await ort.InferenceSession.create(onnx);
  try {
    const reference = (await session.run({ x: new ort.Tensor('float32', x, dims) }))[output];
    return { exported, reference: reference.data as Float32Array, referenceDims: reference.dims.map(Number) };
  } finally {
    await session.release();
  }
}

describe('the stand-in playing an RTX 4080 with TensorRT 10.9.0', () => {
  test('builds from Kiln\'s argv, and the log, plan, layer info and timing cache read back', async () => {
    const run = await build('conv-fp32', RTX_4080, { profiles: [CONV_PROFILE] });
    expect(run.code).toBe(0);
    const { log } = run;
    expect(log).toMatchObject({ status: 'passed', trtVersion: '10.9.0', build: 34, skippedInference: true });
    expect(log.device).toMatchObject({ name: 'NVIDIA GeForce RTX 4080', cc: '8.9', id: 0 });
    expect(log.device.uuid).toMatch(/^GPU-[0-9a-f]{8}-/);
    expect(log.errors).toEqual([]);
    expect(log.milestones).toEqual(['started', 'device', 'parsing-started', 'parsing-finished', 'building', 'engine-built', 'cache-saved', 'finished']);
    expect(log.engineSizeMiB).toBeGreaterThan(0);
    expect(log.timingCache).toMatchObject({ missing: true, loadedBytes: 0, savedTo: run.paths.timingCache });
    expect(log.timingCache.savedBytes).toBe((await stat(run.paths.timingCache)).size);

    expect((await checkPlan(run.paths.engine, '10.9.0.34')).trt).toEqual({ major: 10, minor: 9, patch: 0, build: 34 });
    const layers = JSON.parse(await readFile(run.paths.layerInfo, 'utf8'));
    expect(layers.Bindings).toEqual(['x', 'logits']);
    expect(layers.Layers[0]).toMatchObject({ LayerType: 'CaskConvolution', Inputs: [{ Name: 'x', Dimensions: [-1, 3, 16, 16], 'Format/Datatype': 'Float' }] });
  });

  test('fp32: exported outputs equal ONNX Runtime\'s (to the 6 digits trtexec prints)', async () => {
    const { paths } = await build('conv-fp32-v', RTX_4080, { profiles: [CONV_PROFILE] });
    const x = seeded(2 * 3 * 16 * 16, 11);
    const { exported, reference, referenceDims } = await validate(paths.engine, RTX_4080, convPath, x, [2, 3, 16, 16], 'logits');
    expect(exported.dims).toEqual(referenceDims);
    reference.forEach((b, i) => expect(Math.abs(exported.values[i] - b)).toBeLessThanOrEqual(5e-6 * Math.abs(b) + 1e-12));
  });

  test('fp16: a small error, the kind validation must tolerate and report', async () => {
    const { paths, log } = await build('conv-fp16', RTX_4080, { profiles: [CONV_PROFILE], precision: ['fp16'] });
    expect(log.status).toBe('passed');
    const x = seeded(2 * 3 * 16 * 16, 11);
    const { exported, reference } = await validate(paths.engine, RTX_4080, convPath, x, [2, 3, 16, 16], 'logits');
    const scale = Math.max(...Array.from(reference, Math.abs));
    const errors = Array.from(reference, (b, i) => Math.abs(exported.values[i] - b));
    expect(Math.max(...errors)).toBeGreaterThan(1e-5 * scale);
    expect(Math.max(...errors)).toBeLessThan(1e-2 * scale);
  });

  test('the timing cache hits on a rebuild and grows with a new model', async () => {
    const cache = join(dir, 'fleet.cache');
    const first = await build('grow-1', RTX_4080, { profiles: [CONV_PROFILE] }, convPath, cache);
    const again = await build('grow-2', RTX_4080, { profiles: [CONV_PROFILE] }, convPath, cache);
    const other = await build('grow-3', RTX_4080, { profiles: [{ x: { min: [1, 8], opt: [4, 8], max: [8, 8] } }] }, mlpPath, cache);
    const saved = first.log.timingCache.savedBytes!;
    expect(again.log.timingCache).toMatchObject({ loadedBytes: saved, savedBytes: saved });
    expect(other.log.timingCache.loadedBytes).toBe(saved);
    expect(other.log.timingCache.savedBytes).toBeGreaterThan(saved);
  });

  test('benchmarks across batch sizes: throughput and percentiles for the report', async () => {
    const { paths } = await build('conv-bench', RTX_4080, { profiles: [CONV_PROFILE], precision: ['fp16'] });
    const rows = [];
    for (const batch of [1, 2, 4, 8]) {
      const run = await runStandin(
        inferenceArgs({ kind: 'benchmark', trt: '10.9.0', engine: paths.engine, shapes: { x: [batch, 3, 16, 16] }, iterations: 20, durationSeconds: 1, warmUpMs: 50 }),
        RTX_4080,
      );
      expect(run.log.status).toBe('passed');
      const perf = run.log.performance!;
      expect(toLatencyStats(perf.latency)).not.toBeNull();
      expect(toLatencyStats(perf.gpuComputeTime)).not.toBeNull();
      expect(perf.h2dLatency?.mean).toBeGreaterThan(0);
      rows.push({ batch, qps: perf.throughputQps!, sps: perf.throughputQps! * batch });
    }
    for (let i = 1; i < rows.length; i++) expect(rows[i].sps).toBeGreaterThan(rows[i - 1].sps);
  });
});

describe('the stand-in playing a T4 with TensorRT 8.6.1', () => {
  test('8.6 formats: no UUID, no build tag, timing cache lines without [TRT], plan made by 8.6.1.6', async () => {
    const run = await build('t4', T4, { profiles: [CONV_PROFILE], precision: ['fp16'] });
    expect(run.code).toBe(0);
    expect(run.output).toContain('&&&& PASSED TensorRT.trtexec [TensorRT v8601] # trtexec --onnx=');
    expect(run.output).toMatch(/\] \[W\] Could not read timing cache from: .*t4\.cache\. A new timing cache will be generated and written\./);
    expect(run.log).toMatchObject({ trtVersion: '8.6.1', device: { name: 'Tesla T4', cc: '7.5' }, availableDevices: [] });
    expect(run.log.build).toBeUndefined();
    expect(run.log.device.uuid).toBeUndefined();
    expect(run.log.engineSizeMiB).toBeUndefined();
    expect(run.log.buildSeconds).toBeGreaterThan(0);
    expect(run.log.timingCache.savedBytes).toBeGreaterThan(0);
    await expect(checkPlan(run.paths.engine, '8.6.1.6')).resolves.toBeDefined();
  });

  test('int64 inputs are int32 bindings on 8.6, as in real TensorRT 8.6', async () => {
    const onnx = join(dir, 'embedding.onnx');
    await writeFile(onnx, intInputModel());
    const { paths } = await build('emb', T4, { profiles: [{ ids: { min: [1, 6], opt: [2, 6], max: [4, 6] } }] }, onnx);
    const ids = Int32Array.from({ length: 12 }, (_, i) => i % 16);
    const file = join(dir, 'ids.bin');
    await writeFile(file, Buffer.from(ids.buffer));
    const exportFile = join(dir, 'emb.json');
    const run = await runStandin(inferenceArgs({ kind: 'validate', trt: '8.6.1', engine: paths.engine, shapes: { ids: [2, 6] }, inputs: { ids: file }, exportOutput: exportFile }), T4);
    expect(run.log.status).toBe('passed');
    expect((await readExportedOutputs(exportFile))[0].dims).toEqual([2, 6, 8]);
    // The same file as int64 has twice the bytes and is refused, with trtexec's message.
    await writeFile(file, Buffer.from(BigInt64Array.from(ids, (v) => BigInt(v)).buffer));
    const wrong = await runStandin(inferenceArgs({ kind: 'validate', trt: '8.6.1', engine: paths.engine, shapes: { ids: [2, 6] }, inputs: { ids: file }, exportOutput: exportFile }), T4);
    expect(wrong.code).toBe(1);
    expect(wrong.log.errors).toEqual([
      `Uncaught exception detected: Unexpected file size for input file: ${file}. Note: Input binding size is: 48 bytes but the file size is 96 bytes. Double check the size and datatype of the provided data.`,
    ]);
  });

  test('an option 8.6 does not know fails as trtexec fails, with its own error line', async () => {
    const args = [...buildArgs({ trt: '10.9.0', cc: '7.5', options: TensorRtOptionsSchema.parse({ precision: ['stronglyTyped'] }), paths: { onnx: convPath, engine: join(dir, 'st.plan'), timingCache: join(dir, 'st.cache'), layerInfo: join(dir, 'st.json') }, subject: 'worker' })];
    const run = await runStandin(args, T4);
    expect(run.code).toBe(1);
    expect(run.log.status).toBe('failed');
    expect(run.log.errors).toEqual(['Unknown option: --stronglyTyped']);
  });
});

describe('engines, GPUs and versions', () => {
  test('an engine loads only on its CC and TensorRT version', async () => {
    const { paths } = await build('portable', RTX_4080, { profiles: [CONV_PROFILE] });
    const load = (played: Played) => runStandin(inferenceArgs({ kind: 'benchmark', trt: played.trt, engine: paths.engine, shapes: { x: [1, 3, 16, 16] } }), played);
    expect((await load(T4)).log.errors[0]).toBe(
      '[TRT] 6: The engine plan file is not compatible with this version of TensorRT, expecting library version 8.6.1.6 got 10.9.0.34, please rebuild.',
    );
    expect((await load({ trt: '10.9.0', cc: '8.6' })).log.errors[0]).toBe(
      '[TRT] 6: The engine plan file is generated on an incompatible device, expecting compute 8.6 got compute 8.9, please rebuild.',
    );
    const otherSku = await load({ trt: '10.9.0', cc: '8.9', device: 'NVIDIA L4' });
    expect(otherSku.log.status).toBe('passed');
    expect(otherSku.log.warnings[0]).toBe('[TRT] Using an engine plan file across different models of devices is not recommended and is likely to affect performance or even cause errors.');
  });

  test('ampere+ engines load on any CC >= 8.0', async () => {
    const { paths, log } = await build('ampere', { trt: '10.9.0', cc: '8.6' }, { profiles: [CONV_PROFILE], hardwareCompatibilityLevel: 'ampere+' });
    expect(log.status).toBe('passed');
    const run = await runStandin(inferenceArgs({ kind: 'benchmark', trt: '10.9.0', engine: paths.engine, shapes: { x: [1, 3, 16, 16] } }), { trt: '10.9.0', cc: '9.0' });
    expect(run.log.status).toBe('passed');
  });
});

describe('faults the stand-in plays on request', () => {
  test('wrong-cc: the log shows the GPU trtexec really used', async () => {
    const { log } = await build('wrong-cc', { ...RTX_4080, misbehave: 'wrong-cc' }, { profiles: [CONV_PROFILE] });
    expect(log.status).toBe('passed');
    expect(log.device.cc).toBe('8.6');
  });

  test('bad-plan-header: the plan fails the check', async () => {
    const { paths, log } = await build('bad-header', { ...RTX_4080, misbehave: 'bad-plan-header' }, { profiles: [CONV_PROFILE] });
    expect(log.status).toBe('passed');
    await expect(checkPlan(paths.engine, '10.9.0')).rejects.toThrow(/starts with 0x74727478 \(xtrt\)/);
  });

  test('fail-build and oom: FAILED, exit status 1, trtexec\'s error lines', async () => {
    const failed = await build('fail', { ...RTX_4080, misbehave: 'fail-build' }, { profiles: [CONV_PROFILE] });
    expect(failed.code).toBe(1);
    expect(failed.log.errors.at(-1)).toBe('Engine set up failed');
    expect(failed.log.errors[0]).toMatch(/^\[TRT\] 10: Could not find any implementation for node /);
    const oom = await build('oom', { ...T4, misbehave: 'oom' }, { profiles: [CONV_PROFILE] });
    expect(oom.code).toBe(1);
    expect(oom.log.errors).toContain('[TRT] 1: [defaultAllocator.cpp::allocate::31] Error Code 1: Cuda Runtime (out of memory)');
  });

  test('sleep: a build in progress stops on SIGTERM', async () => {
    const args = buildArgs({ trt: '10.9.0', cc: '8.9', options: TensorRtOptionsSchema.parse({}), paths: { onnx: convPath, engine: join(dir, 'slow.plan'), timingCache: join(dir, 'slow.cache'), layerInfo: join(dir, 'slow.json') }, subject: 'worker' });
    const run = await runStandin(args, { ...RTX_4080, misbehave: 'sleep=60000' }, (event, child) => {
      if (event.milestone === 'building') child.kill('SIGTERM');
    });
    expect(run.signal).toBe('SIGTERM');
    expect(run.log.milestones).toContain('building');
    expect(run.log.milestones).not.toContain('engine-built');
  });

  test('ignore-sigterm: only SIGKILL stops it', async () => {
    const args = buildArgs({ trt: '10.9.0', cc: '8.9', options: TensorRtOptionsSchema.parse({}), paths: { onnx: convPath, engine: join(dir, 'stuck.plan'), timingCache: join(dir, 'stuck.cache'), layerInfo: join(dir, 'stuck.json') }, subject: 'worker' });
    const run = await runStandin(args, { ...RTX_4080, misbehave: 'sleep=60000,ignore-sigterm' }, (event, child) => {
      if (event.milestone === 'building') child.kill('SIGTERM');
      if (event.message.startsWith('the stand-in ignores SIGTERM')) child.kill('SIGKILL');
    });
    expect(run.signal).toBe('SIGKILL');
  });
});

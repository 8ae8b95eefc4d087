/**
 * The release boundaries of issue 8 end to end through the farm: real API, Redis, BullMQ, workers,
 * storage and ONNX Runtime, with the trtexec stand-in (a test double, not TensorRT) playing each
 * release's command line from the contract table. For each case, what the report says.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createStore } from '../../src/storage/create-store';
import { createTensorRtToolchain } from '../../src/worker/toolchains/tensorrt';
import { startFarm, waitForBuild, type TestFarm } from '../helpers/farm';
import { tinyConv, tinyMlp } from '../models';
import { RTX_4080, standinTrtexec, type PlayedGpu } from './gpu-standin';

const FAST = { benchmark: { maxBatch: 2, warmup: 0, iterations: 5 } };

/** An RTX 4080 on another TensorRT release: its own queues (the target key names the release). */
const rtx4080On = (trt: string, n: number): PlayedGpu => ({ trt, gpu: { ...RTX_4080.gpu, uuid: `GPU-4080bbbb-0000-0000-0000-0000000000${String(n).padStart(2, '0')}` } });

describe('TensorRT release boundaries through the farm', () => {
  let farm: TestFarm;
  let dir: string;

  const submit = async (model: string, target: string, tensorrt: object) => {
    const res = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model, targets: [target], options: { ...FAST, tensorrt } } });
    return { status: res.status, body: await res.json() };
  };
  const build = async (model: string, target: string, tensorrt: object) => {
    const { status, body } = await submit(model, target, tensorrt);
    expect(status).toBe(202);
    return waitForBuild(farm, body.builds[0].buildKey);
  };
  const log = async (buildKey: string) => (await farm.request('GET', `/v1/builds/${buildKey}/log`, { role: 'reader' })).text();
  const manifest = async (buildKey: string) => (await farm.request('GET', `/v1/artifacts/${buildKey}/manifest.json`, { role: 'reader' })).json();
  /** The trtexec command lines of the validation and benchmark runs, from the build log. */
  const runLines = (text: string) => text.split('\n').filter((l) => l.startsWith('trtexec pid ') && l.includes('--loadEngine='));

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_ATTEMPTS: '1' } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-trt-releases-'));
    const played: [string, PlayedGpu][] = [
      ['trt11', rtx4080On('11.0.0', 1)],
      ['trt10.16', rtx4080On('10.16.0', 2)],
      ['trt10.13', rtx4080On('10.13.0', 3)],
      ['trt9.2', rtx4080On('9.2.0', 4)],
      ['trt10.9', RTX_4080],
    ];
    for (const [name, gpu] of played) {
      const toolchain = createTensorRtToolchain({ store: createStore(farm.config.store), gpu: gpu.gpu, trtexec: await standinTrtexec(dir, name, gpu), device: 0, killGraceMs: 500 });
      await farm.startWorker({ toolchains: [toolchain] }, { KILN_WORKER_ID: name });
    }
    for (const [name, bytes] of [['conv', tinyConv()], ['mlp', tinyMlp()]] as const) {
      const res = await farm.request('POST', `/v1/models?name=${name}`, { role: 'builder', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await farm.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('TensorRT 11: I/O formats are layouts only; the type comes from the model, in the build and in validation', async () => {
    const b = await build('conv', 'trt11.0.0-sm89', { inputIOFormats: ['chw'], outputIOFormats: ['chw'] });
    expect(b).toMatchObject({ state: 'succeeded', published: true, verdict: 'pass' });
    expect(b.report.build.details.argv).toEqual(expect.arrayContaining(['--inputIOFormats=chw', '--outputIOFormats=chw']));
    expect(b.report.validation).toMatchObject({ verdict: 'pass', inputs: { x: { type: 'float', dims: [1, 3, 16, 16] } } });
    expect(b.report.benchmark.rows.map((r: { batch: number }) => r.batch)).toEqual([1, 2]);

    // The type:layout form is what 11.x refuses; Kiln says so at submit, naming what it accepts.
    const typed = await submit('conv', 'trt11.0.0-sm89', { inputIOFormats: ['fp16:chw'] });
    expect(typed.status).toBe(400);
    expect(typed.body.error.message).toBe(
      'trt11.0.0-sm89: Expected inputIOFormats as a memory layout only on TensorRT >= 11.0 (e.g. chw: the strongly typed network sets the type) but received fp16:chw; this target has 11.0.0',
    );
  });

  test('layerPrecisions with wildcards (TensorRT >= 9.0) reach the layers they name; 8.6 is told why not', async () => {
    const b = await build('mlp', 'trt10.9.0-sm89', { precision: ['fp16'], layerPrecisions: { 'Gemm*': 'fp32', '*_2': 'fp32' }, precisionConstraints: 'obey' });
    expect(b).toMatchObject({ state: 'succeeded', published: true });
    expect(['pass', 'warn']).toContain(b.verdict);
    expect(b.report.build.details.argv).toEqual(expect.arrayContaining(['--layerPrecisions=Gemm*:fp32,*_2:fp32', '--precisionConstraints=obey']));
    const text = await log(b.buildKey);
    expect(text).toMatch(/Set layer Gemm_0 to precision fp32/);
    expect(text).toMatch(/Set layer MatMul_2 to precision fp32/);
    expect(text).not.toMatch(/Set layer Relu_1/);

    const old = await submit('mlp', 'trt8.6.1-sm75', { layerPrecisions: { 'Gemm*': 'fp32' }, precisionConstraints: 'obey' });
    expect(old.status).toBe(400);
    expect(old.body.error.message).toBe(
      'trt8.6.1-sm75: layerPrecisions name "Gemm*" (TensorRT 8.6 reads * only as a whole name, meaning every other layer) needs TensorRT >= 9.0; this target has 8.6.1',
    );
  });

  test.each([
    ['9.2.0', 'trt9.2.0-sm89', '--weightless', 'kWEIGHTLESS'],
    ['10.13.0', 'trt10.13.0-sm89', '--stripWeights', 'kSTRIP_PLAN'],
  ])('a stripped build on TensorRT %s is published, never run without its weights, and the report says why', async (release, target, flag, builderFlag) => {
    const b = await build('conv', target, { stripWeights: true });
    expect(b).toMatchObject({ state: 'succeeded', published: true, verdict: 'skipped' });
    expect(b.report.build.details).toMatchObject({ weights: 'stripped', builderFlags: [builderFlag], loadedWith: [] });
    expect(b.report.build.details.argv).toContain(flag);
    expect(b.report.build.details.argv).not.toContain('--refit');
    expect(b.report.validation).toBeNull();
    expect(b.report.benchmark).toBeNull();
    expect(b.report.skipped).toBe(
      `the engine was built without its weights (stripWeights) by TensorRT ${release}, whose trtexec cannot refit them at load (--refitFromOnnx needs TensorRT >= 10.14), ` +
        "so validation and the benchmark were not run on it: refit it from the same ONNX before use (TensorRT's refitter, or trtexec --refitFromOnnx on TensorRT >= 10.14)",
    );
    expect(b.report.warnings).toContain(b.report.skipped);
    expect(await manifest(b.buildKey)).toMatchObject({ validation: 'skipped', primary: 'engine.plan' });
    const text = await log(b.buildKey);
    expect(runLines(text)).toEqual([]);
    expect(text).toContain(`validation and benchmark skipped: the engine was built without its weights (stripWeights) by TensorRT ${release}`);
  });

  test('a stripped build on TensorRT 10.16 is refitted from the ONNX at load for validation and the benchmark', async () => {
    const b = await build('conv', 'trt10.16.0-sm89', { stripWeights: true });
    expect(b).toMatchObject({ state: 'succeeded', published: true, verdict: 'pass' });
    // kSTRIP_PLAN alone: refittable with the build's own weights (kREFIT_IDENTICAL), not kREFIT.
    expect(b.report.build.details).toMatchObject({ weights: 'stripped', builderFlags: ['kSTRIP_PLAN'], loadedWith: ['--refit', '--refitFromOnnx'] });
    expect(b.report.skipped).toBeUndefined();
    // Refitted, the engine computes what the model does: an fp32 engine matches ONNX Runtime.
    expect(b.report.validation.outputs[0]).toMatchObject({ name: 'logits', mismatched: 0 });
    expect(b.report.benchmark.rows.length).toBeGreaterThan(0);
    const runs = runLines(await log(b.buildKey));
    expect(runs.length).toBe(1 + b.report.benchmark.rows.length);
    for (const line of runs) expect(line).toMatch(/ --refit --refitFromOnnx=\S+\/model\.onnx /);
    expect(await log(b.buildKey)).toMatch(/Engine successfully refitted from ONNX model/);
  });

  test('a version-compatible engine is loaded with the opt-in by validation and the benchmark', async () => {
    const b = await build('conv', 'trt10.9.0-sm89', { versionCompatible: true });
    expect(b).toMatchObject({ state: 'succeeded', published: true, verdict: 'pass' });
    expect(b.report.build.details.argv).toContain('--versionCompatible');
    expect(b.report.build.details).toMatchObject({ builderFlags: ['kVERSION_COMPATIBLE'], loadedWith: ['--versionCompatible'] });
    const runs = runLines(await log(b.buildKey));
    expect(runs.length).toBeGreaterThan(1);
    for (const line of runs) expect(line).toContain(' --versionCompatible');

    // Without the lean runtime there is no host code to allow, and no opt-in is written.
    const lean = await build('conv', 'trt10.9.0-sm89', { versionCompatible: true, excludeLeanRuntime: true });
    expect(lean).toMatchObject({ state: 'succeeded', verdict: 'pass' });
    expect(lean.report.build.details.loadedWith).toEqual([]);
    for (const line of runLines(await log(lean.buildKey))) expect(line).not.toContain('--versionCompatible');
  });
});

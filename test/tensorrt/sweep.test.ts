/**
 * A TensorRT sweep over precision, builder optimisation level and hardware compatibility, on the
 * trtexec stand-in (a test double, not TensorRT: its timings say nothing of real engines). What is
 * tested is the fan-out: one build per point and target, a point a release refuses recorded with
 * the reason, ampere+ points built on the target's compatible variant, and a best point named.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createStore } from '../../src/storage/create-store';
import { createTensorRtToolchain } from '../../src/worker/toolchains/tensorrt';
import { startFarm, waitForBuild, type TestFarm } from '../helpers/farm';
import { tinyConv } from '../models';
import { RTX_4080, standinTrtexec, T4, type PlayedGpu } from './gpu-standin';

describe('TensorRT sweeps on the stand-in', () => {
  let farm: TestFarm;
  let dir: string;

  async function gpuWorker(played: PlayedGpu, name: string) {
    const toolchain = createTensorRtToolchain({ store: createStore(farm.config.store), gpu: played.gpu, trtexec: await standinTrtexec(dir, name, played), device: 0, killGraceMs: 500 });
    return farm.startWorker({ toolchains: [toolchain] }, { KILN_WORKER_ID: name });
  }

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_ATTEMPTS: '1' } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-trt-sweep-'));
    await gpuWorker(RTX_4080, 'rtx4080');
    await gpuWorker(T4, 't4');
    const res = await farm.request('POST', '/v1/models?name=conv', { role: 'builder', body: tinyConv(), headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await farm.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('builds every point it can, records what a target refuses, and names each target\'s best point', async () => {
    const sweep = { 'tensorrt.precision': [[], ['fp16']], 'tensorrt.builderOptimizationLevel': [3, 5], 'tensorrt.hardwareCompatibilityLevel': ['none', 'ampere+'] };
    const response = await farm.request('POST', '/v1/builds', {
      role: 'builder',
      body: { model: 'conv', targets: ['trt10.9.0-sm89', 'trt8.6.1-sm75'], options: { benchmark: { maxBatch: 2, warmup: 0, iterations: 3 } }, sweep, best: { metric: 'throughput', batch: 2 } },
    });
    expect(response.status).toBe(202);
    const submitted = await response.json();
    expect(submitted.points).toHaveLength(16);

    // ampere+ needs a GPU of CC 8.0 or later to build on: the T4's four such points are refused, with why.
    const refused = submitted.points.filter((p: any) => p.refused);
    expect(refused).toHaveLength(4);
    for (const p of refused) expect(p).toMatchObject({ target: 'trt8.6.1-sm75', values: { 'tensorrt.hardwareCompatibilityLevel': 'ampere+' } });
    expect(refused[0].refused).toMatch(/ampere\+/);

    // The RTX 4080's ampere+ points are built on its compatible variant, like any single ampere+ build.
    expect(submitted.builds).toHaveLength(12);
    expect(submitted.builds.filter((b: any) => b.target === 'trt10.9.0-sm89-ampere+')).toHaveLength(4);

    for (const b of submitted.builds) expect((await waitForBuild(farm, b.buildKey, 120_000)).state).toBe('succeeded');
    const request = await (await farm.request('GET', `/v1/requests/${submitted.request}`, { role: 'reader' })).json();
    expect(request.targets).toEqual(['trt10.9.0-sm89', 'trt8.6.1-sm75']);
    const byTarget = Object.fromEntries(request.sweep.targets.map((t: any) => [t.target, t]));
    expect(byTarget['trt10.9.0-sm89']).toMatchObject({ state: 'decided', metric: 'throughput', excluded: [] });
    expect(byTarget['trt10.9.0-sm89'].ranked).toHaveLength(8);
    expect(byTarget['trt8.6.1-sm75'].ranked).toHaveLength(4);
    expect(byTarget['trt8.6.1-sm75'].excluded.map((e: any) => e.reason)).toEqual(Array(4).fill(expect.stringMatching(/^refused: /)));
    for (const t of Object.values(byTarget) as any[]) {
      expect(t.best.batch).toBe(2);
      expect(t.best.value).toBeGreaterThanOrEqual(t.runnerUp.value);
    }

    const resolved = await (await farm.request('GET', `/v1/resolve?request=${submitted.request}&cc=7.5&trt=8.6.1`, { role: 'reader' })).json();
    expect(resolved).toMatchObject({ rung: 'best', buildKey: byTarget['trt8.6.1-sm75'].best.buildKey, metric: { name: 'throughput', batch: 2 } });
  }, 300_000);
});

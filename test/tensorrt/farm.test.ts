/**
 * The GPU path end to end, with the trtexec stand-in (a test double, not TensorRT) playing the
 * GPUs: real API, Redis, BullMQ, workers, storage and ONNX Runtime. An RTX 4080 (CC 8.9, TensorRT
 * 10.9.0) and a T4 (CC 7.5, TensorRT 8.6.1) build one request for both targets; fleet timing caches
 * grow across models; resolve picks each rung of the ladder; `kiln fetch` downloads and verifies
 * what it points to; failures publish nothing; cancel kills trtexec.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KilnClient } from '../../src/cli/client';
import { fetchArtifacts } from '../../src/cli/fetch-artifacts';
import type { GpuTelemetry } from '../../src/native/types';
import { createStore } from '../../src/storage/create-store';
import { createTensorRtToolchain } from '../../src/worker/toolchains/tensorrt';
import { allToolchains } from '../../src/worker/toolchains';
import { readEvents, startFarm, TOKENS, waitForBuild, type TestFarm } from '../helpers/farm';
import { tinyAdd, tinyConv, tinyMlp } from '../models';
import { A100, RTX_3070, RTX_4080, standinTrtexec, T4, type PlayedGpu } from './gpu-standin';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const H100: PlayedGpu = {
  trt: '10.3.0',
  gpu: { index: 0, name: 'NVIDIA H100 PCIe', sku: 'nvidia-h100-pcie', cc: '9.0', uuid: 'GPU-h100aaaa-0000-0000-0000-000000000005', memoryTotalBytes: 85_520_809_984, driverVersion: '570.86.15' },
  misbehave: 'sleep=60000,ignore-sigterm',
};
const OPTIONS = { tensorrt: { precision: ['fp16'] }, benchmark: { maxBatch: 4, warmup: 0, iterations: 5 } };

function telemetryOf(index: number): () => Promise<GpuTelemetry> {
  return async () => ({
    index,
    utilizationGpu: 7,
    utilizationMemory: 1,
    memoryUsedBytes: 600 * 2 ** 20,
    memoryTotalBytes: 16 * 2 ** 30,
    processes: [],
    temperatureC: 45,
    smClockMHz: 1500,
    memClockMHz: 10000,
    powerWatts: 60,
    at: new Date().toISOString(),
  });
}

describe('GPU farm with the trtexec stand-in', () => {
  let farm: TestFarm;
  let dir: string;
  let cpuTarget: string;

  async function gpuWorker(played: PlayedGpu, name: string, trtexec?: string) {
    const store = createStore(farm.config.store);
    const toolchain = createTensorRtToolchain({
      store,
      gpu: played.gpu,
      trtexec: trtexec ?? (await standinTrtexec(dir, name, played)),
      device: 0,
      killGraceMs: 500,
      telemetry: telemetryOf(played.gpu.index),
      ...(trtexec === undefined ? {} : { fallbackPaths: ['/nonexistent/trtexec'] }),
    });
    return farm.startWorker({ toolchains: [toolchain] }, { KILN_WORKER_ID: name });
  }

  const submit = async (model: string, targets: string[], options: object = OPTIONS) => {
    const res = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model, targets, options } });
    return { status: res.status, body: await res.json() };
  };
  const upload = async (name: string, bytes: Buffer) => {
    const res = await farm.request('POST', `/v1/models?name=${name}`, { role: 'builder', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(201);
  };
  const resolve = async (query: string) => (await farm.request('GET', `/v1/resolve?${query}`, { role: 'reader' })).json();
  const caches = async () => (await (await farm.request('GET', '/v1/timing-caches', { role: 'reader' })).json()).timingCaches;

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_ATTEMPTS: '1' } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-gpu-farm-'));
    await gpuWorker(RTX_4080, 'rtx4080');
    await gpuWorker(T4, 't4');
    await gpuWorker({ ...RTX_3070, misbehave: 'wrong-cc' }, 'liar-3070');
    await gpuWorker({ ...A100, misbehave: 'bad-plan-header' }, 'bad-plan-a100');
    await gpuWorker(H100, 'stubborn-h100');
    await gpuWorker(RTX_4080, 'no-trtexec', '/nonexistent/trtexec');
    cpuTarget = (await farm.startWorker({ toolchains: allToolchains() }, { KILN_WORKER_ID: 'cpu' })).targets[0];
    await upload('conv', tinyConv());
    await upload('mlp', tinyMlp());
    await upload('add', tinyAdd());
  });
  afterAll(async () => {
    await farm.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('GPU workers register their GPU, targets and telemetry; one without trtexec says why', async () => {
    const { workers } = await (await farm.request('GET', '/v1/workers')).json();
    const byId = Object.fromEntries(workers.map((w: { id: string }) => [w.id, w]));
    expect(byId.rtx4080).toMatchObject({
      targets: ['trt10.9.0-sm89', 'trt10.9.0-sm89-nvidia-geforce-rtx-4080', 'trt10.9.0-sm89-ampere+', 'trt10.9.0-sm89-same-cc'],
      toolchains: { tensorrt: '10.9.0' },
      hardware: { gpu: { name: 'NVIDIA GeForce RTX 4080', cc: '8.9', sku: 'nvidia-geforce-rtx-4080', uuid: RTX_4080.gpu.uuid } },
      telemetry: { source: 'gpu', utilizationPercent: 7, temperatureC: 45 },
    });
    expect(byId.t4.targets).toEqual(['trt8.6.1-sm75', 'trt8.6.1-sm75-nvidia-tesla-t4']);
    expect(byId['no-trtexec']).toMatchObject({
      targets: [],
      toolchains: { tensorrt: 'unavailable: KILN_TRTEXEC=/nonexistent/trtexec does not exist' },
      notes: ['tensorrt: KILN_TRTEXEC=/nonexistent/trtexec does not exist'],
      hardware: { gpu: { name: 'NVIDIA GeForce RTX 4080' } },
      telemetry: { source: 'gpu' },
    });
    // CPU workers describe their hardware from /proc/cpuinfo.
    expect(byId.cpu.hardware).toMatchObject({ cpuModel: expect.any(String), cores: expect.any(Number), isaFlags: expect.any(Array) });
  });

  let convBuilds: Record<string, string>;
  let firstCacheSizes: Record<string, number>;

  test('one request for an RTX 4080 and a T4 yields two validated, benchmarked engines', async () => {
    const { status, body } = await submit('conv', ['trt10.9.0-sm89', 'trt8.6.1-sm75']);
    expect(status).toBe(202);
    convBuilds = Object.fromEntries(body.builds.map((b: { target: string; id: string }) => [b.target, b.id]));
    for (const [target, id] of Object.entries(convBuilds)) {
      const build = await waitForBuild(farm, id);
      expect(build).toMatchObject({ state: 'succeeded', published: true });
      expect(['pass', 'warn']).toContain(build.verdict);
      const { validation, benchmark } = build.report;
      expect(validation).toMatchObject({ reference: 'onnxruntime-cpu', rtol: 1e-2, atol: 1e-3 });
      // fp16: a small error, reported.
      expect(validation.outputs[0].maxAbsError).toBeGreaterThan(0);
      expect(validation.outputs[0].maxRelError).toBeLessThan(1e-2);
      expect(benchmark.rows.map((r: { batch: number }) => r.batch)).toEqual([1, 2, 4]);
      expect(build.report.build.details).toMatchObject({ cc: target === 'trt10.9.0-sm89' ? '8.9' : '7.5', timingCache: { fleet: 'published' } });
      expect(build.artifacts.map((a: { name: string }) => a.name).sort()).toEqual(['build.log', 'engine.plan', 'layer-info.json', 'layer-profile.json', 'model_ctx.onnx', 'provenance.dsse.json', 'report.json', 'timing.cache']);
      // The signed statement names the exact trtexec argv, the GPU it ran on and the timing cache before and after.
      const envelope = await (await farm.request('GET', `/v1/artifacts/${id}/provenance.dsse.json`, { role: 'reader' })).json();
      const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
      const played = target === 'trt10.9.0-sm89' ? RTX_4080 : T4;
      const internal = statement.predicate.buildDefinition.internalParameters;
      expect(internal.argv[0]).toMatch(/trtexec/);
      expect(internal.argv).toEqual(expect.arrayContaining([expect.stringMatching(/^--onnx=/), expect.stringMatching(/^--timingCacheFile=/)]));
      expect(internal.device).toMatchObject({ name: played.gpu.name, cc: played.gpu.cc, uuid: played.gpu.uuid, driverVersion: played.gpu.driverVersion });
      const cacheFile = build.artifacts.find((a: { name: string }) => a.name === 'timing.cache');
      expect(internal.timingCache).toEqual({ before: null, after: cacheFile.sha256 });
      expect(statement.predicate.runDetails.builder.version).toMatchObject({ tensorrt: played.trt, driver: played.gpu.driverVersion });
      const log = await (await farm.request('GET', `/v1/builds/${id}/log`, { role: 'reader' })).text();
      expect(log).toMatch(/^&&&& PASSED TensorRT\.trtexec/m);
      expect(log).toContain('== benchmarking');
    }
    firstCacheSizes = Object.fromEntries((await caches()).map((c: { trt: string; cc: string; sizeBytes: number }) => [`${c.trt}/${c.cc}`, c.sizeBytes]));
    expect(Object.keys(firstCacheSizes).sort()).toEqual(['10.9.0/8.9', '8.6.1/7.5']);
  });

  test('a resubmission is answered from the cache', async () => {
    const { status, body } = await submit('conv', ['trt10.9.0-sm89', 'trt8.6.1-sm75']);
    expect(status).toBe(200);
    expect(body.builds.map((b: { cached: boolean; id: string; target: string }) => [b.target, b.cached, b.id === convBuilds[b.target]])).toEqual([
      ['trt10.9.0-sm89', true, true],
      ['trt8.6.1-sm75', true, true],
    ]);
  });

  test('each (TensorRT version, CC, SKU) has a fleet timing cache that grows across models, listed and downloadable', async () => {
    const { body } = await submit('mlp', ['trt10.9.0-sm89', 'trt8.6.1-sm75']);
    for (const b of body.builds) expect(await waitForBuild(farm, b.id)).toMatchObject({ state: 'succeeded' });
    const listed = await caches();
    for (const c of listed) {
      expect(c.sizeBytes).toBeGreaterThan(firstCacheSizes[`${c.trt}/${c.cc}`]);
      expect(c.builds).toBe(2);
      expect(c.recent.map((r: { targetKey: string }) => r.targetKey)).toEqual([`trt${c.trt}-sm${c.cc.replace('.', '')}`, `trt${c.trt}-sm${c.cc.replace('.', '')}`]);
    }
    expect(listed.map((c: { name: string; sku: string }) => [c.name, c.sku])).toEqual([
      ['trt8.6.1-sm75-nvidia-tesla-t4', 'nvidia-tesla-t4'],
      ['trt10.9.0-sm89-nvidia-geforce-rtx-4080', 'nvidia-geforce-rtx-4080'],
    ]);
    const entry = listed.find((c: { trt: string }) => c.trt === '10.9.0');
    expect(entry.url).toBe('/v1/timing-caches/trt10.9.0-sm89-nvidia-geforce-rtx-4080');
    const download = await farm.request('GET', entry.url, { role: 'reader' });
    expect(download.status).toBe(200);
    const bytes = new Uint8Array(await download.arrayBuffer());
    expect(bytes.length).toBe(entry.sizeBytes);
    expect(sha256(bytes)).toBe(entry.sha256);
    expect(download.headers.get('x-kiln-sha256')).toBe(entry.sha256);
    expect((await farm.request('GET', '/v1/timing-caches/trt10.9.0-sm89-nvidia-l4', { role: 'reader' })).status).toBe(404);
    // The CC-wide caches from before per-SKU caches are served by their old URL; there are none here.
    expect((await farm.request('GET', '/v1/timing-caches/10.9.0/8.9', { role: 'reader' })).status).toBe(404);
    expect((await farm.request('GET', '/v1/timing-caches/trt10.9.0-sm89-ampere+', { role: 'reader' })).status).toBe(400);
    const bad = await farm.request('GET', '/v1/timing-caches/10.9/89', { role: 'reader' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toBe('Expected a TensorRT version as major.minor.patch (e.g. 10.9.0) but received "10.9"');
    expect((await farm.request('GET', '/v1/timing-caches', { role: null })).status).toBe(401);
  });

  test('resolve picks the right rung in each of the five cases', async () => {
    const ids = (await submit('conv', ['trt10.9.0-sm89-nvidia-geforce-rtx-4080', 'trt10.9.0-sm89-ampere+', cpuTarget])).body.builds;
    for (const b of ids) expect(await waitForBuild(farm, b.id)).toMatchObject({ state: 'succeeded' });
    const [skuBuild, ampereBuild, cpuBuild] = ids.map((b: { id: string }) => b.id);

    // 1. An engine built on the client's exact SKU.
    const exact = await resolve('model=conv&cc=8.9&trt=10.9.0&sku=nvidia-geforce-rtx-4080');
    expect(exact).toMatchObject({ rung: 'exact-sku', buildKey: skuBuild, target: 'trt10.9.0-sm89-nvidia-geforce-rtx-4080', primary: 'engine.plan' });
    // 2. Another SKU of the same CC: the engine built for the CC.
    expect(await resolve('model=conv&cc=8.9&trt=10.9.0&sku=nvidia-geforce-rtx-4090')).toMatchObject({ rung: 'same-cc', buildKey: convBuilds['trt10.9.0-sm89'] });
    expect(await resolve('model=conv&cc=8.9&trt=10.9.0&precision=fp16')).toMatchObject({ rung: 'same-cc' });
    // 3. A CC >= 8.0 without its own engine: the ampere+ engine.
    expect(await resolve('model=conv&cc=8.6&trt=10.9.0&sku=nvidia-geforce-rtx-3070')).toMatchObject({ rung: 'hardware-compatible', buildKey: ampereBuild, target: 'trt10.9.0-sm89-ampere+' });
    // 4. No engine for this model on the T4's TensorRT, but a fleet timing cache and the ONNX.
    const cache = await resolve('model=add&cc=7.5&trt=8.6.1');
    // Asked by CC alone: the T4's cache, flagged as a best match; by the T4's SKU, its own.
    expect(cache).toMatchObject({ rung: 'timing-cache', timingCache: { url: '/v1/timing-caches/trt8.6.1-sm75-nvidia-tesla-t4', sku: 'nvidia-tesla-t4', match: 'best-match' } });
    expect(await resolve('model=add&cc=7.5&trt=8.6.1&sku=nvidia-tesla-t4')).toMatchObject({ timingCache: { sku: 'nvidia-tesla-t4', match: 'sku' } });
    expect(cache.files).toEqual([expect.objectContaining({ sha256: sha256(tinyAdd()), url: expect.stringMatching(/^\/v1\/models\/[0-9a-f]{64}\/file$/) })]);
    // No engine of the wanted precision is no engine either.
    expect(await resolve('model=conv&cc=8.9&trt=10.9.0&precision=int8')).toMatchObject({ rung: 'timing-cache' });
    // Below the cache: just the ONNX.
    expect(await resolve('model=conv&cc=7.0&trt=8.6.1')).toMatchObject({ rung: 'onnx' });
    // 5. A CPU client: the ONNX Runtime artifact for its ISA.
    expect(await resolve(`model=conv&target=${cpuTarget}`)).toMatchObject({ rung: 'cpu', buildKey: cpuBuild });
  });

  test('kiln fetch downloads what resolve points to, verifying sha256 and the plan header', async () => {
    const client = new KilnClient({ url: farm.url, token: TOKENS.reader });
    const out = await mkdtemp(path.join(dir, 'fetch-'));
    const engineAnswer = await resolve('model=conv&cc=7.5&trt=8.6.1&sku=nvidia-tesla-t4');
    expect(engineAnswer.rung).toBe('same-cc');
    const fetched = await fetchArtifacts(client, engineAnswer, path.join(out, 'engine'), { trt: '8.6.1' });
    expect(fetched.find((f) => f.role === 'engine')).toMatchObject({ name: 'engine.plan', downloaded: true });
    expect((await readdir(path.join(out, 'engine'))).sort()).toEqual(['build.log', 'engine.plan', 'layer-info.json', 'layer-profile.json', 'manifest.json', 'model_ctx.onnx', 'provenance.dsse.json', 'report.json', 'timing.cache']);
    // The engine of another TensorRT is refused.
    await expect(fetchArtifacts(client, engineAnswer, path.join(out, 'wrong'), { trt: '10.9.0' })).rejects.toThrow(
      'Expected a plan made by TensorRT 10.9.0 but engine.plan was made by 8.6.1.6; TensorRT would refuse to load it',
    );
    const cacheAnswer = await resolve('model=add&cc=7.5&trt=8.6.1');
    const onnxAndCache = await fetchArtifacts(client, cacheAnswer, path.join(out, 'cache'), { trt: '8.6.1' });
    expect(onnxAndCache.map((f) => f.role ?? 'model')).toEqual(['model', 'timing-cache']);
    const cacheBytes = await readFile(path.join(out, 'cache', 'timing.cache'));
    expect(sha256(cacheBytes)).toBe((await caches()).find((c: { trt: string }) => c.trt === '8.6.1').sha256);
  });

  // The target key names the TensorRT version, so the API refuses at submit; the worker's own
  // refusal of the same options is tested in toolchain.test.ts.
  test('options the target\'s TensorRT does not support are refused at submit with the gate in the error', async () => {
    const { status, body } = await submit('mlp', ['trt8.6.1-sm75'], { ...OPTIONS, tensorrt: { hardwareCompatibilityLevel: 'sameComputeCapability' } });
    expect(status).toBe(400);
    expect(body.error.message).toBe('trt8.6.1-sm75: sameComputeCapability needs TensorRT >= 10.9; this target has 8.6.1');
  });

  test('a worker whose trtexec reports another CC than its target publishes nothing', async () => {
    const { body } = await submit('mlp', ['trt10.3.0-sm86']);
    const build = await waitForBuild(farm, body.builds[0].id);
    expect(build.state).toBe('failed');
    expect(build.error).toMatch(/^trtexec built on another GPU or TensorRT than this worker registered \(compute capability 8\.9 instead of 8\.6\); nothing is published/);
    expect((await farm.request('GET', `/v1/artifacts/${build.id}/manifest.json`, { role: 'reader' })).status).toBe(404);
    expect((await caches()).filter((c: { trt: string }) => c.trt === '10.3.0')).toEqual([]);
  });

  test('a plan with a wrong header is never published', async () => {
    const { body } = await submit('mlp', ['trt10.3.0-sm80']);
    const build = await waitForBuild(farm, body.builds[0].id);
    expect(build.state).toBe('failed');
    expect(build.error).toMatch(/^Expected a TensorRT plan starting with "ftrt" \(0x74727466\) but .*engine\.plan starts with 0x74727478 \(xtrt\)$/);
    expect((await farm.request('GET', `/v1/artifacts/${build.id}/manifest.json`, { role: 'reader' })).status).toBe(404);
    expect((await caches()).filter((c: { trt: string }) => c.trt === '10.3.0')).toEqual([]);
  });

  test('cancel kills trtexec, even one that ignores SIGTERM', async () => {
    const { body } = await submit('mlp', ['trt10.3.0-sm90']);
    const id = body.builds[0].id;
    let pid = 0;
    await readEvents(await farm.request('GET', `/v1/builds/${id}/events`, { role: 'reader' }), (e) => {
      const m = e.event === 'log' ? /^trtexec pid (\d+):/.exec(e.data.line) : null;
      if (m) pid = Number(m[1]);
      return e.event === 'log' && e.data.line.includes('Start parsing network model');
    });
    expect(pid).toBeGreaterThan(0);
    // 202: a running build is asked to stop; its worker stops trtexec.
    expect((await farm.request('DELETE', `/v1/builds/${id}`, { role: 'builder' })).status).toBe(202);
    const build = await waitForBuild(farm, id);
    expect(build.state).toBe('cancelled');
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    expect((await farm.request('GET', `/v1/artifacts/${id}/manifest.json`, { role: 'reader' })).status).toBe(404);
  });
});

/** Speed-ups, layer profiles and the layer compare route, end to end through a farm with a CPU worker. */
import { startFarm, waitForBuild, type TestFarm } from '../helpers/farm';
import { tinyConv, tinyMlp } from '../models';

const QUICK = { benchmark: { maxBatch: 2, warmup: 1, iterations: 3 } };

describe('layer profiles and speed-ups through the API', () => {
  let farm: TestFarm;
  let target: string;
  const builds: Record<string, string> = {};

  const upload = async (name: string, bytes: Buffer) => {
    const res = await farm.request('POST', `/v1/models?name=${name}`, { role: 'builder', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(201);
  };
  const build = async (model: string, options: object) => {
    const res = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model, targets: [target], options: { ...QUICK, ...options } } });
    expect(res.status).toBe(202);
    const b = await waitForBuild(farm, (await res.json()).builds[0].id);
    expect(b).toMatchObject({ state: 'succeeded' });
    return b;
  };

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_ATTEMPTS: '1' } });
    target = (await farm.startWorker()).targets[0];
    await upload('conv', tinyConv());
    await upload('mlp', tinyMlp());
    const all = await build('conv', {});
    const basic = await build('conv', { onnxruntime: { graphOptimizationLevel: 'basic' } });
    const mlp = await build('mlp', {});
    Object.assign(builds, { all: all.buildKey, basic: basic.buildKey, mlp: mlp.buildKey });
  });
  afterAll(() => farm.stop());

  test('the build JSON carries the speed-up per batch size, the conditions and the top layers; the full table is an artifact', async () => {
    const b = await (await farm.request('GET', `/v1/builds/${builds.all}`, { role: 'reader' })).json();
    const { benchmark, layerProfile } = b.report;
    expect(benchmark.speedup.map((s: { batch: number }) => s.batch)).toEqual([1, 2]);
    expect(benchmark.speedup.every((s: { speedup: number }) => s.speedup > 0)).toBe(true);
    expect(benchmark.conditions).toMatchObject({ threads: expect.any(Number), quality: expect.stringMatching(/^(clean|noisy)$/) });
    expect(layerProfile).toMatchObject({ file: 'layer-profile.json', source: 'onnxruntime-profiler', batch: 1 });
    expect(layerProfile.top.length).toBeGreaterThan(0);
    const entry = b.artifacts.find((a: { name: string }) => a.name === 'layer-profile.json');
    expect(entry).toMatchObject({ role: 'layer-profile' });
    const full = await (await farm.request('GET', entry.url, { role: 'reader' })).json();
    expect(full.layers).toHaveLength(layerProfile.layerCount);
    expect(full.layers[0]).toEqual(layerProfile.top[0]);
  });

  test('two builds of one model compare layer by layer; builds of different models are refused', async () => {
    const res = await farm.request('GET', `/v1/builds/${builds.basic}/compare/${builds.all}`, { role: 'reader' });
    expect(res.status).toBe(200);
    const c = await res.json();
    expect(c.a).toMatchObject({ buildKey: builds.basic, targetKey: target, source: 'onnxruntime-profiler' });
    expect(c.b).toMatchObject({ buildKey: builds.all });
    expect(c.layers.length).toBeGreaterThan(0);
    // 'basic' keeps Conv and BatchNormalization apart; 'all' fuses them, so some layers are one side's only.
    expect(c.layers.some((l: { aMs: number | null; bMs: number | null }) => l.aMs === null || l.bMs === null)).toBe(true);

    const other = await farm.request('GET', `/v1/builds/${builds.all}/compare/${builds.mlp}`, { role: 'reader' });
    expect(other.status).toBe(400);
    expect((await other.json()).error.message).toMatch(/^Expected two builds of one model but received builds of models [0-9a-f]{12} \([0-9a-f]{12}\) and [0-9a-f]{12} \([0-9a-f]{12}\); layers compare only within one model$/);
    expect((await farm.request('GET', `/v1/builds/${builds.all}/compare/${'0'.repeat(64)}`, { role: 'reader' })).status).toBe(404);
    expect((await farm.request('GET', `/v1/builds/${builds.all}/compare/${builds.basic}`, { role: null })).status).toBe(401);
  });
});

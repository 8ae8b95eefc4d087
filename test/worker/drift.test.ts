import { startFarm, waitForBuild, type TestFarm } from '../helpers/farm';
import { tinyMlp } from '../models';
import { allToolchains } from '../../src/worker/toolchains';

const QUICK = { benchmark: { maxBatch: 1, warmup: 0, iterations: 2 } };

describe('drift gates between model versions', () => {
  let farm: TestFarm;
  let target: string;

  const upload = async (bytes: Buffer): Promise<{ sha256: string; labels: string[] }> => {
    const res = await farm.request('POST', '/v1/models?name=mlp', { role: 'builder', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(201);
    return res.json();
  };
  const build = async (model: string, validation: object = {}) => {
    const res = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model, targets: [target], options: { ...QUICK, validation } } });
    expect(res.status).toBe(202);
    return waitForBuild(farm, (await res.json()).builds[0].id);
  };

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_ATTEMPTS: '1' } });
    target = (await farm.startWorker({ toolchains: allToolchains() })).targets[0];
  });
  afterAll(() => farm.stop());

  test('the first version has nothing to drift from; a re-upload with the same weights passes a tight gate; perturbed weights fail it', async () => {
    const v1 = await upload(tinyMlp());
    const first = await build('mlp@1');
    expect(first).toMatchObject({ state: 'succeeded' });
    expect(first.report.validation.drift).toBeUndefined();

    // Other bytes (another graph name), the same weights: a new version that did not move.
    const v2 = await upload(tinyMlp({ graphName: 'tiny_mlp_retrained' }));
    expect(v2.labels).toEqual(['mlp@2']);
    expect(v2.sha256).not.toBe(v1.sha256);
    const second = await build('mlp@2', { maxDrift: 1e-6 });
    expect(second).toMatchObject({ state: 'succeeded' });
    expect(second.report.validation.drift).toEqual({
      label: 'mlp@2',
      previous: { label: 'mlp@1', modelId: v1.sha256, buildKey: first.buildKey },
      runner: 'onnxruntime-cpu (optimizations disabled)',
      seed: 0,
      maxDrift: 1e-6,
      verdict: 'pass',
      outputs: [{ name: 'y', elements: 4, maxAbsDiff: 0, meanAbsDiff: 0, verdict: 'pass' }],
    });

    const v3 = await upload(tinyMlp({ perturb: 0.05 }));
    expect(v3.labels).toEqual(['mlp@3']);
    const third = await build('mlp@3', { maxDrift: 1e-3 });
    expect(third).toMatchObject({ state: 'failed', verdict: 'fail', inputError: true });
    expect(third.error).toMatch(
      new RegExp(`^Drift gate failed: mlp@3 differs from mlp@2 \\(published build ${second.buildKey.slice(0, 12)}\\) on the seeded inputs by more than options\\.validation\\.maxDrift 0\\.001: y moved by up to 0\\.\\d+`),
    );
    const drift = third.report.validation.drift;
    expect(drift).toMatchObject({ label: 'mlp@3', previous: { label: 'mlp@2', modelId: v2.sha256 }, maxDrift: 1e-3, verdict: 'fail' });
    expect(drift.outputs[0].maxAbsDiff).toBeGreaterThan(1e-3);
    // Nothing was published for the failed build.
    expect((await (await farm.request('GET', `/v1/builds/${third.buildKey}`, { role: 'reader' })).json()).published).toBe(false);

    // Without a gate the drift is reported and the build goes on.
    const ungated = await build('mlp@3');
    expect(ungated).toMatchObject({ state: 'succeeded' });
    expect(ungated.report.validation.drift).toMatchObject({ maxDrift: null, verdict: 'pass' });
    expect(ungated.report.validation.drift.outputs[0].maxAbsDiff).toBe(drift.outputs[0].maxAbsDiff);
  });

  test('maxDrift is checked at submit', async () => {
    const res = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'mlp@1', targets: [target], options: { validation: { maxDrift: -1 } } } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('validation.maxDrift');
  });
});

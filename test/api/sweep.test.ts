/**
 * Sweeps end to end on the CPU target: a generated ResNet-18 over graphOptimizationLevel x intra-op
 * threads (ResNet-18's layers at a quarter of its width, so two shared cores build it in seconds), on a real worker with real ONNX Runtime. The level changes the artifact (one build per
 * level); the threads do not (each level's one artifact is measured once per thread count).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resnet18, tinyAdd } from '../models';
import { startFarm, TOKENS, waitForBuild, type TestFarm } from '../helpers/farm';

const ROOT = path.join(__dirname, '..', '..');
const TSX = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

describe('sweeps', () => {
  let farm: TestFarm;
  let target: string;

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_MAX_SWEEP_POINTS: '8' } });
    target = (await farm.startWorker()).targets[0];
    const upload = (name: string, bytes: Buffer) =>
      farm.request('POST', `/v1/models?name=${name}`, { role: 'builder', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect((await upload('resnet18', resnet18({ width: 16, imageSize: 64, classes: 100 }))).status).toBe(201);
    expect((await upload('add', tinyAdd())).status).toBe(201);
  }, 120_000);
  afterAll(() => farm.stop());

  const submit = (body: unknown) => farm.request('POST', '/v1/builds', { role: 'builder', body });
  const quick = { benchmark: { iterations: 3, warmup: 1, maxBatch: 1 } };

  /** The CLI in its own process, as a user runs it; the API it talks to lives in this one. */
  function kiln(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'src/cli/main.ts'), ...args], {
        cwd: ROOT,
        env: { ...process.env, KILN_URL: farm.url, KILN_TOKEN: TOKENS.builder },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('names an unknown path with the accepted ones, and a refused value with its index', async () => {
    const unknown = await submit({ model: 'add', targets: [target], sweep: { 'onnxruntime.level': ['all'] } });
    expect(unknown.status).toBe(400);
    const message = (await unknown.json()).error.message;
    expect(message).toMatch(/^Expected option paths to sweep, one of .*onnxruntime\.graphOptimizationLevel.* but received "onnxruntime\.level"$/);
    expect(message).toMatch(/onnxruntime\.intraOpNumThreads/);

    const bad = await submit({ model: 'add', targets: [target], sweep: { 'onnxruntime.graphOptimizationLevel': ['all', 'fastest'] } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/^sweep\.onnxruntime\.graphOptimizationLevel\[1\]: .*"basic".*received "fastest"/);

    const orphan = await submit({ model: 'add', targets: [target], best: { metric: 'throughput' } });
    expect(orphan.status).toBe(400);
    expect((await orphan.json()).error.message).toMatch(/Expected best only with a sweep/);
  });

  it('refuses a product past KILN_MAX_SWEEP_POINTS before queuing anything', async () => {
    const before = (await (await farm.request('GET', '/v1/builds', { role: 'reader' })).json()).builds.length;
    const big = await submit({ model: 'add', targets: [target], sweep: { 'onnxruntime.intraOpNumThreads': [1, 2, 3], 'benchmark.iterations': [1, 2, 3] } });
    expect(big.status).toBe(400);
    expect((await big.json()).error.message).toBe(
      'A sweep of 3 onnxruntime.intraOpNumThreads x 3 benchmark.iterations over 1 target is 9 points; at most 8 are accepted (KILN_MAX_SWEEP_POINTS): ' +
        'sweep fewer values or targets, or split it into several requests',
    );
    expect((await (await farm.request('GET', '/v1/builds', { role: 'reader' })).json()).builds.length).toBe(before);
  });

  it('builds ResNet-18 once per graphOptimizationLevel, measures each thread count on it, names the best point, and resolve serves it', async () => {
    const sweep = { 'onnxruntime.graphOptimizationLevel': ['basic', 'all'], 'onnxruntime.intraOpNumThreads': [1, 2] };
    const response = await submit({ model: 'resnet18', targets: [target], options: quick, sweep });
    expect(response.status).toBe(202);
    const submitted = await response.json();
    expect(submitted.points).toHaveLength(4);
    // Two artifacts: threads are a runtime setting, measured on each level's one build.
    expect(submitted.builds).toHaveLength(2);
    expect(new Set(submitted.points.map((p: any) => p.buildKey)).size).toBe(2);
    expect(submitted.points.map((p: any) => p.runtime)).toEqual([0, 1, 0, 1]);

    const notYet = await farm.request('GET', `/v1/resolve?request=${submitted.request}`, { role: 'reader' });
    if (notYet.status !== 200) expect(notYet.status).toBe(409);

    for (const b of submitted.builds) expect((await waitForBuild(farm, b.buildKey, 180_000)).state).toBe('succeeded');
    const request = await (await farm.request('GET', `/v1/requests/${submitted.request}`, { role: 'reader' })).json();
    expect(request.state).toBe('succeeded');
    const [result] = request.sweep.targets;
    expect(result).toMatchObject({ target, state: 'decided', metric: 'latency', excluded: [] });
    expect(result.ranked).toHaveLength(4);
    expect(result.best.value).toBeLessThanOrEqual(result.runnerUp.value);
    expect(result.marginPercent).toBeCloseTo((result.runnerUp.value / result.best.value - 1) * 100, 6);
    expect(result.best.settings).toEqual({ intraOpNumThreads: result.best.values['onnxruntime.intraOpNumThreads'] });

    const build = await (await farm.request('GET', `/v1/builds/${result.best.buildKey}`, { role: 'reader' })).json();
    expect(build.report.benchmark.runtimes.map((r: any) => r.settings)).toEqual([{ intraOpNumThreads: 1 }, { intraOpNumThreads: 2 }]);

    const resolved = await (await farm.request('GET', `/v1/resolve?request=${submitted.request.slice(0, 8)}`, { role: 'reader' })).json();
    expect(resolved).toMatchObject({ rung: 'best', request: submitted.request, buildKey: result.best.buildKey, point: result.best.values, runtime: result.best.settings, target });
    const byTag = await (await farm.request('GET', `/v1/resolve?model=resnet18@best&target=${target}`, { role: 'reader' })).json();
    expect(byTag).toMatchObject({ rung: 'best', request: submitted.request, buildKey: result.best.buildKey });

    // The same sweep again is answered from what is built: nothing is queued.
    const again = await submit({ model: 'resnet18', targets: [target], options: quick, sweep });
    expect(again.status).toBe(200);
    expect((await again.json()).builds.every((b: any) => b.cached)).toBe(true);
  }, 300_000);

  it('says when a model has no finished sweep, and when a request is not a sweep', async () => {
    const none = await farm.request('GET', `/v1/resolve?model=add@best&target=${target}`, { role: 'reader' });
    expect(none.status).toBe(404);
    expect((await none.json()).error.message).toMatch(/^No finished sweep of add has a best point for /);
    const plain = await (await submit({ model: 'add', targets: [target], options: quick })).json();
    const notSweep = await farm.request('GET', `/v1/resolve?request=${plain.request}`, { role: 'reader' });
    expect(notSweep.status).toBe(400);
    expect((await notSweep.json()).error.message).toMatch(/is not a sweep/);
  });

  it('kiln build --sweep --watch prints the points, then each target\'s best point', async () => {
    const result = await kiln(['build', 'add', '--target', target, '--sweep', 'onnxruntime.executionMode=sequential,parallel', '--best', 'throughput', '--option', 'benchmark.iterations=3', '--option', 'benchmark.maxBatch=1', '--watch']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/2 sweep points/);
    expect(result.stdout).toMatch(/executionMode=sequential +[0-9a-f]{12} +runtime setting 1 of its build/);
    expect(result.stdout).toMatch(/best points \(by throughput;/);
    expect(result.stdout).toMatch(new RegExp(`${target} +executionMode=(sequential|parallel) +[\\d.]+ samples/s at batch 1 +[\\d.]+% ahead of executionMode=`));

    // The best tag follows the newest finished sweep; fetch says which runtime settings made it the best.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-sweep-fetch-'));
    try {
      const fetched = await kiln(['fetch', 'add@best', '--target', target, '-o', dir]);
      expect(fetched.stderr).toBe('');
      expect(fetched.stdout).toMatch(/^rung: +best: Best point of sweep [0-9a-f-]{36} for \S+ by throughput at batch 1, [\d.]+% ahead of the runner-up$/m);
      expect(fetched.stdout).toMatch(/^runtime: +executionMode=(sequential|parallel)$/m);
      expect(fetched.stdout).toMatch(/model\.optimized\.onnx .*verified/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

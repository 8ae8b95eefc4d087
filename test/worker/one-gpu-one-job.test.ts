/**
 * One GPU, one job: two stand-in GPUs of one CC (an RTX 4080 and an L4, both sm89 on TensorRT
 * 10.9.0; the trtexec stand-in is a test double, not TensorRT) share the CC, ampere+ and same-cc
 * queues and each has its SKU queue. A burst of builds over all of those keys: at no moment does
 * a worker hold two jobs, and both GPUs take their share. (How much faster two GPUs finish than
 * one is measured by `npm run bench`, bench/dispatch.ts, not timed here.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createStore } from '../../src/storage/create-store';
import { createTensorRtToolchain } from '../../src/worker/toolchains/tensorrt';
import type { KilnWorker } from '../../src/worker/kiln-worker';
import { startFarm, waitForBuild, type TestFarm } from '../helpers/farm';
import { tinyConv } from '../models';
import { L4, RTX_4080, standinTrtexec, type PlayedGpu } from '../tensorrt/gpu-standin';

describe('one GPU, one job', () => {
  let farm: TestFarm;
  let dir: string;

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_ATTEMPTS: '1' } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-one-job-'));
    const pushed = await farm.request('POST', '/v1/models?name=conv', { role: 'builder', body: tinyConv(), headers: { 'content-type': 'application/octet-stream' } });
    expect(pushed.status).toBe(201);
  });
  afterAll(async () => {
    await farm.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function gpuWorker(played: PlayedGpu, name: string): Promise<KilnWorker> {
    const toolchain = createTensorRtToolchain({
      store: createStore(farm.config.store),
      gpu: played.gpu,
      trtexec: await standinTrtexec(dir, name, played, { KILN_STANDIN_MS_PER_TACTIC: '20' }),
      device: 0,
    });
    // A lock longer than the farm's 4 s test lock: the worker shares this process's event loop with
    // the API and the other worker, and a lock lost under load would let a build be taken twice
    // (BullMQ's stalled-job recovery, at least once), which is not what this test is about.
    return farm.startWorker({ toolchains: [toolchain] }, { KILN_WORKER_ID: name, KILN_LOCK_MS: '20000' });
  }

  test('a burst over every key of two same-CC GPUs: never two jobs held, both GPUs busy', async () => {
    const workers = [await gpuWorker(RTX_4080, 'gpu-4080'), await gpuWorker(L4, 'gpu-l4')];
    expect(workers[0].targets).toEqual(['trt10.9.0-sm89', 'trt10.9.0-sm89-nvidia-geforce-rtx-4080', 'trt10.9.0-sm89-ampere+', 'trt10.9.0-sm89-same-cc']);
    expect(workers[1].targets).toContain('trt10.9.0-sm89-nvidia-l4');

    const held = new Map<string, number>();
    const most = new Map<string, number>();
    const took = new Map<string, string[]>();
    for (const worker of workers) {
      held.set(worker.id, 0);
      most.set(worker.id, 0);
      took.set(worker.id, []);
      worker.jobs!.on('taken', (job) => {
        held.set(worker.id, held.get(worker.id)! + 1);
        most.set(worker.id, Math.max(most.get(worker.id)!, held.get(worker.id)!));
        took.get(worker.id)!.push(job.data.buildKey);
      });
      worker.jobs!.on('released', () => held.set(worker.id, held.get(worker.id)! - 1));
    }

    // The shared keys carry most of the burst; each SKU key can only go to its own GPU.
    const shared = ['trt10.9.0-sm89', 'trt10.9.0-sm89-ampere+', 'trt10.9.0-sm89-same-cc'];
    const keys = [...shared, ...shared, 'trt10.9.0-sm89-nvidia-geforce-rtx-4080', 'trt10.9.0-sm89-nvidia-l4'];
    const ids: string[] = [];
    for (let i = 0; i < keys.length; i++) {
      const options = { benchmark: { maxBatch: 1, warmup: 0, iterations: 3 + i } };
      const res = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'conv', targets: [keys[i]], options } });
      expect(res.status).toBe(202);
      ids.push((await res.json()).builds[0].id);
    }
    const records = [];
    for (const id of ids) records.push(await waitForBuild(farm, id, 120_000));
    expect(records.map((r) => r.state)).toEqual(ids.map(() => 'succeeded'));

    expect(Object.fromEntries(most)).toEqual({ 'gpu-4080': 1, 'gpu-l4': 1 });
    // Every build was taken once, and each GPU built its own SKU's build plus a share of the rest.
    expect([...took.values()].flat().sort()).toEqual([...ids].sort());
    const byWorker = Object.fromEntries(records.map((r) => [r.buildKey ?? r.id, r.worker]));
    expect(byWorker[ids[6]]).toBe('gpu-4080');
    expect(byWorker[ids[7]]).toBe('gpu-l4');
    for (const worker of workers) expect(took.get(worker.id)!.length).toBeGreaterThanOrEqual(2);
  }, 180_000);
});

/**
 * Crash recovery, for real: a worker process SIGKILLed mid-build loses its job lock; another
 * worker's stalled-job check takes the job back and publishes the build, once. A worker stopped
 * (SIGTERM) with no grace hands its build back to the queue for another worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { tinyConv } from '../models';
import { readEvents, startFarm, type TestFarm } from '../helpers/farm';

const ROOT = path.resolve(__dirname, '../..');

describe('worker recovery', () => {
  let farm: TestFarm;
  let child: ChildProcess | null = null;

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_LOCK_MS: '2000', KILN_STALLED_MS: '500' } });
    const pushed = await farm.request('POST', '/v1/models?name=conv', { role: 'builder', body: tinyConv(), headers: { 'content-type': 'application/octet-stream' } });
    expect(pushed.status).toBe(201);
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await farm.stop();
  });

  /** A build long enough to be caught mid-way: many timed runs in the benchmark phase. */
  // The benchmark phase runs these against the artifact and again against the reference (speed-up).
  const slow = (iterations: number) => ({ benchmark: { maxBatch: 1, warmup: 0, iterations } });

  async function submit(options: object, target: string): Promise<string> {
    const body = await (await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'conv', targets: [target], options } })).json();
    return body.builds[0].id;
  }

  async function waitFor(id: string, predicate: (e: { event: string; data: any }) => boolean) {
    return readEvents(await farm.request('GET', `/v1/builds/${id}/events?log=0`, { role: 'reader' }), predicate);
  }

  async function manifests(id: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of farm.api.ctx.store.list(`builds/${id}/`)) if (object.key.endsWith('manifest.json')) keys.push(object.key);
    return keys;
  }

  it('finishes and publishes once the build of a SIGKILLed worker', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/worker/main.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...farm.env, KILN_WORKER_ID: 'doomed', KILN_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // The child logs (a JSON line) the targets it serves once its queues are open.
    const target = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      child!.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const entry = JSON.parse(line) as { msg?: string; targets?: string[] };
          if (entry.msg?.startsWith('serving ') && entry.targets?.length) resolve(entry.targets[0]);
        }
      });
      child!.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
    });
    const id = await submit(slow(30_000), target);
    await waitFor(id, (e) => e.event === 'progress' && e.data.phase === 'benchmarking');
    expect((await farm.api.ctx.builds.get(id))?.worker).toBe('doomed');
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    child = null;
    expect(await manifests(id)).toEqual([]);

    // The rescuer runs the same spec; make it quick by letting it benchmark on its own terms.
    const rescuer = await farm.startWorker({}, { KILN_WORKER_ID: 'rescuer' });
    const events = await waitFor(id, (e) => e.event === 'state' && ['succeeded', 'failed'].includes(e.data.state));
    expect(events[events.length - 1].data.state).toBe('succeeded');
    const record = await farm.api.ctx.builds.get(id);
    expect(record).toMatchObject({ state: 'succeeded', worker: 'rescuer', publishedByThisBuild: true });
    expect(await manifests(id)).toHaveLength(1);
    const manifest = await (await farm.request('GET', `/v1/artifacts/${id}/manifest.json`, { role: 'reader' })).json();
    expect(manifest.worker.id).toBe('rescuer');
    await rescuer.stop(0);
  }, 240_000);

  it('hands the current build back on shutdown, and another worker completes it', async () => {
    const first = await farm.startWorker({}, { KILN_WORKER_ID: 'leaving' });
    // Another option set than the first test's, so another build key.
    const id = await submit(slow(30_001), first.targets[0]);
    await waitFor(id, (e) => e.event === 'progress' && e.data.phase === 'benchmarking');
    await first.stop(0);
    const record = await farm.api.ctx.builds.get(id);
    expect(record).toMatchObject({ state: 'queued', worker: 'leaving' });
    expect(record?.error).toMatch(/handed back by leaving/);

    await farm.startWorker({}, { KILN_WORKER_ID: 'staying' });
    await waitFor(id, (e) => e.event === 'state' && e.data.state === 'succeeded');
    const done = await farm.api.ctx.builds.get(id);
    // Handing back does not use up an attempt.
    expect(done).toMatchObject({ state: 'succeeded', worker: 'staying', attempts: 1 });
  }, 240_000);
});

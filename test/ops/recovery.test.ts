/**
 * Recovery without a person (docs/recovery.md), with real Redis, s3rver and workers:
 * - Redis loses its data (a private redis-server flushed, as a restart without AOF leaves it): the
 *   supervisor restores published builds, accepted requests and model names from storage and
 *   queues the unpublished builds again, which then succeed;
 * - a build whose BullMQ job vanished is queued again by the supervisor, and can be retried;
 * - a storage outage before a build starts is waited out by a paused worker, using no attempt.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis } from '../../src/local-redis';
import { tinyConv, tinyMlp } from '../models';
import { readEvents, startFarm, waitForBuild, type TestFarm } from '../helpers/farm';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';

const octets = { 'content-type': 'application/octet-stream' };

async function submit(farm: TestFarm, model: string, target: string, options: object = {}) {
  const response = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model, targets: [target], options } });
  expect(response.status).toBe(202);
  return (await response.json()) as { request: string; builds: { buildKey: string }[] };
}

/** Waits (on the build's event stream) for a state event that matches. */
async function waitForState(farm: TestFarm, buildKey: string, match: (data: { state: string; error?: string }) => boolean) {
  const events = await readEvents(await farm.request('GET', `/v1/builds/${buildKey}/events?log=0`, { role: 'reader' }), (e) => e.event === 'state' && match(e.data));
  return events[events.length - 1].data;
}

describe('after Redis lost its data', () => {
  let dir: string;
  let redis: PrivateRedis;
  let farm: TestFarm;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-recovery-redis-'));
    redis = await startPrivateRedis({ dir, persistent: false });
    farm = await startFarm({ env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await farm.stop();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('restores builds, requests and model names from storage and builds what was not published', async () => {
    expect((await farm.request('POST', '/v1/models?name=conv', { role: 'builder', body: tinyConv(), headers: octets })).status).toBe(201);
    const worker = await farm.startWorker();
    const target = worker.targets[0];
    const published = await submit(farm, 'conv', target);
    expect((await waitForBuild(farm, published.builds[0].buildKey)).state).toBe('succeeded');
    // A resubmission (every build published) is journaled too, without an fsync: restored the same.
    const answer = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'conv', targets: [target], options: {} } });
    expect(answer.status).toBe(200);
    const resubmitted = (await answer.json()) as { request: string; builds: { buildKey: string; cached: boolean }[] };
    expect(resubmitted.builds[0]).toMatchObject({ buildKey: published.builds[0].buildKey, cached: true });
    await worker.stop(0);
    farm.workers.splice(farm.workers.indexOf(worker), 1);
    const waiting = await submit(farm, 'conv', target, { benchmark: { iterations: 7 } });
    const lostKey = waiting.builds[0].buildKey;

    // What a restart without AOF leaves: an empty Redis.
    const admin = new Redis(redis.url);
    await admin.flushall();
    admin.disconnect();
    expect((await farm.request('GET', `/v1/requests/${waiting.request}`, { role: 'reader' })).status).toBe(200);

    const pass = await farm.api.reconciler.pass();
    expect(pass.recovery).toMatchObject({ restoredBuilds: 1, requeued: 1 });
    const recovery = await (await farm.request('GET', '/v1/recovery', { role: 'reader' })).json();
    expect(recovery.recovery).toMatchObject({ restoredBuilds: 1, requeued: 1, finishedAt: expect.any(String) });

    const done = await (await farm.request('GET', `/v1/builds/${published.builds[0].buildKey}`, { role: 'reader' })).json();
    expect(done).toMatchObject({ state: 'succeeded' });
    expect((await farm.request('GET', '/v1/models/conv', { role: 'reader' })).status).toBe(200);
    expect((await farm.request('GET', `/v1/requests/${published.request}`, { role: 'reader' })).status).toBe(200);
    const again = await farm.request('GET', `/v1/requests/${resubmitted.request}`, { role: 'reader' });
    expect(again.status).toBe(200);
    expect(JSON.stringify(await again.json())).toContain(published.builds[0].buildKey);
    const lost = await (await farm.request('GET', `/v1/builds/${lostKey}`, { role: 'reader' })).json();
    expect(lost.state).toBe('queued');
    expect(lost.error).toMatch(/restored from request .* after Redis lost its record; queued again/);
    expect((await farm.api.ctx.queues.jobStatus(target, lostKey)).state).toBe('waiting');

    await farm.startWorker({}, { KILN_WORKER_ID: 'after-loss' });
    expect((await waitForBuild(farm, lostKey)).state).toBe('succeeded');
    // A key never submitted is still a plain 404, which says what happened to Redis.
    const unknown = await farm.request('GET', `/v1/builds/${'e'.repeat(64)}`, { role: 'reader' });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.message).toMatch(/Redis lost its data at .* restored from storage/);
  }, 120_000);
});

describe('a build whose job vanished', () => {
  let farm: TestFarm;

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_RECONCILE_MS: '300' } });
    expect((await farm.request('POST', '/v1/models?name=mlp', { role: 'builder', body: tinyMlp(), headers: octets })).status).toBe(201);
  });
  afterAll(() => farm.stop());

  // No worker serves this target: the build stays queued unless something moves it.
  const target = 'ort1.30.0-aarch64-neon';

  it('is queued again by the supervisor', async () => {
    const { builds } = await submit(farm, 'mlp', target);
    const buildKey = builds[0].buildKey;
    await (await farm.api.ctx.queues.queue(target).getJob(buildKey))!.remove();
    const event = await waitForState(farm, buildKey, (d) => /queue job was lost/.test(d.error ?? ''));
    expect(event).toMatchObject({ state: 'queued' });
    expect((await farm.api.ctx.queues.jobStatus(target, buildKey)).state).toBe('waiting');
  });

  it('can be retried while stuck, and not while its job waits', async () => {
    const { builds } = await submit(farm, 'mlp', target, { benchmark: { iterations: 3 } });
    const buildKey = builds[0].buildKey;
    const refused = await farm.request('POST', `/v1/builds/${buildKey}/retry`, { role: 'builder' });
    expect(refused.status).toBe(409);
    expect((await refused.json()).error.message).toMatch(/its job is waiting; only failed, cancelled or stuck builds can be retried/);
    await farm.api.reconciler.stop();
    await (await farm.api.ctx.queues.queue(target).getJob(buildKey))!.remove();
    const retried = await farm.request('POST', `/v1/builds/${buildKey}/retry`, { role: 'builder' });
    expect(retried.status).toBe(202);
    expect((await farm.api.ctx.queues.jobStatus(target, buildKey)).state).toBe('waiting');
  });
});

describe('a storage outage before a build starts', () => {
  let s3: S3TestServer;
  let farm: TestFarm;

  beforeAll(async () => {
    s3 = await startS3Server('kiln-recovery');
    farm = await startFarm({ env: { ...s3.env, KILN_RETRY_DELAY_MS: '200' } });
  });
  afterAll(async () => {
    await farm.stop();
    await s3.close();
  });

  it('is waited out by a paused worker, without using an attempt', async () => {
    expect((await farm.request('POST', '/v1/models?name=conv', { role: 'builder', body: tinyConv({ seed: 3 }), headers: octets })).status).toBe(201);
    const probe = await farm.startWorker({}, { KILN_WORKER_ID: 'probe' });
    const target = probe.targets[0];
    await probe.stop(0);
    farm.workers.splice(farm.workers.indexOf(probe), 1);
    const { builds } = await submit(farm, 'conv', target);
    const buildKey = builds[0].buildKey;
    await s3.pause();
    const worker = await farm.startWorker();
    const waiting = await waitForState(farm, buildKey, (d) => /storage unavailable/.test(d.error ?? ''));
    expect(waiting.state).toBe('queued');
    expect(waiting.error).toMatch(/waiting for it to come back; this does not use up an attempt/);
    const workers = await (await farm.request('GET', '/v1/workers', { role: 'admin' })).json();
    expect(workers.workers[0].paused).toMatchObject({ dependency: 'storage' });
    const job = await farm.api.ctx.queues.queue(worker.targets[0]).getJob(buildKey);
    expect(job?.attemptsMade).toBe(0);

    await s3.resume();
    const done = await waitForBuild(farm, buildKey);
    expect(done).toMatchObject({ state: 'succeeded', attempts: 1 });
  }, 120_000);
});

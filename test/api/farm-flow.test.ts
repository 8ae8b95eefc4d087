/**
 * The whole path on the CPU target, for real: upload -> submit -> BullMQ -> worker (ONNX Runtime)
 * -> storage -> resolve -> fetch, over real HTTP, with a resubmission answered from the cache.
 */
import { createHash } from 'node:crypto';
import { tinyConv } from '../models';
import { Redis } from 'ioredis';
import { LOG_KEPT_AFTER_PUBLISH_SECONDS } from '../../src/state/build-events';
import { redisKeys } from '../../src/state/redis';
import { readEvents, REDIS_URL, startFarm, type TestFarm } from '../helpers/farm';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('farm flow on the CPU target', () => {
  let farm: TestFarm;
  let target: string;
  const model = tinyConv();

  beforeAll(async () => {
    farm = await startFarm();
    const worker = await farm.startWorker();
    target = worker.targets[0];
  });
  afterAll(() => farm.stop());

  const options = { benchmark: { maxBatch: 4, warmup: 1, iterations: 3 } };
  let buildId: string;

  it('stores an uploaded model once, by sha256, with its graph and a label', async () => {
    const first = await farm.request('POST', '/v1/models?name=tiny-conv', { role: 'builder', body: model, headers: { 'content-type': 'application/octet-stream' } });
    expect(first.status).toBe(201);
    const record = await first.json();
    expect(record.sha256).toBe(sha256(model));
    expect(record.labels).toEqual(['tiny-conv@1']);
    expect(record.info.inputs[0]).toMatchObject({ name: 'x', elementType: 'float', dims: ['batch', 3, 16, 16] });

    const again = await farm.request('POST', '/v1/models?name=tiny-conv', { role: 'builder', body: model, headers: { 'content-type': 'application/octet-stream' } });
    expect(again.status).toBe(200);
    expect((await again.json()).labels).toEqual(['tiny-conv@1']);

    const byName = await (await farm.request('GET', '/v1/models/tiny-conv@1', { role: 'reader' })).json();
    expect(byName.sha256).toBe(record.sha256);
  });

  it('lists the live worker and the target it serves', async () => {
    const body = await (await farm.request('GET', '/v1/workers')).json();
    expect(body.workers).toHaveLength(1);
    expect(body.workers[0].targets).toEqual([target]);
    expect(target).toMatch(/^ort\d+\.\d+\.\d+-(x86_64|aarch64)-(avx512|avx2|baseline|neon)$/);
  });

  it('builds, validates, benchmarks and publishes, streaming progress through every phase', async () => {
    const submitted = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'tiny-conv', targets: [target], options } });
    expect(submitted.status).toBe(202);
    const body = await submitted.json();
    expect(body.builds).toHaveLength(1);
    expect(body.builds[0]).toMatchObject({ target, cached: false });
    expect(body.builds[0].warning).toBeUndefined();
    buildId = body.builds[0].buildKey;
    expect(buildId).toMatch(/^[0-9a-f]{64}$/);
    // The build key's earlier name stays readable for existing clients.
    expect(body.builds[0].id).toBe(buildId);

    const events = await readEvents(await farm.request('GET', `/v1/builds/${buildId}/events`, { role: 'reader' }), (e) => e.event === 'state' && ['succeeded', 'failed'].includes(e.data.state));
    const phases = [...new Set(events.filter((e) => e.event === 'progress').map((e) => e.data.phase))];
    expect(phases).toEqual(expect.arrayContaining(['building', 'validating', 'benchmarking', 'publishing']));
    expect(events.some((e) => e.event === 'log')).toBe(true);
    expect(events[events.length - 1].data.state).toBe('succeeded');
    expect(events.every((e) => e.data.buildKey === buildId && e.data.buildId === buildId)).toBe(true);

    const build = await (await farm.request('GET', `/v1/builds/${buildId}`, { role: 'reader' })).json();
    expect(build).toMatchObject({ buildKey: buildId, id: buildId, state: 'succeeded', percent: 100, published: true, verdict: 'pass' });
    expect(build.report.validation.outputs[0]).toMatchObject({ name: 'logits', mismatched: 0 });
    expect(build.report.benchmark.rows.map((r: { batch: number }) => r.batch)).toEqual([1, 2, 4]);
    expect(build.artifacts.map((a: { name: string }) => a.name)).toEqual(expect.arrayContaining(['model.optimized.onnx', 'report.json', 'build.log']));

    // build.log is in storage now: Redis keeps its lines only for late watchers, then lets them go.
    const redis = new Redis(REDIS_URL);
    try {
      const ttl = await redis.ttl(redisKeys(farm.config.prefix).buildLog(buildId));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(LOG_KEPT_AFTER_PUBLISH_SECONDS);
    } finally {
      redis.disconnect();
    }
    const log = await farm.request('GET', `/v1/builds/${buildId}/log`, { role: 'reader' });
    expect(await log.text()).toMatch(/published by/);
  });

  it('resolves the artifact for the CPU target and serves it with sha256, ranges and ETag', async () => {
    const resolved = await (await farm.request('GET', `/v1/resolve?model=tiny-conv&target=${target}`, { role: 'reader' })).json();
    expect(resolved).toMatchObject({ rung: 'cpu', buildKey: buildId, target });
    const primary = resolved.files.find((f: { name: string }) => f.name === resolved.primary);
    const download = await farm.request('GET', primary.url, { role: 'reader' });
    expect(download.status).toBe(200);
    const bytes = new Uint8Array(await download.arrayBuffer());
    expect(sha256(bytes)).toBe(primary.sha256);
    expect(download.headers.get('x-kiln-sha256')).toBe(primary.sha256);

    const partial = await farm.request('GET', primary.url, { role: 'reader', headers: { range: 'bytes=4-99' } });
    expect(partial.status).toBe(206);
    expect(Buffer.from(await partial.arrayBuffer())).toEqual(Buffer.from(bytes.subarray(4, 100)));
    const cached = await farm.request('GET', primary.url, { role: 'reader', headers: { 'if-none-match': download.headers.get('etag')! } });
    expect(cached.status).toBe(304);

    const other = await (await farm.request('GET', '/v1/resolve?model=tiny-conv&target=ort1.30.0-aarch64-neon', { role: 'reader' })).json();
    expect(other.rung).toBe('onnx');
    expect(other.files[0].sha256).toBe(sha256(model));
  });

  it('answers a resubmission from the cache and enqueues nothing', async () => {
    const again = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: sha256(model), targets: [target], options } });
    expect(again.status).toBe(200);
    const body = await again.json();
    expect(body.builds).toEqual([expect.objectContaining({ id: buildId, cached: true, state: 'succeeded' })]);
    const counts = await farm.api.ctx.queues.depth(target);
    expect(counts).toMatchObject({ waiting: 0, active: 0, delayed: 0 });

    const request = await (await farm.request('GET', `/v1/requests/${body.request}`, { role: 'reader' })).json();
    expect(request).toMatchObject({ state: 'succeeded', counts: { succeeded: 1 } });
  });

  it('serves the build log and lists builds with filters and cursor pagination', async () => {
    const log = await (await farm.request('GET', `/v1/builds/${buildId}/log`, { role: 'reader' })).text();
    expect(log).toContain('== validating');

    // Two more builds of the same model (other option sets) to paginate over; no worker needed.
    for (const iterations of [4, 5]) {
      await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'tiny-conv', targets: ['ort1.30.0-aarch64-neon'], options: { benchmark: { iterations } } } });
    }
    const page1 = await (await farm.request('GET', '/v1/builds?limit=2', { role: 'reader' })).json();
    expect(page1.builds).toHaveLength(2);
    const page2 = await (await farm.request('GET', `/v1/builds?limit=2&cursor=${page1.nextCursor}`, { role: 'reader' })).json();
    expect(page2.builds.map((b: { id: string }) => b.id)).toEqual([buildId]);
    expect(page2.nextCursor).toBeNull();
    const succeeded = await (await farm.request('GET', '/v1/builds?state=succeeded&model=tiny-conv', { role: 'reader' })).json();
    expect(succeeded.builds.map((b: { id: string }) => b.id)).toEqual([buildId]);
    const queued = await (await farm.request('GET', '/v1/builds?state=queued&target=ort1.30.0-aarch64-neon', { role: 'reader' })).json();
    expect(queued.builds).toHaveLength(2);
    const bad = await farm.request('GET', '/v1/builds?state=done', { role: 'reader' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/query\.state/);
  });

  it('cancels a queued build and retries it', async () => {
    const body = await (await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'tiny-conv', targets: ['ort1.30.0-aarch64-neon'], options: { benchmark: { iterations: 9 } } } })).json();
    const id = body.builds[0].id;
    expect(body.builds[0].warning).toMatch(/No live worker serves ort1\.30\.0-aarch64-neon/);
    const cancelled = await farm.request('DELETE', `/v1/builds/${id}`, { role: 'builder' });
    expect(await cancelled.json()).toEqual({ buildKey: id, id, state: 'cancelled' });
    expect((await farm.api.ctx.queues.depth('ort1.30.0-aarch64-neon')).waiting).toBe(2);
    const again = await farm.request('DELETE', `/v1/builds/${id}`, { role: 'builder' });
    expect(again.status).toBe(409);
    const retried = await farm.request('POST', `/v1/builds/${id}/retry`, { role: 'builder' });
    expect(retried.status).toBe(202);
    expect((await farm.api.ctx.queues.depth('ort1.30.0-aarch64-neon')).waiting).toBe(3);
  });

  it('publishes an OpenAPI document generated from the request schemas', async () => {
    const doc: any = await (await fetch(`${farm.url}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    const submit = doc.paths['/v1/builds'].post.requestBody.content['application/json'].schema;
    expect(submit.required).toEqual(expect.arrayContaining(['model', 'targets']));
    expect(doc.paths['/v1/resolve'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['model', 'target', 'cc', 'trt', 'sku']));
  });
});

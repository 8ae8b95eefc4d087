/**
 * Cleanup on a running farm, on both stores (the filesystem store and S3 on s3rver): deleting a
 * model, retention, and the garbage collector, down to the bytes left in the store.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { collectGarbage } from '../../src/cleanup/collect-garbage';
import type { Manifest } from '../../src/core/manifest';
import { tokenIdOf } from '../../src/state/api-tokens';
import { artifactKey, manifestKey } from '../../src/storage/layout';
import { readManifest } from '../../src/storage/publish';
import { tinyMlp } from '../models';
import { startFarm, TOKENS, waitForBuild, type TestFarm } from '../helpers/farm';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const HOUR = 60 * 60 * 1000;
// Several real builds per test: a shared, loaded machine takes longer than jest's default minute.
jest.setTimeout(180_000);
const CLEANUP_ENV = { KILN_GC_GRACE_SECONDS: '0', KILN_GC_INTERVAL_SECONDS: '0', KILN_RETENTION_KEEP_BUILDS: '1', KILN_RETENTION_FAILED_DAYS: '1' };

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3Server('kiln-cleanup');
});
afterAll(async () => {
  await s3.close();
});

const backends: [string, () => Record<string, string>][] = [
  ['filesystem', () => ({})],
  [
    's3 (s3rver)',
    () => ({ ...s3.env, KILN_S3_PREFIX: `cleanup-${Date.now()}/` }),
  ],
];

describe.each(backends)('cleanup (%s)', (_name, storeEnv) => {
  let farm: TestFarm;
  let target: string;
  const builderId = tokenIdOf(sha256(TOKENS.builder));

  beforeAll(async () => {
    farm = await startFarm({ env: { ...CLEANUP_ENV, ...storeEnv() } });
    await farm.startWorker();
    target = farm.workers[0].targets[0];
  });
  afterAll(async () => {
    await farm.stop();
  });

  async function push(model: Buffer, name: string): Promise<void> {
    const pushed = await farm.request('POST', `/v1/models?name=${name}`, { role: 'builder', body: model, headers: { 'content-type': 'application/octet-stream' } });
    expect(pushed.status).toBe(201);
  }

  async function build(model: string, iterations: number): Promise<string> {
    const submitted = await (await farm.request('POST', '/v1/builds', { role: 'builder', body: { model, targets: [target], options: { benchmark: { iterations, maxBatch: 1 } } } })).json();
    const done = await waitForBuild(farm, submitted.builds[0].id);
    expect(done.state).toBe('succeeded');
    return done.buildKey;
  }

  async function storedKeys(prefix = ''): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for await (const info of farm.api.ctx.store.list(prefix)) found.set(info.key, info.size);
    return found;
  }

  const storedBytesOf = async (tokenId: string) => Number((await farm.api.ctx.redis.hget(farm.api.ctx.keys.tokenStoredBytes, tokenId)) ?? 0);

  /**
   * The keys every published manifest lists, the manifests themselves, the models, the journals of
   * their requests and the farm's public signing keys: what may be stored.
   */
  async function expectedKeys(): Promise<Set<string>> {
    const expected = new Set<string>();
    for (const key of (await storedKeys('models/')).keys()) expected.add(key);
    for (const key of (await storedKeys('keys/')).keys()) expected.add(key);
    const models = new Set([...(await storedKeys('models/')).keys()].filter((k) => k.endsWith('.onnx')).map((k) => k.slice('models/'.length, -'.onnx'.length)));
    for (const key of (await storedKeys('requests/')).keys()) {
      const { body } = await farm.api.ctx.store.get(key);
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      if (models.has((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { modelId: string }).modelId)) expected.add(key);
    }
    for (const key of (await storedKeys('builds/')).keys()) {
      if (!key.endsWith('/manifest.json')) continue;
      const manifest = (await readManifest(farm.api.ctx.store, key.split('/')[1])) as Manifest;
      expected.add(key);
      for (const file of manifest.files) expected.add(artifactKey(manifest.buildKey, file));
    }
    return expected;
  }

  it('deletes a model with its labels, builds and the artifact files no other build lists, and frees its quota', async () => {
    const kept = tinyMlp({ seed: 1 });
    const doomed = tinyMlp({ seed: 2 });
    await push(kept, 'kept');
    const before = await storedBytesOf(builderId);
    await push(doomed, 'doomed');
    expect(await storedBytesOf(builderId)).toBe(before + doomed.length);
    const keptBuild = await build('kept', 2);
    const doomedBuild = await build('doomed', 2);
    const keptManifest = (await readManifest(farm.api.ctx.store, keptBuild))!;

    expect((await farm.request('DELETE', '/v1/models/doomed', { role: 'reader' })).status).toBe(403);
    const answer = await farm.request('DELETE', '/v1/models/doomed', { role: 'builder' });
    expect(answer.status).toBe(200);
    const { deleted } = await answer.json();
    expect(deleted).toMatchObject({ sha256: sha256(doomed), labels: ['doomed@1'], builds: 1, pendingFiles: 0, running: [] });
    expect(deleted.files).toBeGreaterThanOrEqual(3); // the model, the manifest, its own files
    expect(deleted.bytesFreed).toBeGreaterThan(doomed.length);
    expect(await storedBytesOf(builderId)).toBe(before);

    expect((await farm.request('GET', '/v1/models/doomed', { role: 'reader' })).status).toBe(404);
    expect((await farm.request('GET', `/v1/builds/${doomedBuild}`, { role: 'reader' })).status).toBe(404);
    expect(await farm.api.ctx.store.head(manifestKey(doomedBuild))).toBeNull();
    // Nothing of the deleted model is left, and every file the other model's set lists still is.
    expect(new Set((await storedKeys()).keys())).toEqual(new Set([...(await expectedKeys()), ...(await storedKeys('health/')).keys()]));
    for (const file of keptManifest.files) expect((await farm.api.ctx.store.head(artifactKey(keptBuild, file)))?.sha256 ?? file.sha256).toBe(file.sha256);
    const primary = await farm.request('GET', `/v1/artifacts/${keptBuild}/${keptManifest.primary}`, { role: 'reader' });
    expect([200, 302]).toContain(primary.status);

    // Idempotent by sha256, for the uploader too; a name that names nothing is a 404.
    const again = await farm.request('DELETE', `/v1/models/${sha256(doomed)}`, { role: 'builder' });
    expect(again.status).toBe(200);
    expect((await again.json()).deleted).toMatchObject({ builds: 0, files: 0, bytesFreed: 0 });
    expect((await farm.request('DELETE', '/v1/models/doomed', { role: 'admin' })).status).toBe(404);
  });

  it('refuses to delete a model while a build of it runs, and asks that build to stop', async () => {
    const model = tinyMlp({ seed: 3 });
    await push(model, 'busy');
    const buildKey = await build('busy', 2);
    // A worker holds it (as far as the record says): the deletion must wait for it to end.
    await farm.api.ctx.builds.update(buildKey, { state: 'active' });
    const refused = await farm.request('DELETE', '/v1/models/busy', { role: 'admin' });
    expect(refused.status).toBe(409);
    expect((await refused.json()).error).toMatchObject({ code: 'builds_running' });
    expect(await farm.api.ctx.builds.get(buildKey)).toMatchObject({ cancelRequested: true });
    expect((await farm.request('GET', '/v1/models/busy', { role: 'reader' })).status).toBe(200);
    await farm.api.ctx.builds.update(buildKey, { state: 'cancelled' });
    expect((await farm.request('DELETE', '/v1/models/busy', { role: 'admin' })).status).toBe(200);
  });

  it('keeps the newest build per model and target, removes failed builds after their days, and stores shared bytes once', async () => {
    await push(tinyMlp({ seed: 4 }), 'kept-twice');
    const older = await build('kept-twice', 2);
    const newer = await build('kept-twice', 3);
    const [olderManifest, newerManifest] = [(await readManifest(farm.api.ctx.store, older))!, (await readManifest(farm.api.ctx.store, newer))!];
    const shared = olderManifest.files.filter((f) => newerManifest.files.some((n) => n.sha256 === f.sha256));
    // The optimised model is the same bytes for both build keys: one blob.
    expect(shared.map((f) => f.name)).toContain(olderManifest.primary);
    expect(artifactKey(older, shared[0])).toBe(artifactKey(newer, shared[0]));

    const failed = await build('kept', 5);
    await farm.api.ctx.builds.update(failed, { state: 'failed', finishedAt: new Date(Date.now() - 2 * 24 * HOUR).toISOString() });

    const gc = await farm.request('POST', '/v1/admin/gc', { role: 'admin', body: {} });
    expect(gc.status).toBe(200);
    const report = await gc.json();
    expect(report.retention.builds).toBeGreaterThanOrEqual(2);
    expect((await farm.request('GET', `/v1/builds/${older}`, { role: 'reader' })).status).toBe(404);
    expect((await farm.request('GET', `/v1/builds/${failed}`, { role: 'reader' })).status).toBe(404);
    expect((await farm.request('GET', `/v1/builds/${newer}`, { role: 'reader' })).status).toBe(200);
    for (const file of newerManifest.files) expect(await farm.api.ctx.store.head(artifactKey(newer, file))).not.toBeNull();
    expect((await farm.request('POST', '/v1/admin/gc', { role: 'builder', body: {} })).status).toBe(403);
  });

  it('collects unreferenced files, stale temp files and dead work directories, leaving 0 leaked bytes and the health probe', async () => {
    expect((await farm.request('GET', '/healthz', { role: null })).status).toBe(200);
    const { ctx } = farm.api;
    const hourAgo = new Date(Date.now() - 2 * HOUR);
    await ctx.store.put(`blobs/${sha256('orphan')}`, 'orphan');
    await ctx.store.put(`builds/${sha256('lost build')}/${sha256('x')}/engine.plan`, 'x');
    await mkdir(ctx.config.tmpDir, { recursive: true });
    const upload = path.join(ctx.config.tmpDir, 'upload-abandoned');
    await writeFile(upload, 'partial upload');
    await utimes(upload, hourAgo, hourAgo);
    const deadWork = path.join(ctx.config.tmpDir, `build-${'d'.repeat(12)}-x1`);
    const liveWork = path.join(ctx.config.tmpDir, `build-${'e'.repeat(12)}-x2`);
    await mkdir(deadWork);
    await mkdir(liveWork);
    await writeFile(path.join(deadWork, 'engine.plan'), 'dead engine');
    await ctx.redis.zadd(ctx.keys.buildsByState('active'), 1, 'e'.repeat(64));

    const report = await collectGarbage(ctx);
    expect(report.store.deletedFiles).toBeGreaterThanOrEqual(2);
    expect(report.localTemp).toEqual({ entries: 2, bytes: 'partial upload'.length + 'dead engine'.length });
    expect(report.bytesFreed).toBeGreaterThanOrEqual('orphan'.length + 'x'.length + report.localTemp.bytes);
    expect((await readdir(ctx.config.tmpDir)).filter((n) => n.startsWith('build-') || n.startsWith('upload-'))).toEqual([path.basename(liveWork)]);
    await ctx.redis.zrem(ctx.keys.buildsByState('active'), 'e'.repeat(64));

    // 0 leaked bytes: everything stored is a model, a manifest, a file a manifest lists, or the probe.
    const stored = await storedKeys();
    const leaked = [...stored.keys()].filter((key) => !key.startsWith('health/') && !key.startsWith('timing-caches/'));
    expect(new Set(leaked)).toEqual(await expectedKeys());
    expect([...stored.keys()].some((key) => key.startsWith('health/'))).toBe(true);
    expect((await collectGarbage(ctx)).bytesFreed).toBe(0);
  });

  it('has a worker remove the work directories of builds no worker runs when it starts', async () => {
    const dir = path.join(farm.config.tmpDir, `build-${'f'.repeat(12)}-dead`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'model.onnx'), 'left by a killed worker');
    await farm.startWorker();
    expect(await readdir(farm.config.tmpDir)).not.toContain(path.basename(dir));
  });
});

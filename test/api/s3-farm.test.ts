/** The farm on the S3 store (a real S3-protocol server): artifacts are served as presigned redirects. */
import { createHash } from 'node:crypto';
import { tinyMlp } from '../models';
import { startFarm, waitForBuild, type TestFarm } from '../helpers/farm';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';

describe('farm on S3 storage', () => {
  let s3: S3TestServer;
  let farm: TestFarm;
  const model = tinyMlp();

  beforeAll(async () => {
    s3 = await startS3Server('kiln-farm');
    farm = await startFarm({
      env: {
        KILN_STORE: 's3',
        KILN_S3_BUCKET: s3.bucket,
        KILN_S3_ENDPOINT: s3.endpoint,
        KILN_S3_REGION: s3.region,
        KILN_S3_FORCE_PATH_STYLE: 'true',
        KILN_S3_ACCESS_KEY_ID: s3.accessKeyId,
        KILN_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        KILN_S3_PREFIX: 'farm/',
        // s3rver ignores conditional-write headers (see test/helpers/s3-server.ts).
        KILN_S3_CONDITIONAL_WRITES: 'emulated',
      },
    });
    await farm.startWorker();
  });
  afterAll(async () => {
    await farm.stop();
    await s3.close();
  });

  it('builds, publishes to S3 and redirects downloads to presigned URLs', async () => {
    expect(farm.api.ctx.store.kind).toBe('s3');
    const pushed = await farm.request('POST', '/v1/models?name=mlp', { role: 'builder', body: model, headers: { 'content-type': 'application/octet-stream' } });
    expect(pushed.status).toBe(201);
    const target = farm.workers[0].targets[0];
    const submitted = await (await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'mlp', targets: [target], options: { benchmark: { iterations: 2, maxBatch: 2 } } } })).json();
    const build = await waitForBuild(farm, submitted.builds[0].id);
    expect(build).toMatchObject({ state: 'succeeded', published: true });

    const resolved = await (await farm.request('GET', `/v1/resolve?model=mlp&target=${target}`, { role: 'reader' })).json();
    const primary = resolved.files.find((f: { name: string }) => f.name === resolved.primary);
    const redirect = await farm.request('GET', primary.url, { role: 'reader' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location.startsWith(s3.endpoint)).toBe(true);
    expect(redirect.headers.get('x-kiln-sha256')).toBe(primary.sha256);
    const bytes = Buffer.from(await (await fetch(location)).arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(primary.sha256);

    const modelRedirect = await farm.request('GET', '/v1/models/mlp/file', { role: 'reader' });
    expect(modelRedirect.status).toBe(302);
    const modelBytes = Buffer.from(await (await fetch(modelRedirect.headers.get('location')!)).arrayBuffer());
    expect(modelBytes.equals(model)).toBe(true);
  });

  it('rebuilds the Redis indexes from the manifests and model records in S3', async () => {
    await farm.api.ctx.redis.del(farm.api.ctx.keys.models, farm.api.ctx.keys.published(createHash('sha256').update(model).digest('hex')));
    const before = await farm.request('GET', '/v1/models/mlp', { role: 'reader' });
    expect(before.status).toBe(404);
    const reindexed = await (await farm.request('POST', '/v1/admin/reindex')).json();
    expect(reindexed).toEqual({ artifacts: 1, models: 1 });
    const after = await (await farm.request('GET', '/v1/models/mlp', { role: 'reader' })).json();
    expect(after.artifacts).toHaveLength(1);
  });
});

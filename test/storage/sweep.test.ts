/**
 * Content-addressed artifact files and the sweep that collects unlisted ones, on both stores:
 * the filesystem store and the S3 store on a real S3-protocol server (s3rver).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeBuildSpec } from '../../src/core/build-spec';
import type { Manifest, ManifestFile } from '../../src/core/manifest';
import { BuildOptionsSchema } from '../../src/core/options';
import { parseTargetKey } from '../../src/core/target';
import type { ArtifactStore } from '../../src/storage/artifact-store';
import { FsStore } from '../../src/storage/fs-store';
import { artifactKey, manifestKey } from '../../src/storage/layout';
import { publishArtifactSet, readManifest } from '../../src/storage/publish';
import { S3Store } from '../../src/storage/s3-store';
import { sweepUnreferenced } from '../../src/storage/sweep';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const HOUR = 60 * 60 * 1000;
const later = () => new Date(Date.now() + 2 * HOUR);

let s3: S3TestServer;
let run = 0;
beforeAll(async () => {
  s3 = await startS3Server('kiln-sweep');
});
afterAll(async () => {
  await s3.close();
});

const stores: [string, (dir: string) => ArtifactStore][] = [
  ['filesystem', (dir) => new FsStore(dir)],
  [
    's3 (s3rver)',
    () =>
      new S3Store({
        endpoint: s3.endpoint,
        bucket: s3.bucket,
        region: s3.region,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        forcePathStyle: true,
        conditionalWrites: 'emulated',
        prefix: `sweep-${++run}/`,
      }),
  ],
];

describe.each(stores)('artifact files by content, and the sweep (%s)', (_name, makeStore) => {
  let dir: string;
  let store: ArtifactStore;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-sweep-'));
    store = makeStore(path.join(dir, 'store'));
  });
  afterEach(async () => {
    await store.close?.();
    await rm(dir, { recursive: true, force: true });
  });

  async function keys(prefix: string): Promise<string[]> {
    const found: string[] = [];
    for await (const info of store.list(prefix)) found.push(info.key);
    return found.sort();
  }

  async function publish(buildKey: string, engine: string, log: string) {
    await writeFile(path.join(dir, `${buildKey}.plan`), engine);
    await writeFile(path.join(dir, `${buildKey}.log`), log);
    return publishArtifactSet(store, {
      buildKey,
      files: [
        { name: 'engine.plan', path: path.join(dir, `${buildKey}.plan`), role: 'engine' },
        { name: 'build.log', path: path.join(dir, `${buildKey}.log`), role: 'log' },
      ],
      makeManifest: (files) => manifest(buildKey, files),
    });
  }

  function manifest(buildKey: string, files: ManifestFile[]): Manifest {
    return {
      schema: 1,
      buildKey,
      spec: makeBuildSpec(sha256('model'), parseTargetKey('ort1.30.0-x86_64-avx2'), BuildOptionsSchema.parse({})),
      primary: 'engine.plan',
      files,
      worker: { id: 'w', host: 'test', toolchains: {}, hardware: {} },
      validation: 'pass',
      publishedAt: new Date().toISOString(),
      buildSeconds: 1,
    };
  }

  it('stores the same bytes once across build keys, and frees them only when no manifest lists them', async () => {
    const [a, b] = [sha256('build a'), sha256('build b')];
    await publish(a, 'the same engine', 'log of a\n');
    await publish(b, 'the same engine', 'log of b\n');
    expect(await keys('blobs/')).toEqual([`blobs/${sha256('the same engine')}`, `blobs/${sha256('log of a\n')}`, `blobs/${sha256('log of b\n')}`].sort());
    expect(await keys('builds/')).toEqual([manifestKey(a), manifestKey(b)].sort());

    await store.delete(manifestKey(a));
    const first = await sweepUnreferenced(store, { graceMs: HOUR, now: later() });
    expect(first).toMatchObject({ manifests: 1, deletedFiles: 1, bytesFreed: 'log of a\n'.length, youngFiles: 0 });
    // b's manifest still lists the shared engine: every file it lists is there, and is what it says.
    const manifestB = (await readManifest(store, b))!;
    for (const file of manifestB.files) expect((await store.head(artifactKey(b, file)))?.size).toBe(file.size);

    await store.delete(manifestKey(b));
    const second = await sweepUnreferenced(store, { graceMs: HOUR, now: later() });
    expect(second).toMatchObject({ manifests: 0, deletedFiles: 2, bytesFreed: 'the same engine'.length + 'log of b\n'.length });
    expect(await keys('blobs/')).toEqual([]);
  });

  it('keeps unlisted files younger than the grace: a set being published lists them in a moment', async () => {
    await store.put(`blobs/${sha256('uploading')}`, 'uploading');
    const report = await sweepUnreferenced(store, { graceMs: HOUR });
    expect(report).toMatchObject({ deletedFiles: 0, youngFiles: 1, youngBytes: 'uploading'.length });
    expect(await keys('blobs/')).toEqual([`blobs/${sha256('uploading')}`]);
  });

  it('reads and keeps sets published before blobs, sweeps their unlisted files, and never touches other keys', async () => {
    const old = sha256('old build');
    const engineSha = sha256('old engine');
    const legacyFile = { name: 'engine.plan', sha256: engineSha, size: 'old engine'.length, role: 'engine' };
    expect(artifactKey(old, legacyFile)).toBe(`builds/${old}/${engineSha}/engine.plan`);
    await store.put(artifactKey(old, legacyFile), 'old engine');
    await store.put(manifestKey(old), JSON.stringify(manifest(old, [legacyFile])));
    // What a worker that lost a publish race left: a file under the key that no manifest lists.
    const loser = `builds/${old}/${sha256('loser engine')}/engine.plan`;
    await store.put(loser, 'loser engine');
    for (const key of ['models/x.json', 'health/probe', 'timing-caches/trt10.9.0-sm89.cache', 'calibration/c.cache']) await store.put(key, 'kept');

    const report = await sweepUnreferenced(store, { graceMs: HOUR, now: later() });
    expect(report).toMatchObject({ manifests: 1, deletedFiles: 1, bytesFreed: 'loser engine'.length });
    expect(await keys('builds/')).toEqual([artifactKey(old, legacyFile), manifestKey(old)].sort());
    expect((await readManifest(store, old))!.files).toEqual([legacyFile]);
    for (const key of ['models/x.json', 'health/probe', 'timing-caches/trt10.9.0-sm89.cache', 'calibration/c.cache']) {
      expect(await store.head(key)).not.toBeNull();
    }
  });

  it('protects every file of a build whose manifest cannot be read', async () => {
    const broken = sha256('broken');
    await store.put(`builds/${broken}/${sha256('e')}/engine.plan`, 'e');
    await store.put(manifestKey(broken), '{"schema": 1, "buildKey": "cut sh');
    const report = await sweepUnreferenced(store, { graceMs: 0, now: later() });
    expect(report.deletedFiles).toBe(0);
    expect(await keys('builds/')).toHaveLength(2);
  });

  it('considers only the keys asked about when given some (what deleting a model does)', async () => {
    const [lonely, other] = [`blobs/${sha256('lonely')}`, `blobs/${sha256('other')}`];
    await store.put(lonely, 'lonely');
    await store.put(other, 'other');
    const report = await sweepUnreferenced(store, { graceMs: 0, only: [lonely, `blobs/${sha256('absent')}`], now: later() });
    expect(report).toMatchObject({ deletedFiles: 1, bytesFreed: 'lonely'.length });
    expect(await keys('blobs/')).toEqual([other]);
  });

  it('uploads a stored blob again when it is too old to rely on, which makes it young', async () => {
    const k = sha256('k');
    await publish(k, 'engine', 'log\n');
    await store.delete(manifestKey(k));
    const blob = `blobs/${sha256('engine')}`;
    const before = (await store.head(blob))!.lastModified.getTime();
    await new Promise((resolve) => setTimeout(resolve, 1100)); // S3 keeps lastModified in whole seconds
    await writeFile(path.join(dir, 'e'), 'engine');
    await publishArtifactSet(store, {
      buildKey: k,
      files: [{ name: 'engine.plan', path: path.join(dir, 'e'), role: 'engine' }],
      makeManifest: (files) => manifest(k, files),
      reuseWithinMs: 0,
    });
    expect((await store.head(blob))!.lastModified.getTime()).toBeGreaterThan(before);
  });
});

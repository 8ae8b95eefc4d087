/**
 * The ArtifactStore contract: one suite that every backend runs (fs-store.test.ts, s3-store.test.ts).
 * What a backend does not guarantee is declared in its capabilities, and the tests that need it
 * show as skipped rather than silently passing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { makeBuildSpec } from '../../src/core/build-spec';
import type { Manifest, ManifestFile } from '../../src/core/manifest';
import { BuildOptionsSchema } from '../../src/core/options';
import { parseTargetKey } from '../../src/core/target';
import type { ArtifactStore, ObjectInfo, PutOptions } from '../../src/storage/artifact-store';
import {
  IntegrityError,
  InvalidKeyError,
  NotFoundError,
  PreconditionFailedError,
  RangeNotSatisfiableError,
  StoreError,
} from '../../src/storage/errors';
import { artifactKey, manifestKey } from '../../src/storage/layout';
import { downloadToFile, publishArtifactSet, readManifest } from '../../src/storage/publish';

export interface StoreCapabilities {
  /** Conditional puts hold against concurrent writers (false: a head before the put, racy). */
  atomicConditionalWrites: boolean;
  /** presignedUrl returns a URL that a plain HTTP client can GET. */
  presignedUrls: boolean;
  /** list() reports each object's sha256 (S3 listings carry no metadata). */
  listsSha256: boolean;
  /** list() yields keys in byte order, as AWS S3 does; s3rver walks its directories instead. */
  listsInKeyOrder: boolean;
}

export interface StoreUnderTest {
  store: ArtifactStore;
  /** Closes the store and removes everything it wrote. */
  destroy(): Promise<void>;
}

const MiB = 1024 * 1024;

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function content(store: ArtifactStore, key: string): Promise<string> {
  return (await readAll((await store.get(key)).body)).toString();
}

async function keys(store: ArtifactStore, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for await (const info of store.list(prefix)) found.push(info.key);
  return found;
}

const sorted = (list: string[]) => [...list].sort();

/** `mib` MiB of deterministic, incompressible bytes, generated lazily in 1 MiB chunks. */
function bigBody(mib: number): { stream: () => Readable; sha256: string; size: number; byteAt: (offset: number) => number } {
  const base = randomBytes(MiB + 7);
  const chunk = (i: number) => base.subarray(i % 7, (i % 7) + MiB);
  const hash = createHash('sha256');
  for (let i = 0; i < mib; i++) hash.update(chunk(i));
  return {
    stream: () =>
      Readable.from(
        (function* () {
          for (let i = 0; i < mib; i++) yield chunk(i);
        })(),
      ),
    sha256: hash.digest('hex'),
    size: mib * MiB,
    byteAt: (offset) => chunk(Math.floor(offset / MiB))[offset % MiB],
  };
}

/** Yields `before` bytes, then fails like a dropped connection. */
function failingStream(before: number): Readable {
  return Readable.from(
    (async function* () {
      yield Buffer.alloc(before, 1);
      throw new Error('source went away');
    })(),
  );
}

export function describeStoreContract(name: string, create: () => Promise<StoreUnderTest>, caps: StoreCapabilities): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: ArtifactStore;

    beforeEach(async () => {
      subject = await create();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.destroy();
    });

    describe('put, get, head', () => {
      it('round-trips Buffers, strings and streams, reporting sha256, size and content type', async () => {
        const bytes = randomBytes(1000);
        const put = await store.put('models/a.onnx', bytes, { sha256: sha256(bytes), size: 1000, contentType: 'application/onnx' });
        expect(put).toMatchObject({ key: 'models/a.onnx', size: 1000, sha256: sha256(bytes), contentType: 'application/onnx' });
        expect(Number.isFinite(put.lastModified.getTime())).toBe(true);

        const head = await store.head('models/a.onnx');
        expect(head).toMatchObject({ key: 'models/a.onnx', size: 1000, sha256: sha256(bytes), etag: put.etag, contentType: 'application/onnx' });
        const got = await store.get('models/a.onnx');
        expect(Buffer.compare(await readAll(got.body), bytes)).toBe(0);
        expect(got.info).toMatchObject({ size: 1000, sha256: sha256(bytes), etag: put.etag });
        expect(got.range).toBeUndefined();

        expect(await store.put('notes.txt', 'hello')).toMatchObject({ size: 5, sha256: sha256('hello'), contentType: 'application/octet-stream' });
        expect(await content(store, 'notes.txt')).toBe('hello');

        // A stream with no expected sha256: the store works it out and keeps it.
        const streamed = await store.put('streamed.bin', Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
        expect(streamed).toMatchObject({ size: 4, sha256: sha256('abcd') });
        expect(await store.head('streamed.bin')).toMatchObject({ size: 4, sha256: sha256('abcd'), etag: streamed.etag });

        expect(await store.put('empty', Buffer.alloc(0), { size: 0 })).toMatchObject({ size: 0, sha256: sha256('') });
        expect(await content(store, 'empty')).toBe('');
      });

      it('rejects a wrong sha256 or size with IntegrityError and stores nothing', async () => {
        const bytes = Buffer.from('the real content');
        await expect(store.put('a', bytes, { sha256: sha256('other') })).rejects.toThrow(
          `Expected sha256 ${sha256('other')} for a but received ${sha256(bytes)}`,
        );
        await expect(store.put('a', bytes, { size: 99 })).rejects.toThrow(new IntegrityError(`Expected 99 bytes for a but received ${bytes.length}`));
        await expect(store.put('a', Readable.from([bytes]), { size: 3 })).rejects.toBeInstanceOf(IntegrityError);
        expect(await store.head('a')).toBeNull();

        // Nor does a failed put disturb what was there.
        await store.put('a', 'first');
        await expect(store.put('a', bytes, { sha256: sha256('nope') })).rejects.toBeInstanceOf(IntegrityError);
        expect(await content(store, 'a')).toBe('first');
        expect(await keys(store)).toEqual(['a']);
      });

      it('leaves nothing visible when the source stream fails midway', async () => {
        await expect(store.put('builds/x/engine.plan', failingStream(MiB))).rejects.toThrow('source went away');
        expect(await store.head('builds/x/engine.plan')).toBeNull();
        await expect(store.get('builds/x/engine.plan')).rejects.toBeInstanceOf(NotFoundError);
        expect(await keys(store)).toEqual([]);
      });

      it('serves byte ranges with inclusive ends, and refuses ranges past the end', async () => {
        await store.put('r', 'abcdefghij');
        const mid = await store.get('r', { start: 2, end: 5 });
        expect((await readAll(mid.body)).toString()).toBe('cdef');
        expect(mid.range).toEqual({ start: 2, end: 5 });
        expect(mid.info.size).toBe(10);

        const tail = await store.get('r', { start: 7 });
        expect((await readAll(tail.body)).toString()).toBe('hij');
        expect(tail.range).toEqual({ start: 7, end: 9 });

        const clipped = await store.get('r', { start: 8, end: 100 });
        expect((await readAll(clipped.body)).toString()).toBe('ij');
        expect(clipped.range).toEqual({ start: 8, end: 9 });

        await expect(store.get('r', { start: 10 })).rejects.toThrow(new RangeNotSatisfiableError('r', 10));
        await expect(store.get('r', { start: 5, end: 2 })).rejects.toThrow(StoreError);
        await expect(store.get('absent', { start: 0 })).rejects.toThrow(new NotFoundError('absent'));
      });

      it('answers head with null and get with NotFoundError for absent keys; delete is idempotent', async () => {
        expect(await store.head('nothing/here')).toBeNull();
        await expect(store.get('nothing/here')).rejects.toThrow(new NotFoundError('nothing/here'));
        await store.delete('nothing/here');

        await store.put('d/e', 'x');
        await store.delete('d/e');
        await store.delete('d/e');
        expect(await store.head('d/e')).toBeNull();
        expect(await keys(store)).toEqual([]);
      });
    });

    describe('list', () => {
      it('lists every object under a prefix in key (byte) order, and nothing else', async () => {
        for (const key of ['b', 'a/c/d', 'ab', 'a/b', 'a-b']) await store.put(key, key);
        await expect(store.put('a/rejected', 'x', { size: 5 })).rejects.toBeInstanceOf(IntegrityError);

        const inOrder = caps.listsInKeyOrder ? (list: string[]) => list : sorted;
        expect(inOrder(await keys(store))).toEqual(['a-b', 'a/b', 'a/c/d', 'ab', 'b']);
        expect(inOrder(await keys(store, 'a/'))).toEqual(['a/b', 'a/c/d']);
        expect(inOrder(await keys(store, 'a'))).toEqual(['a-b', 'a/b', 'a/c/d', 'ab']);
        expect(await keys(store, 'a/c/d')).toEqual(['a/c/d']);
        expect(await keys(store, 'zzz/')).toEqual([]);

        const infos: ObjectInfo[] = [];
        for await (const info of store.list('a/')) infos.push(info);
        const head = await store.head('a/b');
        expect(infos[0]).toMatchObject({ key: 'a/b', size: 3, etag: head!.etag });
        if (caps.listsSha256) expect(infos[0].sha256).toBe(sha256('a/b'));
      });
    });

    describe('keys', () => {
      const bad = ['', '/abs', 'a/../b', '..', 'a/./b', 'a//b', 'a/', 'a\\b', 'a\0b', '.hidden', 'a/.meta', 'sp ace', 'ü'];

      it.each(bad)('rejects the key %j everywhere with InvalidKeyError', async (key) => {
        await expect(store.put(key, 'x')).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.head(key)).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
      });

      it('names what was wrong and what is accepted', async () => {
        await expect(store.put('../etc/passwd', 'x')).rejects.toThrow(
          `Expected a key of '/'-separated segments of [A-Za-z0-9._-], each non-empty and not starting with '.', at most 1024 characters but received "../etc/passwd"`,
        );
        await expect(keys(store, '../')).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.put('a', 'x', { ifNoneMatch: '*', ifMatch: 'e' } as PutOptions)).rejects.toThrow(
          'Expected at most one of ifNoneMatch and ifMatch for a but received both',
        );
      });
    });

    describe('adopt', () => {
      let dir: string;
      beforeEach(async () => {
        dir = await mkdtemp(path.join(tmpdir(), 'kiln-adopt-'));
      });
      afterEach(() => rm(dir, { recursive: true, force: true }));

      const written = async (data: Buffer) => {
        const file = path.join(dir, `upload-${sha256(data).slice(0, 8)}`);
        await writeFile(file, data);
        return file;
      };

      it('stores a file the caller hashed, readable and verified like a put', async () => {
        const data = randomBytes(3 * MiB + 5);
        const info = await store.adopt('models/adopted.onnx', await written(data), { sha256: sha256(data), size: data.length, ifNoneMatch: '*' });
        expect(info).toMatchObject({ key: 'models/adopted.onnx', size: data.length, sha256: sha256(data) });
        expect(await store.head('models/adopted.onnx')).toMatchObject({ size: data.length, sha256: sha256(data) });
        expect(sha256(await readAll((await store.get('models/adopted.onnx')).body))).toBe(sha256(data));
      });

      it('refuses put-if-absent over an existing key, which keeps its content', async () => {
        await store.put('m', 'first');
        const data = Buffer.from('second');
        await expect(store.adopt('m', await written(data), { sha256: sha256(data), size: data.length, ifNoneMatch: '*' })).rejects.toBeInstanceOf(PreconditionFailedError);
        expect(await content(store, 'm')).toBe('first');
      });

      it('refuses a file that is not the size the caller said, and stores nothing', async () => {
        const data = Buffer.from('twelve bytes');
        await expect(store.adopt('m', await written(data), { sha256: sha256(data), size: data.length + 1 })).rejects.toBeInstanceOf(IntegrityError);
        expect(await store.head('m')).toBeNull();
      });
    });

    describe('conditional puts', () => {
      it('put-if-absent stores only when the key is absent', async () => {
        await store.put('m', 'first', { ifNoneMatch: '*' });
        await expect(store.put('m', 'second', { ifNoneMatch: '*' })).rejects.toThrow(
          new PreconditionFailedError('m', 'If-None-Match: * (the key already exists)'),
        );
        expect(await content(store, 'm')).toBe('first');
      });

      it('put-if-match replaces only the version it names; the etag follows the content', async () => {
        const v1 = await store.put('cache', 'one');
        expect((await store.head('cache'))!.etag).toBe(v1.etag);
        const v2 = await store.put('cache', 'two', { ifMatch: v1.etag });
        expect(v2.etag).not.toBe(v1.etag);
        expect((await store.head('cache'))!.etag).toBe(v2.etag);

        await expect(store.put('cache', 'three', { ifMatch: v1.etag })).rejects.toBeInstanceOf(PreconditionFailedError);
        await expect(store.put('cache', 'three', { ifMatch: 'not-an-etag' })).rejects.toBeInstanceOf(PreconditionFailedError);
        await expect(store.put('absent', 'x', { ifMatch: v2.etag })).rejects.toBeInstanceOf(PreconditionFailedError);
        expect(await content(store, 'cache')).toBe('two');
        expect(await store.head('absent')).toBeNull();
      });

      (caps.atomicConditionalWrites ? it : it.skip)('lets exactly one of many concurrent put-if-absent calls win', async () => {
        const bodies = Array.from({ length: 8 }, (_, i) => `writer ${i} `.repeat(2000));
        const results = await Promise.allSettled(bodies.map((body) => store.put('race', body, { ifNoneMatch: '*' })));
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PreconditionFailedError);
        expect(await content(store, 'race')).toBe(bodies[winners[0]]);
      });

      (caps.atomicConditionalWrites ? it : it.skip)('loses no update when concurrent writers compare-and-swap', async () => {
        await store.put('counter', '0');
        const increment = async () => {
          for (;;) {
            const { body, info } = await store.get('counter');
            const next = String(Number((await readAll(body)).toString()) + 1);
            try {
              return await store.put('counter', next, { ifMatch: info.etag });
            } catch (err) {
              if (!(err instanceof PreconditionFailedError)) throw err;
            }
          }
        };
        await Promise.all(Array.from({ length: 6 }, increment));
        expect(await content(store, 'counter')).toBe('6');
      });
    });

    it(caps.presignedUrls ? 'gives a presigned URL that plain fetch can download' : 'has no presigned URLs', async () => {
      const bytes = randomBytes(5000);
      await store.put('builds/k/engine.plan', bytes);
      const url = await store.presignedUrl('builds/k/engine.plan', 60);
      if (!caps.presignedUrls) {
        expect(url).toBeNull();
        return;
      }
      const res = await fetch(url!);
      expect(res.status).toBe(200);
      expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), bytes)).toBe(0);
    });

    describe('large bodies', () => {
      const big = bigBody(20);

      it('streams 20 MiB in and out, verified, with ranges anywhere', async () => {
        const info = await store.put('models/big.onnx', big.stream(), { sha256: big.sha256, size: big.size });
        expect(info).toMatchObject({ size: big.size, sha256: big.sha256 });
        expect(await store.head('models/big.onnx')).toMatchObject({ size: big.size, sha256: big.sha256, etag: info.etag });

        const hash = createHash('sha256');
        for await (const chunk of (await store.get('models/big.onnx')).body) hash.update(chunk as Buffer);
        expect(hash.digest('hex')).toBe(big.sha256);

        const start = 9 * MiB - 3;
        const part = await readAll((await store.get('models/big.onnx', { start, end: start + 7 })).body);
        expect([...part]).toEqual(Array.from({ length: 8 }, (_, i) => big.byteAt(start + i)));
      });

      it('stores nothing when a large body is not what was expected', async () => {
        await expect(store.put('models/big.onnx', big.stream(), { sha256: sha256('x'), size: big.size })).rejects.toBeInstanceOf(IntegrityError);
        await expect(store.put('models/big.onnx', big.stream(), { size: big.size - 1 })).rejects.toBeInstanceOf(IntegrityError);
        await expect(store.put('models/big.onnx', failingStream(17 * MiB))).rejects.toThrow('source went away');
        expect(await keys(store)).toEqual([]);
      });
    });

    describe('artifact sets', () => {
      const buildKey = sha256('build spec');
      let dir: string;

      beforeEach(async () => {
        dir = await mkdtemp(path.join(tmpdir(), 'kiln-publish-'));
      });
      afterEach(async () => {
        await rm(dir, { recursive: true, force: true });
      });

      async function files(tag: string) {
        const engine = path.join(dir, `engine-${tag}.plan`);
        const log = path.join(dir, `build-${tag}.log`);
        await writeFile(engine, `engine bytes of ${tag}`);
        await writeFile(log, `log of ${tag}\n`);
        return [
          { name: 'engine.plan', path: engine, role: 'engine' },
          { name: 'build.log', path: log, role: 'log' },
        ];
      }

      function manifestOf(worker: string) {
        return (listed: ManifestFile[]): Manifest => ({
          schema: 1,
          buildKey,
          spec: makeBuildSpec(sha256('model'), parseTargetKey('ort1.30.0-x86_64-avx2'), BuildOptionsSchema.parse({})),
          primary: 'engine.plan',
          files: listed,
          worker: { id: worker, host: 'test', toolchains: { onnxruntime: '1.30.0' }, hardware: {} },
          validation: 'pass',
          publishedAt: new Date().toISOString(),
          buildSeconds: 1,
        });
      }

      it('uploads every file verified, and the manifest last', async () => {
        const written: string[] = [];
        const recording: ArtifactStore = Object.create(store);
        recording.put = (key, body, options) => {
          written.push(key);
          return store.put(key, body, options);
        };
        if (store.sync) {
          recording.sync = (synced) => {
            written.push(`sync ${synced.join(' ')}`);
            return store.sync!(synced);
          };
        }

        const result = await publishArtifactSet(recording, { buildKey, files: await files('a'), makeManifest: manifestOf('w1') });
        expect(result.published).toBe(true);
        const engine = result.manifest.files.find((f) => f.name === 'engine.plan')!;
        expect(engine).toEqual({ name: 'engine.plan', role: 'engine', sha256: sha256('engine bytes of a'), size: 17, blob: true });
        expect(artifactKey(buildKey, engine)).toBe(`blobs/${engine.sha256}`);
        const log = artifactKey(buildKey, result.manifest.files.find((f) => f.name === 'build.log')!);
        // The files go up together (in any order), then one durability barrier for them (where the
        // store needs one), then the manifest.
        const keys = [artifactKey(buildKey, engine), log].sort();
        expect(written.slice(0, 2).sort()).toEqual(keys);
        const barrier = written.slice(2, -1);
        if (store.sync) {
          expect(barrier).toHaveLength(1);
          expect(barrier[0].split(' ').slice(1).sort()).toEqual(keys);
          expect(barrier[0].startsWith('sync ')).toBe(true);
        } else expect(barrier).toEqual([]);
        expect(written[written.length - 1]).toBe(manifestKey(buildKey));
        expect(await readManifest(store, buildKey)).toEqual(result.manifest);

        const target = path.join(dir, 'downloaded.plan');
        expect(await downloadToFile(store, artifactKey(buildKey, engine), target, engine.sha256)).toEqual({ sha256: engine.sha256, size: 17 });
        expect(await readFile(target, 'utf8')).toBe('engine bytes of a');
      });

      it('uploads what the attest step makes from the files with them, before the manifest, which lists it', async () => {
        const written: string[] = [];
        const recording: ArtifactStore = Object.create(store);
        recording.put = (key, body, options) => {
          written.push(key);
          return store.put(key, body, options);
        };
        let seen: ManifestFile[] = [];
        const result = await publishArtifactSet(recording, {
          buildKey,
          files: await files('a'),
          attest: async (uploaded) => {
            seen = uploaded;
            const statement = path.join(dir, 'provenance.dsse.json');
            await writeFile(statement, JSON.stringify(uploaded.map((f) => [f.name, f.sha256])));
            return [{ name: 'provenance.dsse.json', path: statement, role: 'provenance' }];
          },
          makeManifest: manifestOf('w1'),
        });
        expect(seen.map((f) => f.name)).toEqual(['engine.plan', 'build.log']);
        const attested = result.manifest.files.find((f) => f.name === 'provenance.dsse.json')!;
        expect(attested).toMatchObject({ role: 'provenance', sha256: sha256(JSON.stringify(seen.map((f) => [f.name, f.sha256]))) });
        // Uploaded with the files it attests, all before the manifest.
        expect(written.slice(0, -1).sort()).toEqual(result.manifest.files.map((f) => artifactKey(buildKey, f)).sort());
        expect(written[written.length - 1]).toBe(manifestKey(buildKey));

        // An attest step cannot smuggle in a second file of a name the set already has.
        await expect(
          publishArtifactSet(store, {
            buildKey: sha256('another spec'),
            files: await files('b'),
            attest: async () => [{ name: 'build.log', path: path.join(dir, 'build-b.log'), role: 'log' }],
            makeManifest: manifestOf('w1'),
          }),
        ).rejects.toThrow('Expected distinct artifact file names but received build.log twice');
      });

      it('keeps the first manifest when a second worker publishes the same build key', async () => {
        const first = await publishArtifactSet(store, { buildKey, files: await files('a'), makeManifest: manifestOf('w1') });
        const second = await publishArtifactSet(store, { buildKey, files: await files('b'), makeManifest: manifestOf('w2') });
        expect(second).toEqual({ published: false, manifest: first.manifest });
        // Every file the winning manifest lists is still exactly what it says.
        for (const file of first.manifest.files) {
          const target = path.join(dir, `check-${file.name}`);
          await downloadToFile(store, artifactKey(buildKey, file), target, file.sha256);
        }
      });

      it('keeps the first manifest when the second worker finds none before uploading', async () => {
        const first = await publishArtifactSet(store, { buildKey, files: await files('a'), makeManifest: manifestOf('w1') });
        // The second worker checked before the first published, so it uploads, and only its manifest write fails.
        const unaware: ArtifactStore = Object.create(store);
        let manifestReads = 0;
        unaware.get = (key, range) => (key === manifestKey(buildKey) && manifestReads++ === 0 ? Promise.reject(new NotFoundError(key)) : store.get(key, range));
        const second = await publishArtifactSet(unaware, { buildKey, files: await files('b'), makeManifest: manifestOf('w2') });
        expect(second).toEqual({ published: false, manifest: first.manifest });
        expect(await readManifest(store, buildKey)).toEqual(first.manifest);
        for (const file of first.manifest.files) {
          expect((await store.head(artifactKey(buildKey, file)))?.sha256).toBe(file.sha256);
        }
      });

      it('reads a set whose files are stored but whose manifest is not as unpublished', async () => {
        const failing = () => {
          throw new Error('worker died before the manifest');
        };
        await expect(publishArtifactSet(store, { buildKey, files: await files('a'), makeManifest: failing })).rejects.toThrow('worker died');
        expect(await keys(store, 'blobs/')).toHaveLength(2);
        expect(await keys(store, `builds/${buildKey}/`)).toEqual([]);
        expect(await readManifest(store, buildKey)).toBeNull();
      });

      it('refuses a download that is not what was expected, leaving no file behind', async () => {
        await store.put('timing-caches/trt10.9.0-sm89.cache', 'cache bytes');
        const target = path.join(dir, 'cache');
        await expect(downloadToFile(store, 'timing-caches/trt10.9.0-sm89.cache', target, sha256('other'))).rejects.toBeInstanceOf(IntegrityError);
        await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
        expect(await readdir(dir)).toEqual([]);
      });
    });
  });
}

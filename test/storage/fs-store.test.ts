import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { IntegrityError, StoreError } from '../../src/storage/errors';
import { FsStore } from '../../src/storage/fs-store';
import { describeStoreContract } from './store-contract';

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const lockPath = (dir: string, key: string) => path.join(dir, '.locks', `${sha256(key)}.lock`);

describeStoreContract(
  'filesystem',
  async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kiln-fs-store-'));
    return { store: new FsStore(dir), destroy: () => rm(dir, { recursive: true, force: true }) };
  },
  { atomicConditionalWrites: true, presignedUrls: false, listsSha256: true, listsInKeyOrder: true },
);

describe('FsStore on disk', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-fs-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps plain files at their keys, sidecars beside them, and no temp files after failures', async () => {
    const store = new FsStore(dir);
    await store.put('builds/k/engine.plan', 'engine', { contentType: 'application/x-tensorrt-plan' });
    await expect(store.put('builds/k/other', 'x', { size: 9 })).rejects.toBeInstanceOf(IntegrityError);
    await expect(
      store.put('builds/k/other', Readable.from((async function* () { yield 'a'; throw new Error('gone'); })())),
    ).rejects.toThrow('gone');

    expect(await readFile(path.join(dir, 'builds', 'k', 'engine.plan'), 'utf8')).toBe('engine');
    expect((await readdir(path.join(dir, 'builds', 'k'))).sort()).toEqual(['.engine.plan.meta.json', 'engine.plan']);
    expect(await readdir(path.join(dir, '.tmp'))).toEqual([]);
    expect(await readdir(path.join(dir, '.locks'))).toEqual([]);
  });

  it('adopts a file on its own filesystem by rename (the same inode, no copy) and one on another by copy', async () => {
    const store = new FsStore(dir);
    const upload = path.join(dir, 'upload');
    await writeFile(upload, 'model bytes');
    const { ino } = await stat(upload);
    await store.adopt('models/a.onnx', upload, { sha256: sha256('model bytes'), size: 11 });
    expect((await stat(path.join(dir, 'models', 'a.onnx'))).ino).toBe(ino);
    await expect(stat(upload)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(path.join(dir, '.tmp'))).toEqual([]);

    // /dev/shm is a tmpfs where Linux has one: another filesystem than the store's, so rename fails with EXDEV.
    const other = await mkdtemp('/dev/shm/kiln-adopt-').catch(() => null);
    if (!other || (await stat(other)).dev === (await stat(dir)).dev) return;
    try {
      const far = path.join(other, 'upload');
      await writeFile(far, 'other bytes');
      await store.adopt('models/b.onnx', far, { sha256: sha256('other bytes'), size: 11 });
      expect(await readFile(path.join(dir, 'models', 'b.onnx'), 'utf8')).toBe('other bytes');
      await expect(store.adopt('models/c.onnx', far, { sha256: sha256('not these'), size: 11 })).rejects.toBeInstanceOf(IntegrityError);
      expect(await store.head('models/c.onnx')).toBeNull();
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('removes temp files that crashed puts left behind over an hour ago, and only those', async () => {
    await mkdir(path.join(dir, '.tmp'));
    await writeFile(path.join(dir, '.tmp', 'abandoned'), 'x');
    await writeFile(path.join(dir, '.tmp', 'recent'), 'x');
    const overAnHourAgo = new Date(Date.now() - 61 * 60 * 1000);
    await utimes(path.join(dir, '.tmp', 'abandoned'), overAnHourAgo, overAnHourAgo);
    await new FsStore(dir).put('a', 'x');
    expect(await readdir(path.join(dir, '.tmp'))).toEqual(['recent']);
  });

  it('sweeps temp files on demand, with the age asked for, and says what it freed', async () => {
    const store = new FsStore(dir);
    await store.put('a', 'x');
    await writeFile(path.join(dir, '.tmp', 'cut-short'), 'twelve bytes');
    const minuteAgo = new Date(Date.now() - 60 * 1000);
    await utimes(path.join(dir, '.tmp', 'cut-short'), minuteAgo, minuteAgo);
    expect(await store.sweepTemp(5 * 60 * 1000)).toEqual({ files: 0, bytes: 0 });
    expect(await store.sweepTemp(30 * 1000)).toEqual({ files: 1, bytes: 12 });
    expect(await readdir(path.join(dir, '.tmp'))).toEqual([]);
  });

  it('hashes the file when its sidecar does not describe it (a crash between the two renames)', async () => {
    const store = new FsStore(dir);
    await store.put('a', 'old content', { contentType: 'text/plain' });
    await writeFile(path.join(dir, 'a'), 'new content'); // replaced behind the store's back
    expect(await store.head('a')).toMatchObject({ sha256: sha256('new content'), etag: sha256('new content'), size: 11 });
    const { body, info } = await store.get('a');
    body.destroy();
    expect(info.sha256).toBe(sha256('new content'));
  });

  it('breaks a lock left by a crashed process once it is stale', async () => {
    const store = new FsStore(dir, { staleLockMs: 1000 });
    const first = await store.put('timing-caches/c', 'v1');
    await writeFile(lockPath(dir, 'timing-caches/c'), '999999\n');
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath(dir, 'timing-caches/c'), old, old);

    await store.put('timing-caches/c', 'v2', { ifMatch: first.etag });
    expect((await store.head('timing-caches/c'))!.sha256).toBe(sha256('v2'));
    expect(await readdir(path.join(dir, '.locks'))).toEqual([]);
  });

  it('waits for a live lock, and says which lock when it gives up', async () => {
    const store = new FsStore(dir, { lockTimeoutMs: 50 });
    await store.put('k', 'v1');
    await writeFile(lockPath(dir, 'k'), `${process.pid}\n`);
    await expect(store.put('k', 'v2')).rejects.toThrow(
      new StoreError(`Timed out after 50 ms waiting for the lock ${lockPath(dir, 'k')}; if no Kiln process is writing, delete it`),
    );
    await expect(store.delete('k')).rejects.toThrow(StoreError);
    expect(await readFile(path.join(dir, 'k'), 'utf8')).toBe('v1');
  });

  it('refuses a key that clashes with a directory of other keys', async () => {
    const store = new FsStore(dir);
    await store.put('builds/k/file', 'x');
    await expect(store.put('builds/k', 'y')).rejects.toThrow('Cannot store builds/k in the filesystem store: it clashes with another key');
    await expect(store.put('builds/k/file/sub', 'y')).rejects.toThrow('Cannot store builds/k/file/sub in the filesystem store');
    expect(await store.head('builds/k')).toBeNull();
  });

  it('loses no compare-and-swap update between separate processes', async () => {
    const store = new FsStore(dir);
    await store.put('counter', '0');
    const script = path.join(__dirname, 'fixtures', 'cas-incrementer.ts');
    const children = [1, 2, 3].map(() => spawn(process.execPath, ['--import', 'tsx', script, dir, 'counter', '20']));
    const lines = children.map((child) => createInterface({ input: child.stdout })[Symbol.asyncIterator]());
    const exits = children.map((child) => once(child, 'exit'));
    try {
      for (const line of lines) expect((await line.next()).value).toBe('ready');
      for (const child of children) child.stdin.end('go\n');
      const reports = await Promise.all(lines.map(async (line) => JSON.parse((await line.next()).value) as { conflicts: number }));
      expect(await Promise.all(exits)).toEqual([[0, null], [0, null], [0, null]]);
      expect(await readFile(path.join(dir, 'counter'), 'utf8')).toBe('60');
      // They did race: some compare-and-swaps lost and were retried.
      expect(reports.reduce((sum, r) => sum + r.conflicts, 0)).toBeGreaterThan(0);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill();
    }
  });
});

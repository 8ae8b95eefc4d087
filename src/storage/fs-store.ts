/**
 * The filesystem store: Kiln's embedded default (`./.kiln/data`), shared by the API and worker
 * processes of one machine.
 *
 * On disk, a key is a plain file at `<root>/<key>`, so the data directory can be browsed and
 * copied as it is. Next to it, `.<name>.meta.json` (a sidecar) keeps the sha256, size and content
 * type, so head and list never re-hash. Names starting with `.` are never keys (see key-rules.ts),
 * so list() can skip them, along with `<root>/.tmp` (bodies being written) and `<root>/.locks`.
 *
 * A put streams into `.tmp` (same filesystem as the data), hashing and counting on the way,
 * verifies, fsyncs (or leaves that to sync() with `deferSync`), and only then takes the key's lock (fs-lock.ts) to commit: rename for a
 * plain put or put-if-match, link(2) for put-if-absent (fails with EEXIST if the key exists, even
 * against a process that broke our lock). Every write of a key, deletes included, commits under
 * that lock, so conditional writes are atomic across processes.
 *
 * The data file and its sidecar are two renames, so a reader can see one without the other (or a
 * process can crash between them). The sidecar records the inode, size and mtime of the file it
 * describes; a reader that finds they do not match the file it opened hashes that file instead.
 * That costs a re-hash in those rare moments and is never wrong; for the same reason the sidecar
 * is never fsynced: a sidecar lost or cut short by a power cut only costs a re-hash.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { AdoptOptions, ArtifactStore, ByteRange, GetResult, ObjectInfo, PutOptions } from './artifact-store';
import { resolveRange } from './byte-range';
import { NotFoundError, StoreError } from './errors';
import { withFileLock, type LockOptions } from './fs-lock';
import { assertValidKey, assertValidPrefix } from './key-rules';
import { assertValidPutOptions, DEFAULT_CONTENT_TYPE, preconditionFailed } from './put-conditions';
import { integrityProblem, toReadable, VerifyingHasher } from './verifying-hasher';

const SECOND = 1000;
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** A live put writes to its temp file all the time (or waits at most lockTimeoutMs for a lock): an hour-old one is abandoned. */
const ABANDONED_TEMP_MS = 60 * 60 * SECOND;

export interface FsStoreOptions {
  /** A key's lock older than this was left by a crashed process and is broken (Default: 10 * SECOND). */
  staleLockMs?: number;
  /** How long a write waits for another process to release a key's lock (Default: 30 * SECOND). */
  lockTimeoutMs?: number;
}

/** What the sidecar records; `ino`, `size` and `mtimeMs` tie it to one version of the data file. */
interface Sidecar {
  sha256: string;
  size: number;
  contentType: string;
  ino: number;
  mtimeMs: number;
}

interface Paths {
  file: string;
  sidecar: string;
  lock: string;
}

export class FsStore implements ArtifactStore {
  readonly kind = 'filesystem';
  readonly root: string;
  private readonly lockOptions: LockOptions;
  private readonly tmpDir: string;
  private readonly lockDir: string;
  private ready?: Promise<unknown>;

  constructor(root: string, options: FsStoreOptions = {}) {
    if (typeof root !== 'string' || root === '') {
      throw new StoreError(`Expected a directory for the filesystem store but received ${JSON.stringify(root)}`);
    }
    this.root = path.resolve(root);
    this.tmpDir = path.join(this.root, '.tmp');
    this.lockDir = path.join(this.root, '.locks');
    this.lockOptions = { staleMs: options.staleLockMs ?? 10 * SECOND, timeoutMs: options.lockTimeoutMs ?? 30 * SECOND };
  }

  async put(key: string, body: Readable | Buffer | string, options: PutOptions = {}): Promise<ObjectInfo> {
    const paths = this.paths(key);
    assertValidPutOptions(key, options);
    await this.init();
    const tmp = path.join(this.tmpDir, randomUUID());
    try {
      const hasher = new VerifyingHasher(key, options);
      await pipeline(toReadable(body), hasher, createWriteStream(tmp, { flags: 'wx', flush: !options.deferSync }));
      return await this.commit(key, paths, tmp, hasher.sha256!, options);
    } catch (err) {
      throw explainPathClash(key, err);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * Takes over a file the caller wrote and hashed (an upload): renamed into `.tmp` and committed like
   * a put, neither copied nor hashed again. Its size is checked; its sha256 is the caller's word,
   * which is why only a file the caller hashed while writing it may be adopted. A file on another
   * filesystem (EXDEV) is put by copy instead, hashed on the way.
   */
  async adopt(key: string, file: string, options: AdoptOptions): Promise<ObjectInfo> {
    const paths = this.paths(key);
    assertValidPutOptions(key, options);
    await this.init();
    const tmp = path.join(this.tmpDir, randomUUID());
    try {
      await rename(file, tmp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      return this.put(key, createReadStream(file), options);
    }
    try {
      const { size } = await stat(tmp);
      const problem = integrityProblem(key, { size: options.size }, options.sha256, size);
      if (problem) throw problem;
      if (!options.deferSync) await fsyncPath(tmp, 'r');
      return await this.commit(key, paths, tmp, options.sha256.toLowerCase(), options);
    } catch (err) {
      throw explainPathClash(key, err);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Moves a verified (and, unless deferred, fsynced) temp file to its key under the key's lock, sidecar after it. */
  private async commit(key: string, paths: Paths, tmp: string, sha256: string, options: PutOptions): Promise<ObjectInfo> {
    const tmpSidecar = `${tmp}.meta.json`;
    try {
      const stats = await stat(tmp);
      const sidecar: Sidecar = { sha256, size: stats.size, contentType: options.contentType ?? DEFAULT_CONTENT_TYPE, ino: stats.ino, mtimeMs: stats.mtimeMs };
      await writeFile(tmpSidecar, JSON.stringify(sidecar), { flag: 'wx' });
      const dir = path.dirname(paths.file);
      await mkdir(dir, { recursive: true });
      await withFileLock(paths.lock, this.lockOptions, async () => {
        if (options.ifNoneMatch) {
          await link(tmp, paths.file).catch((err) => {
            throw err.code === 'EEXIST' ? preconditionFailed(key, options) : err;
          });
        } else {
          if (options.ifMatch !== undefined && (await this.headPaths(key, paths))?.etag !== options.ifMatch) {
            throw preconditionFailed(key, options);
          }
          await rename(tmp, paths.file);
        }
        await rename(tmpSidecar, paths.sidecar);
      });
      if (!options.deferSync) await fsyncDir(dir);
      return infoOf(key, sidecar, stats);
    } finally {
      await rm(tmpSidecar, { force: true });
    }
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    const opened = await this.openObject(key, this.paths(key));
    if (!opened) throw new NotFoundError(key);
    const { handle, info } = opened;
    try {
      const served = range ? resolveRange(key, range, info.size) : undefined;
      // The stream closes the handle when it ends or is destroyed. 4 MiB reads (not the default
      // 64 KiB) keep the disk reading ahead of the socket: twice the download speed (docs/bench).
      const body = handle.createReadStream({ ...(served ?? { start: 0 }), highWaterMark: READ_CHUNK_BYTES });
      return served ? { body, info, range: served } : { body, info };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    return this.headPaths(key, this.paths(key));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidPrefix(prefix);
    const base = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    // Key order is byte order of the whole key ('a-b' before 'a/b'), not a directory walk's order.
    const keys = (await this.walk(base, prefix)).sort();
    for (const key of keys) {
      const info = await this.head(key);
      if (info) yield info;
    }
  }

  async delete(key: string): Promise<void> {
    const paths = this.paths(key);
    await this.init();
    await withFileLock(paths.lock, this.lockOptions, async () => {
      await unlinkIfPresent(paths.file);
      await unlinkIfPresent(paths.sidecar);
    });
  }

  /** One barrier for many puts: every file's data, then each directory holding them (their renames). */
  async sync(keys: string[]): Promise<void> {
    const files = keys.map((key) => this.paths(key).file);
    await Promise.all(files.map((file) => fsyncPath(file, 'r')));
    await Promise.all([...new Set(files.map((file) => path.dirname(file)))].map((dir) => fsyncDir(dir)));
  }

  async presignedUrl(): Promise<string | null> {
    return null;
  }

  private paths(key: string): Paths {
    assertValidKey(key);
    const file = path.join(this.root, ...key.split('/'));
    return {
      file,
      sidecar: path.join(path.dirname(file), `.${path.basename(file)}.meta.json`),
      lock: path.join(this.lockDir, `${createHash('sha256').update(key).digest('hex')}.lock`),
    };
  }

  private init(): Promise<unknown> {
    this.ready ??= Promise.all([
      mkdir(this.tmpDir, { recursive: true }).then(() => this.sweepTemp(ABANDONED_TEMP_MS)),
      mkdir(this.lockDir, { recursive: true }),
    ]);
    return this.ready;
  }

  /** Removes temp files of puts that a crash cut short, unchanged for `olderThanMs`; says what it freed. */
  async sweepTemp(olderThanMs: number = ABANDONED_TEMP_MS): Promise<{ files: number; bytes: number }> {
    const freed = { files: 0, bytes: 0 };
    let names: string[];
    try {
      names = await readdir(this.tmpDir);
    } catch (err) {
      if (isAbsent(err)) return freed;
      throw err;
    }
    for (const name of names) {
      const file = path.join(this.tmpDir, name);
      const stats = await stat(file).catch(() => null);
      if (!stats || Date.now() - stats.mtimeMs <= olderThanMs) continue;
      await rm(file, { force: true });
      freed.files++;
      freed.bytes += stats.size;
    }
    return freed;
  }

  private async headPaths(key: string, paths: Paths): Promise<ObjectInfo | null> {
    const opened = await this.openObject(key, paths);
    if (!opened) return null;
    await opened.handle.close();
    return opened.info;
  }

  /** Opens the data file and describes exactly the version that handle reads. */
  private async openObject(key: string, paths: Paths): Promise<{ handle: FileHandle; info: ObjectInfo } | null> {
    let handle: FileHandle;
    try {
      handle = await open(paths.file, 'r');
    } catch (err) {
      if (isAbsent(err)) return null;
      throw err;
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) {
        await handle.close();
        return null;
      }
      const sidecar = await readSidecar(paths.sidecar);
      if (sidecar && sidecar.ino === stats.ino && sidecar.size === stats.size && sidecar.mtimeMs === stats.mtimeMs) {
        return { handle, info: infoOf(key, sidecar, stats) };
      }
      const sha256 = await hashHandle(handle);
      return { handle, info: infoOf(key, { sha256, contentType: DEFAULT_CONTENT_TYPE }, stats) };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  private async walk(dirKey: string, prefix: string): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(path.join(this.root, ...dirKey.split('/')), { withFileTypes: true });
    } catch (err) {
      if (isAbsent(err)) return [];
      throw err;
    }
    const keys: string[] = [];
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue; // sidecars, temp files, locks
      const key = dirKey + entry.name;
      if (entry.isDirectory()) {
        const sub = `${key}/`;
        if (sub.startsWith(prefix) || prefix.startsWith(sub)) keys.push(...(await this.walk(sub, prefix)));
      } else if (entry.isFile() && key.startsWith(prefix)) {
        keys.push(key);
      }
    }
    return keys;
  }
}

function infoOf(key: string, meta: { sha256: string; contentType: string }, stats: Stats): ObjectInfo {
  // The sha256 is the etag: it changes exactly when the content does.
  return { key, size: stats.size, etag: meta.sha256, sha256: meta.sha256, lastModified: stats.mtime, contentType: meta.contentType };
}

async function readSidecar(file: string): Promise<Sidecar | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Sidecar;
  } catch {
    return null; // absent, or cut short by a crash: the data file is hashed instead
  }
}

/** Reads with positional reads: a stream would hold the handle open past our close(). */
async function hashHandle(handle: FileHandle): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(1024 * 1024);
  for (let position = 0; ; ) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return hash.digest('hex');
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}

/** Makes the renames in a directory durable, not just the file contents. */
async function fsyncDir(dir: string): Promise<void> {
  await fsyncPath(dir, 'r');
}

async function fsyncPath(file: string, flags: string): Promise<void> {
  const handle = await open(file, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if (!isAbsent(err) && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
  }
}

function isAbsent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** S3 lets `a` and `a/b` both be keys; a filesystem cannot have `a` as a file and a directory. */
function explainPathClash(key: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST') {
    return new StoreError(
      `Cannot store ${key} in the filesystem store: it clashes with another key (one key cannot be both a file and a prefix of keys): ${(err as Error).message}`,
    );
  }
  return err;
}

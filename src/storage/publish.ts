/**
 * Publishing and reading artifact sets. A set is published when its manifest exists: the files go
 * up first (each streamed from disk, its sha256 and size verified by the store), then one
 * durability barrier for all of them (store.sync: a filesystem store fsyncs once per set, not per
 * file and sidecar; docs/performance.md), the manifest last,
 * with put-if-absent. The same build key means the same artifact, so when two workers publish one
 * key the first manifest wins; the loser's files sit under keys no manifest lists (their keys hold
 * their sha256, see layout.ts), and it gets the winner's manifest back.
 *
 * Files go to `blobs/<sha256>`, shared by every set with the same bytes. A blob already stored is
 * not uploaded again only while it is young (younger than `reuseWithinMs`): the garbage collector
 * deletes an unlisted blob only once it is older than its grace, twice that, so a blob this set
 * relies on cannot be collected between the last check and the manifest (docs/cleanup.md).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { MANIFEST_FILE, type Manifest, type ManifestFile } from '../core/manifest';
import type { ArtifactStore } from './artifact-store';
import { IntegrityError, NotFoundError, PreconditionFailedError, StoreError } from './errors';
import { assertValidFileName, blobKey, manifestKey } from './layout';
import { VerifyingHasher } from './verifying-hasher';

export interface ArtifactFileInput {
  /** Name inside the set, e.g. `engine.plan`. */
  name: string;
  /** Where the file is on this machine. */
  path: string;
  /** `engine`, `model`, `timing-cache`, `log`, `layer-info`, `report`, `provenance`. */
  role: string;
}

export interface PublishInput {
  buildKey: string;
  files: ArtifactFileInput[];
  /**
   * Files made from the given ones as they will be stored (their sha256 and size), e.g. the signed
   * provenance (docs/provenance.md): uploaded with them, before the manifest, which lists them too.
   * (Default: none)
   */
  attest?(files: ManifestFile[]): Promise<ArtifactFileInput[]>;
  /** Builds the manifest from the files as stored (sha256 and size filled in). */
  makeManifest(files: ManifestFile[]): Manifest;
  /** A stored blob this young is used as it is; an older one is uploaded again, which makes it young (Default: DEFAULT_BLOB_REUSE_MS). */
  reuseWithinMs?: number;
}

/** Half of the garbage collector's default grace (KILN_GC_GRACE_SECONDS, 1 hour). */
export const DEFAULT_BLOB_REUSE_MS = 30 * 60 * 1000;

export type PublishResult = { published: true; manifest: Manifest } | { published: false; manifest: Manifest };

export async function publishArtifactSet(store: ArtifactStore, input: PublishInput): Promise<PublishResult> {
  const { buildKey } = input;
  checkFileNames(input.files);
  const existing = await readManifest(store, buildKey);
  if (existing) return { published: false, manifest: existing };

  const reuseWithinMs = input.reuseWithinMs ?? DEFAULT_BLOB_REUSE_MS;
  const files: ManifestFile[] = [];
  const paths = new Map<string, string>();
  const add = async (list: ArtifactFileInput[]) => {
    // Hashed concurrently, listed in the order given.
    const hashed = await Promise.all(list.map((file) => hashFile(file.path)));
    list.forEach((file, i) => {
      const { sha256, size } = hashed[i];
      files.push({ name: file.name, sha256, size, role: file.role, blob: true });
      paths.set(sha256, file.path);
    });
  };
  await add(input.files);
  if (input.attest) {
    // A separate step over the files as they will be stored: what it makes is stored and listed like them.
    const attestations = await input.attest([...files]);
    checkFileNames([...input.files, ...attestations]);
    await add(attestations);
  }
  // Uploaded concurrently (distinct keys, each under its own lock). Then, just before the manifest,
  // every blob must still be young: one reused (or written) long enough ago may have aged past
  // reuseWithinMs, or been collected, while the others uploaded. Its age is known from the first
  // pass, so only such a blob is looked at (and uploaded) again; a blob that is surely still young
  // costs no second request (docs/performance.md).
  const written = new Set<string>();
  const bornAt = new Map<string, number>();
  await Promise.all(
    [...paths].map(async ([sha256, path]) => {
      const blob = await ensureBlob(store, sha256, path, reuseWithinMs);
      if (blob.written) written.add(blob.key);
      bornAt.set(sha256, blob.bornAt);
    }),
  );
  for (const [sha256, path] of paths) {
    if (Date.now() - bornAt.get(sha256)! < reuseWithinMs) continue;
    const blob = await ensureBlob(store, sha256, path, reuseWithinMs);
    if (blob.written) written.add(blob.key);
  }
  // The manifest must never reach the disk before the files it lists.
  if (written.size) await store.sync?.([...written]);

  const manifest = input.makeManifest(files);
  checkManifest(manifest, buildKey, files);
  try {
    await store.put(manifestKey(buildKey), JSON.stringify(manifest, null, 2), { ifNoneMatch: '*', contentType: 'application/json' });
  } catch (err) {
    if (!(err instanceof PreconditionFailedError)) throw err;
    const winner = await readManifest(store, buildKey);
    if (!winner) throw err; // published and deleted in between: let the caller retry
    return { published: false, manifest: winner };
  }
  return { published: true, manifest };
}

/**
 * Uploads a file to its blob unless the blob is stored, verified, and young enough to rely on.
 * Says whether it wrote, and when the blob as stored now was made (its age is measured from then):
 * the stored blob's time, or for a blob written here, a moment before the write began.
 */
async function ensureBlob(store: ArtifactStore, sha256: string, path: string, reuseWithinMs: number): Promise<{ key: string; written: boolean; bornAt: number }> {
  const key = blobKey(sha256);
  const stored = await store.head(key);
  // S3 listings and heads of objects Kiln wrote carry the sha256; a blob's key is its sha256 anyway.
  if (stored && (stored.sha256 ?? sha256) === sha256 && Date.now() - stored.lastModified.getTime() < reuseWithinMs) {
    return { key, written: false, bornAt: stored.lastModified.getTime() };
  }
  const bornAt = Date.now();
  await store.put(key, createReadStream(path), { sha256, size: (await stat(path)).size, deferSync: true });
  return { key, written: true, bornAt };
}

/** The manifest of a build key; null when absent (a set without a manifest is not published). */
export async function readManifest(store: ArtifactStore, buildKey: string): Promise<Manifest | null> {
  const key = manifestKey(buildKey);
  let text: string;
  try {
    const { body } = await store.get(key);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch (err) {
    throw new StoreError(`Expected JSON in ${key} but received ${JSON.stringify(text.slice(0, 40))}...`, { cause: err });
  }
  if (manifest?.schema !== 1 || manifest.buildKey !== buildKey || !Array.isArray(manifest.files)) {
    throw new StoreError(`Expected a schema 1 manifest of build ${buildKey} in ${key} but received ${JSON.stringify(text.slice(0, 80))}...`);
  }
  return manifest;
}

/**
 * Downloads an object to `path`, verifying its sha256 (the expected one, else the one the store
 * recorded) and size. Writes to a temp file beside `path` and renames, so a failed download never
 * leaves a partial file at `path`.
 */
export async function downloadToFile(
  store: ArtifactStore,
  key: string,
  path: string,
  expectedSha256?: string,
): Promise<{ sha256: string; size: number }> {
  const { body, info } = await store.get(key);
  const sha256 = expectedSha256 ?? info.sha256;
  const hasher = new VerifyingHasher(key, { sha256, size: info.size });
  const partial = `${path}.${randomUUID()}.partial`;
  try {
    await pipeline(body, hasher, createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, path);
  } finally {
    await rm(partial, { force: true });
  }
  return { sha256: hasher.sha256!, size: hasher.size };
}

function checkFileNames(files: ArtifactFileInput[]): void {
  const seen = new Set<string>();
  for (const { name } of files) {
    assertValidFileName(name);
    if (name === MANIFEST_FILE) throw new StoreError(`Expected artifact files other than ${MANIFEST_FILE} (it is written by publishArtifactSet) but received one`);
    if (seen.has(name)) throw new StoreError(`Expected distinct artifact file names but received ${name} twice`);
    seen.add(name);
  }
}

/** A manifest that lists a file not uploaded would point at nothing: refuse it before publishing. */
function checkManifest(manifest: Manifest, buildKey: string, uploaded: ManifestFile[]): void {
  if (manifest.buildKey !== buildKey) {
    throw new StoreError(`Expected a manifest of build ${buildKey} but received one of ${manifest.buildKey}`);
  }
  for (const file of manifest.files) {
    if (!uploaded.some((u) => u.name === file.name && u.sha256 === file.sha256 && u.size === file.size && u.blob === file.blob)) {
      throw new IntegrityError(`Expected the manifest of ${buildKey} to list only uploaded files but it lists ${file.name} (${file.sha256})`);
    }
  }
  if (!manifest.files.some((f) => f.name === manifest.primary)) {
    throw new StoreError(`Expected the primary file ${manifest.primary} of ${buildKey} among ${manifest.files.map((f) => f.name).join(', ')}`);
  }
}

async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

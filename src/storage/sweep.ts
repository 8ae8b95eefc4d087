/**
 * Mark and sweep of artifact files: every manifest in the store is read (the mark), and a file
 * under `blobs/` or `builds/` that no manifest lists is deleted once it is older than the grace
 * (the sweep). Manifests are the only references: Redis can lose its data, the store cannot, so
 * nothing the collector trusts can be out of date.
 *
 * The grace is what protects a set being published right now: its files are uploaded before its
 * manifest, and a blob it reuses is at most half the grace old when the manifest is written
 * (publish.ts). Models, model records, timing caches, calibration caches and anything else
 * outside `blobs/` and `builds/` (the health check's probe) are never swept here.
 */
import type { Manifest } from '../core/manifest';
import { MANIFEST_FILE } from '../core/manifest';
import type { ArtifactStore, ObjectInfo } from './artifact-store';
import { artifactKey, BLOBS_PREFIX, BUILDS_PREFIX } from './layout';
import { readJson } from './read-json';

export interface SweepOptions {
  /** Files younger than this are kept even when unlisted (Default: 1 hour). */
  graceMs?: number;
  /** Only these keys are candidates (Default: every file under blobs/ and builds/). */
  only?: Iterable<string>;
  /** Count what would be deleted, delete nothing (Default: false). */
  dryRun?: boolean;
  now?: Date;
}

export interface SweepReport {
  manifests: number;
  deletedFiles: number;
  bytesFreed: number;
  /** Unlisted files kept because they are younger than the grace: the next sweep after it frees them. */
  youngFiles: number;
  youngBytes: number;
}

const HOUR_MS = 60 * 60 * 1000;

/** Every key some manifest in the store lists, the manifests themselves included. */
export async function referencedKeys(store: ArtifactStore): Promise<{ keys: Set<string>; manifests: number }> {
  const keys = new Set<string>();
  let manifests = 0;
  for await (const object of store.list(BUILDS_PREFIX)) {
    if (!object.key.endsWith(`/${MANIFEST_FILE}`)) continue;
    const manifest = await readJson<Manifest>(store, object.key).catch(() => null);
    keys.add(object.key);
    // A manifest that cannot be read protects every file of its build, in case it is only cut short.
    if (!manifest || !Array.isArray(manifest.files)) {
      keys.add(object.key.slice(0, -MANIFEST_FILE.length));
      continue;
    }
    manifests++;
    for (const file of manifest.files) keys.add(artifactKey(manifest.buildKey, file));
  }
  return { keys, manifests };
}

export async function sweepUnreferenced(store: ArtifactStore, options: SweepOptions = {}): Promise<SweepReport> {
  const graceMs = options.graceMs ?? HOUR_MS;
  const now = (options.now ?? new Date()).getTime();
  const { keys: referenced, manifests } = await referencedKeys(store);
  const report: SweepReport = { manifests, deletedFiles: 0, bytesFreed: 0, youngFiles: 0, youngBytes: 0 };
  const protectedBuilds = [...referenced].filter((key) => key.endsWith('/'));
  const isReferenced = (key: string) => referenced.has(key) || protectedBuilds.some((prefix) => key.startsWith(prefix));
  const consider = async (object: ObjectInfo) => {
    if (isReferenced(object.key)) return;
    if (now - object.lastModified.getTime() < graceMs) {
      report.youngFiles++;
      report.youngBytes += object.size;
      return;
    }
    if (!options.dryRun) await store.delete(object.key);
    report.deletedFiles++;
    report.bytesFreed += object.size;
  };
  if (options.only) {
    for (const key of new Set(options.only)) {
      const object = await store.head(key);
      if (object) await consider(object);
    }
    return report;
  }
  for (const prefix of [BLOBS_PREFIX, BUILDS_PREFIX]) {
    // Collected first: deleting while a listing pages through the same keys is not portable.
    const objects: ObjectInfo[] = [];
    for await (const object of store.list(prefix)) objects.push(object);
    for (const object of objects) await consider(object);
  }
  return report;
}

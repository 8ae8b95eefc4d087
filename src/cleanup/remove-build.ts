/**
 * Removing one finished (or never started) build: its published manifest first, so nothing
 * resolves to it any more, then the files kept under its build key (sets published before blobs
 * existed, or an interrupted publish), then its record, indexes, kept log lines and queue job.
 * The blobs its manifest listed are not deleted here: another set may list the same bytes, so
 * the caller hands them to the sweep (src/storage/sweep.ts), which checks every manifest.
 */
import type { FarmContext } from '../context';
import type { BuildRecord } from '../state/build-records';
import { artifactKey, buildPrefix, manifestKey } from '../storage/layout';
import { readManifest } from '../storage/publish';

export interface RemovedBuild {
  buildKey: string;
  files: number;
  bytes: number;
  /** Blob keys its manifest listed: candidates for the sweep. */
  blobs: string[];
}

/** Thrown for a build a worker is running: it must be cancelled (and end) first. */
export class BuildRunningError extends Error {
  override name = 'BuildRunningError';
  constructor(readonly buildKey: string) {
    super(`Build ${buildKey} is running; cancel it and remove it once it has ended`);
  }
}

export async function removeBuild(ctx: FarmContext, record: BuildRecord): Promise<RemovedBuild> {
  const { buildKey } = record;
  // The queue job goes first: a queued build that a worker took meanwhile is running, not removed.
  if (record.state === 'active' || !(await ctx.queues.removeIfIdle(record.targetKey, buildKey).catch(() => false))) {
    throw new BuildRunningError(buildKey);
  }
  const removed: RemovedBuild = { buildKey, files: 0, bytes: 0, blobs: [] };
  const manifest = await readManifest(ctx.store, buildKey).catch(() => null);
  if (manifest) {
    const blobKeys = manifest.files.filter((f) => f.blob).map((f) => artifactKey(buildKey, f));
    removed.blobs.push(...blobKeys);
    const head = await ctx.store.head(manifestKey(buildKey));
    await ctx.store.delete(manifestKey(buildKey));
    removed.files++;
    removed.bytes += head?.size ?? 0;
  }
  await ctx.artifacts.remove(record.modelId, buildKey);
  // What is left under the build key is this build's alone (older layout, or unpublished files).
  const rest = [];
  for await (const object of ctx.store.list(buildPrefix(buildKey))) rest.push(object);
  for (const object of rest) {
    await ctx.store.delete(object.key);
    removed.files++;
    removed.bytes += object.size;
  }
  await ctx.builds.remove(record);
  return removed;
}

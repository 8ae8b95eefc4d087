/**
 * `DELETE /v1/models/:ref`: a model, its labels, its builds (records, kept logs, queue jobs,
 * manifests) and the artifact files no other build lists. The ref names one model (a sha256, a
 * name, which means its latest version, or name@version); other versions of the name are other
 * models and stay.
 *
 * Builds of the model that are waiting are cancelled with it. Running builds are asked to stop
 * and the deletion is refused (409) until they have ended, so no build publishes for a model that
 * is gone. Deleting by sha256 is idempotent: a model already gone answers 200 with nothing
 * removed, and a deletion cut short (a crash) is finished by the next one. A name that names
 * nothing answers 404.
 */
import type { FarmContext } from '../context';
import { BuildRunningError, removeBuild } from '../cleanup/remove-build';
import { publishEvent } from '../state/build-events';
import type { ModelRecord } from '../state/model-registry';
import { modelKey } from '../storage/layout';
import { sweepUnreferenced } from '../storage/sweep';
import type { Caller } from './auth';
import { ApiError } from './errors';
import { releaseStored } from './limits';

export interface DeletedModel {
  sha256: string;
  labels: string[];
  builds: number;
  /** Stored files deleted and their bytes: the model, manifests, artifact files no other build lists. */
  files: number;
  bytesFreed: number;
  /** Artifact files no build lists any more but younger than the grace: the next collection deletes them. */
  pendingFiles: number;
  pendingBytes: number;
  /** Builds a worker started while the model was being deleted; they were asked to stop. */
  running: string[];
}

export async function deleteModel(ctx: FarmContext, record: ModelRecord, caller: Caller): Promise<DeletedModel> {
  const nothing: DeletedModel = { sha256: record.sha256, labels: [], builds: 0, files: 0, bytesFreed: 0, pendingFiles: 0, pendingBytes: 0, running: [] };
  // Already deleted, whoever deleted it: nothing to authorize, nothing to do.
  if (!(await ctx.models.get(record.sha256)) && !(await ctx.store.head(modelKey(record.sha256))) && (await ctx.builds.keysOfModel(record.sha256)).length === 0) {
    return nothing;
  }
  if (caller.role !== 'admin' && caller.tokenId !== record.uploadedBy) {
    throw new ApiError(403, 'forbidden', `Only an admin or the token that uploaded model ${record.sha256} may delete it`);
  }
  const builds = await ctx.builds.getMany(await ctx.builds.keysOfModel(record.sha256));
  await refuseWhileRunning(ctx, record, builds.filter((b) => b.state === 'active'));

  // The model goes first, so no new build of it can be submitted while its builds are removed.
  const head = await ctx.store.head(modelKey(record.sha256));
  const labels = await ctx.models.remove(record);
  await ctx.store.delete(modelKey(record.sha256));
  await releaseStored(ctx, record.uploadedBy, head?.size ?? 0);
  const result: DeletedModel = { ...nothing, labels, files: head ? 1 : 0, bytesFreed: head?.size ?? 0 };

  // Its requests go with it (they name only this model); read before the builds forget them.
  const requestIds = new Set((await Promise.all(builds.map((b) => ctx.builds.requestIds(b.buildKey)))).flat());

  const blobs: string[] = [];
  const running = [];
  for (const build of builds) {
    try {
      const removed = await removeBuild(ctx, build);
      if (build.state === 'queued') await publishEvent(ctx.redis, ctx.keys, { type: 'state', buildKey: build.buildKey, state: 'cancelled', error: 'model deleted', at: new Date().toISOString() });
      result.builds++;
      result.files += removed.files;
      result.bytesFreed += removed.bytes;
      blobs.push(...removed.blobs);
    } catch (err) {
      if (!(err instanceof BuildRunningError)) throw err;
      running.push(build); // a worker took it between the check and now
    }
  }
  // A build a worker took between the check and now: asked to stop; its model is gone, and the
  // collector removes what it leaves once it has ended (retention, the sweep).
  for (const { buildKey } of running) await askToStop(ctx, buildKey);
  result.running = running.map((b) => b.buildKey);
  for (const id of requestIds) await ctx.requests.remove({ id, modelId: record.sha256 });
  const swept = await sweepUnreferenced(ctx.store, { only: blobs, graceMs: ctx.config.cleanup.graceMs });
  result.files += swept.deletedFiles;
  result.bytesFreed += swept.bytesFreed;
  result.pendingFiles = swept.youngFiles;
  result.pendingBytes = swept.youngBytes;
  ctx.log.info({ model: record.sha256, deleted: result }, `model ${record.sha256} deleted`);
  return result;
}

/** Asks running builds to stop and answers 409: the deletion is repeated once they have ended. */
async function refuseWhileRunning(ctx: FarmContext, record: ModelRecord, running: { buildKey: string }[]): Promise<void> {
  if (running.length === 0) return;
  for (const { buildKey } of running) await askToStop(ctx, buildKey);
  throw new ApiError(
    409,
    'builds_running',
    `Model ${record.sha256} has ${running.length} running build(s) (${running.map((b) => b.buildKey.slice(0, 12)).join(', ')}); they were asked to stop. Delete again once they have ended`,
    { running: running.map((b) => b.buildKey) },
  );
}

async function askToStop(ctx: FarmContext, buildKey: string): Promise<void> {
  await ctx.builds.update(buildKey, { cancelRequested: true });
  await ctx.redis.publish(ctx.keys.cancel, buildKey);
}

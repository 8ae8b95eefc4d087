/**
 * Retention: which finished builds the collector removes. Two rules, each off at 0:
 * - keep the newest `keepBuilds` finished builds of each (model, target); older ones go;
 * - failed and cancelled builds go `failedMaxAgeMs` after they ended.
 * Queued and running builds are never removed and do not count towards the N kept.
 */
import type { FarmContext } from '../context';
import type { BuildRecord } from '../state/build-records';
import { BuildRunningError, removeBuild, type RemovedBuild } from './remove-build';

export interface RetentionRules {
  keepBuilds: number;
  failedMaxAgeMs: number;
  now?: Date;
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/** The builds the rules would remove now, oldest rule first. */
export async function buildsPastRetention(ctx: FarmContext, rules: RetentionRules): Promise<BuildRecord[]> {
  const now = (rules.now ?? new Date()).getTime();
  const doomed = new Map<string, BuildRecord>();
  if (rules.failedMaxAgeMs > 0) {
    for (const state of ['failed', 'cancelled'] as const) {
      const keys = await ctx.redis.zrange(ctx.keys.buildsByState(state), '0', '-1');
      for (const record of await ctx.builds.getMany(keys)) {
        const ended = Date.parse(record.finishedAt ?? record.updatedAt);
        if (now - ended > rules.failedMaxAgeMs) doomed.set(record.buildKey, record);
      }
    }
  }
  if (rules.keepBuilds > 0) {
    for (const modelId of await ctx.redis.hkeys(ctx.keys.models)) {
      const byTarget = new Map<string, BuildRecord[]>();
      for (const record of await ctx.builds.getMany(await ctx.builds.keysOfModel(modelId))) {
        if (!FINISHED.has(record.state)) continue;
        byTarget.set(record.targetKey, [...(byTarget.get(record.targetKey) ?? []), record]);
      }
      for (const records of byTarget.values()) {
        const newestFirst = records.sort((a, b) => (b.finishedAt ?? b.createdAt).localeCompare(a.finishedAt ?? a.createdAt));
        for (const record of newestFirst.slice(rules.keepBuilds)) doomed.set(record.buildKey, record);
      }
    }
  }
  return [...doomed.values()];
}

/** Removes the builds past retention; a build that started running meanwhile is left alone. */
export async function applyRetention(ctx: FarmContext, rules: RetentionRules): Promise<RemovedBuild[]> {
  const removed: RemovedBuild[] = [];
  for (const record of await buildsPastRetention(ctx, rules)) {
    try {
      removed.push(await removeBuild(ctx, record));
    } catch (err) {
      if (!(err instanceof BuildRunningError)) throw err;
    }
  }
  return removed;
}

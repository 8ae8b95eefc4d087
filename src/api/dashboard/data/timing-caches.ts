/**
 * Fleet timing caches: the current size of each (TensorRT version, platform, CC, SKU) cache from
 * the store, and how it grew, from the cache sizes that TensorRT builds report (`build.details`;
 * builds from before per-SKU caches count toward their CC-wide cache).
 */
import type { FarmContext } from '../../../context';
import { parseTargetKey } from '../../../core/target';
import { timingCacheName, type TimingCacheScope } from '../../../core/timing-cache';
import { parseTimingCacheKey, TIMING_CACHES_PREFIX } from '../../../storage/layout';
import { withReports } from '../../build-reports';
/** TensorRT builds looked at per target for the growth chart. */
const BUILDS_PER_TARGET = 200;

export interface TimingCacheRow {
  name: string;
  trt: string;
  cc: string;
  /** null for a CC-wide cache from before per-SKU caches. */
  sku: string | null;
  sizeBytes: number | null;
  updatedAt: string | null;
  /** (finishedAt, bytes) points, oldest first. */
  growth: { at: string; bytes: number }[];
}

export async function timingCacheData(ctx: FarmContext, targets: string[]): Promise<TimingCacheRow[]> {
  const rows = new Map<string, TimingCacheRow>();
  const row = (scope: TimingCacheScope) => {
    const name = timingCacheName(scope);
    let r = rows.get(name);
    if (!r) rows.set(name, (r = { name, trt: scope.trt, cc: scope.cc, sku: scope.sku ?? null, sizeBytes: null, updatedAt: null, growth: [] }));
    return r;
  };
  try {
    for await (const object of ctx.store.list(TIMING_CACHES_PREFIX)) {
      const scope = parseTimingCacheKey(object.key);
      if (!scope) continue;
      const r = row(scope);
      r.sizeBytes = object.size;
      r.updatedAt = object.lastModified.toISOString();
    }
  } catch (err) {
    ctx.log.warn({ err }, `dashboard: listing ${TIMING_CACHES_PREFIX} failed`);
  }
  for (const target of targets.filter((t) => t.startsWith('trt'))) {
    const parsed = parseTargetKey(target);
    if (parsed.toolchain !== 'tensorrt') continue;
    const ids = await ctx.redis.zrevrange(ctx.keys.buildsByTarget(target), 0, BUILDS_PER_TARGET - 1);
    for (const build of await withReports(ctx, await ctx.builds.getMany(ids))) {
      const details = build.report?.build.details;
      const bytes = cacheBytes(details);
      if (bytes === null || !build.finishedAt) continue;
      const named = parseTimingCacheKey(`${TIMING_CACHES_PREFIX}${String((details?.timingCache as { name?: unknown } | undefined)?.name ?? '')}.cache`);
      row(named ?? { trt: parsed.trt, cc: parsed.cc, platform: parsed.platform }).growth.push({ at: build.finishedAt, bytes });
    }
  }
  for (const r of rows.values()) r.growth.sort((a, b) => a.at.localeCompare(b.at));
  return [...rows.values()].sort((a, b) => a.trt.localeCompare(b.trt, 'en', { numeric: true }) || a.cc.localeCompare(b.cc, 'en', { numeric: true }) || a.name.localeCompare(b.name));
}

/** The timing-cache size a TensorRT build reported, under whichever name its details use. */
export function cacheBytes(details: Record<string, unknown> | undefined): number | null {
  if (!details) return null;
  const tc = (details.timingCache ?? {}) as Record<string, unknown>;
  for (const v of [details.timingCacheBytes, tc.savedBytes, tc.bytes, tc.sizeBytes, tc.loadedBytes]) {
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

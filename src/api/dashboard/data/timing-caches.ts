/**
 * Fleet timing caches: the current size of each (TensorRT version, CC) cache from the store, and
 * how it grew, from the cache sizes that TensorRT builds report (`build.details`).
 */
import type { FarmContext } from '../../../context';
import { parseTargetKey } from '../../../core/target';
import { TIMING_CACHES_PREFIX } from '../../../storage/layout';

const CACHE_KEY = /^timing-caches\/trt(\d+\.\d+\.\d+)-sm(\d{2,3})\.cache$/;
/** TensorRT builds looked at per target for the growth chart. */
const BUILDS_PER_TARGET = 200;

export interface TimingCacheRow {
  trt: string;
  cc: string;
  sizeBytes: number | null;
  updatedAt: string | null;
  /** (finishedAt, bytes) points, oldest first. */
  growth: { at: string; bytes: number }[];
}

export async function timingCacheData(ctx: FarmContext, targets: string[]): Promise<TimingCacheRow[]> {
  const rows = new Map<string, TimingCacheRow>();
  const row = (trt: string, cc: string) => {
    const id = `${trt}|${cc}`;
    let r = rows.get(id);
    if (!r) rows.set(id, (r = { trt, cc, sizeBytes: null, updatedAt: null, growth: [] }));
    return r;
  };
  try {
    for await (const object of ctx.store.list(TIMING_CACHES_PREFIX)) {
      const m = CACHE_KEY.exec(object.key);
      if (!m) continue;
      const r = row(m[1], `${m[2].slice(0, -1)}.${m[2].slice(-1)}`);
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
    for (const build of await ctx.builds.getMany(ids)) {
      const bytes = cacheBytes(build.report?.build.details);
      if (bytes !== null && build.finishedAt) row(parsed.trt, parsed.cc).growth.push({ at: build.finishedAt, bytes });
    }
  }
  for (const r of rows.values()) r.growth.sort((a, b) => a.at.localeCompare(b.at));
  return [...rows.values()].sort((a, b) => a.trt.localeCompare(b.trt, 'en', { numeric: true }) || a.cc.localeCompare(b.cc, 'en', { numeric: true }));
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

/**
 * Fleet timing caches per (TensorRT version, platform, CC, GPU SKU) (docs/fleet.md).
 *
 * trtexec loads a timing cache with its mismatch checks off, and NVIDIA warns that a cache made on
 * another device may cause functional or performance bugs (ONNX Runtime's TensorRT EP only trusts
 * one from the exact same GPU model), so each SKU has its own cache and a build writes only its
 * own. A cache is named like the target it serves: `trt10.9.0-sm89-nvidia-l4`, with the platform
 * after the version unless it is linux-x86_64. A name without a SKU (`trt10.9.0-sm89`) is a cache
 * from before per-SKU caches, fed by every SKU of that CC: still readable, never written again.
 *
 * Where there is no cache of the wanted SKU, the best match is the largest cache of the same
 * TensorRT version, platform and CC (the most tactics already timed), always flagged as such: a
 * SKU's first build starts (is seeded) from it, and a client asking without a SKU is offered it.
 */
import { DEFAULT_PLATFORM, type Platform } from './platform';
import { parseTargetKey, targetKey, TargetParseError, toTarget } from './target';

export interface TimingCacheScope {
  trt: string;
  cc: string;
  /** Absent for a cache from before per-SKU caches. */
  sku?: string;
  /** (Default: linux-x86_64) */
  platform?: Platform;
}

export interface StoredTimingCache {
  scope: TimingCacheScope;
  sizeBytes: number;
}

/** How a chosen cache relates to what was asked for. */
export type TimingCacheMatch =
  /** The cache of the asked SKU. */
  | 'sku'
  /** Another SKU's (or the CC-wide) cache of the same TensorRT version, platform and CC. */
  | 'best-match';

/** `trt10.9.0-sm89-nvidia-l4`; throws TargetParseError naming what is accepted. */
export function timingCacheName(scope: TimingCacheScope): string {
  const { trt, cc, sku, platform } = scope;
  return targetKey(toTarget({ toolchain: 'tensorrt', trt, cc, ...(sku ? { sku } : {}), ...(platform ? { platform } : {}) }));
}

/** The scope a cache name stands for; null for anything that is not one. */
export function parseTimingCacheName(name: string): TimingCacheScope | null {
  try {
    const target = parseTargetKey(name);
    if (target.toolchain !== 'tensorrt' || target.hwCompat !== 'none') return null;
    return {
      trt: target.trt,
      cc: target.cc,
      ...(target.sku ? { sku: target.sku } : {}),
      ...(target.platform ? { platform: target.platform } : {}),
    };
  } catch (err) {
    if (err instanceof TargetParseError) return null;
    throw err;
  }
}

const platformOf = (scope: TimingCacheScope) => scope.platform ?? DEFAULT_PLATFORM;

/**
 * The cache for a GPU of `want` (its SKU when known): that SKU's own cache, else the largest cache
 * of the same TensorRT version, platform and CC, flagged as a best match; null when there is none.
 * Never a cache of another TensorRT version, platform or CC.
 */
export function chooseTimingCache(
  want: TimingCacheScope,
  caches: StoredTimingCache[],
): { cache: StoredTimingCache; match: TimingCacheMatch } | null {
  const same = caches.filter(
    (c) => c.scope.trt === want.trt && c.scope.cc === want.cc && platformOf(c.scope) === platformOf(want),
  );
  if (want.sku) {
    const own = same.find((c) => c.scope.sku === want.sku);
    if (own) return { cache: own, match: 'sku' };
  }
  const best = same
    .sort((a, b) => b.sizeBytes - a.sizeBytes || timingCacheName(a.scope).localeCompare(timingCacheName(b.scope)))[0];
  return best ? { cache: best, match: 'best-match' } : null;
}

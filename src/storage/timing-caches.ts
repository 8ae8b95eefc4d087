/**
 * Fleet timing caches: one per (TensorRT version, platform, CC, GPU SKU) in the store
 * (`timingCacheKey`, core/timing-cache.ts). Every build starts from a copy of its SKU's cache; a
 * SKU's first build, with none yet, starts from (is seeded by) the best match of its CC, and the
 * history records which; afterwards the grown copy replaces it with compare-and-swap on the
 * version the build started from (If-Match its etag, or If-None-Match: * when there was none).
 * On a conflict another build published first: its cache stays, and this build's new entries are
 * not merged in (merging needs TensorRT's ITimingCache::combine, which trtexec does not expose);
 * the next build starts from the newer cache and measures what is still missing.
 *
 * Next to each cache, `<name>.json` records the builds that fed it, updated with the
 * same compare-and-swap. It is a JSON object in the store rather than a Redis index because it is
 * a fact about the stored cache (DESIGN.md: the store is the source of truth), it survives a Redis
 * flush, and the cache listing needs nothing else. Size and date come from the cache object itself,
 * so a crash between the two writes leaves at worst a build missing from the history.
 */
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { sha256Hex } from '../core/hash';
import { DEFAULT_PLATFORM, type Platform } from '../core/platform';
import { chooseTimingCache, timingCacheName, type StoredTimingCache, type TimingCacheScope } from '../core/timing-cache';
import type { ArtifactStore, ObjectInfo } from './artifact-store';
import { NotFoundError, PreconditionFailedError } from './errors';
import { parseTimingCacheKey, TIMING_CACHES_PREFIX, timingCacheKey } from './layout';
import { VerifyingHasher } from './verifying-hasher';

/** Builds kept in a cache's history (the count goes on). */
export const HISTORY_KEPT = 50;
const CAS_ATTEMPTS = 5;

export function timingCacheHistoryKey(scope: TimingCacheScope): string {
  return timingCacheKey(scope).replace(/\.cache$/, '.json');
}

export interface FleetCacheCopy {
  /** The etag of the SKU's own cache the build started from; null when it had none yet. */
  etag: string | null;
  sha256: string | null;
  bytes: number;
  /** The cache (its name) a SKU's first build started from, when it had none of its own. */
  seededFrom?: string;
}

/**
 * The timing caches in the store, with their sizes: those of one TensorRT version, platform and CC
 * when `of` is given (one listing of their common prefix, `timing-caches/trt10.9.0-sm89`), else all.
 */
export async function storedTimingCaches(store: ArtifactStore, of?: TimingCacheScope): Promise<StoredTimingCache[]> {
  const caches: StoredTimingCache[] = [];
  const prefix = of ? `${TIMING_CACHES_PREFIX}${timingCacheName({ trt: of.trt, cc: of.cc, platform: of.platform })}` : TIMING_CACHES_PREFIX;
  for await (const info of store.list(prefix)) {
    const scope = parseTimingCacheKey(info.key);
    if (scope) caches.push({ scope, sizeBytes: info.size });
  }
  return caches;
}

/**
 * Copies the SKU's fleet cache to `dest`. Without one, copies the best match of its TensorRT
 * version, platform and CC (another SKU's, or the CC-wide one from before per-SKU caches) and says
 * so in `seededFrom`; `{ etag: null, bytes: 0 }` (and no file) when there is none either.
 */
export async function fetchFleetCache(store: ArtifactStore, scope: TimingCacheScope & { sku: string }, dest: string): Promise<FleetCacheCopy> {
  const own = await download(store, timingCacheKey(scope), dest);
  if (own) return own;
  const seed = chooseTimingCache(scope, await storedTimingCaches(store, scope));
  const seeded = seed ? await download(store, timingCacheKey(seed.cache.scope), dest) : null;
  if (!seed || !seeded) return { etag: null, sha256: null, bytes: 0 };
  return { etag: null, sha256: seeded.sha256, bytes: seeded.bytes, seededFrom: timingCacheName(seed.cache.scope) };
}

async function download(store: ArtifactStore, key: string, dest: string): Promise<FleetCacheCopy | null> {
  let got;
  try {
    got = await store.get(key);
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
  const hasher = new VerifyingHasher(key, { sha256: got.info.sha256, size: got.info.size });
  const partial = `${dest}.${randomUUID()}.partial`;
  try {
    await pipeline(got.body, hasher, createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, dest);
  } finally {
    await rm(partial, { force: true });
  }
  return { etag: got.info.etag, sha256: hasher.sha256!, bytes: hasher.bytesSeen };
}

export type CachePublishOutcome =
  /** The grown cache is now the fleet cache. */
  | 'published'
  /** The build added nothing: the fleet cache was left as it was. */
  | 'unchanged'
  /** Another build published first; its cache stays and this build's new entries were not merged. */
  | 'conflict';

export interface CacheFeed {
  buildKey: string;
  modelId: string;
  targetKey: string;
  worker: string;
}

export interface PublishCacheResult {
  outcome: CachePublishOutcome;
  bytes: number;
  sha256: string;
}

/** Publishes the grown cache at `path` with compare-and-swap on `from`, then records the build. */
export async function publishFleetCache(
  store: ArtifactStore,
  scope: TimingCacheScope & { sku: string },
  path: string,
  from: FleetCacheCopy,
  feed: CacheFeed,
): Promise<PublishCacheResult> {
  const bytes = await readFile(path);
  const sha256 = sha256Hex(bytes);
  // A seeded build that timed nothing new leaves the SKU without a cache: it only gets one that
  // holds a timing measured on it.
  if (sha256 === from.sha256) return { outcome: 'unchanged', bytes: bytes.length, sha256 };
  const key = timingCacheKey(scope);
  try {
    await store.put(key, bytes, {
      sha256,
      size: bytes.length,
      ...(from.etag === null ? { ifNoneMatch: '*' as const } : { ifMatch: from.etag }),
    });
  } catch (err) {
    if (err instanceof PreconditionFailedError) return { outcome: 'conflict', bytes: bytes.length, sha256 };
    throw err;
  }
  await recordFeed(store, scope, {
    ...feed,
    at: new Date().toISOString(),
    loadedBytes: from.bytes,
    savedBytes: bytes.length,
    sha256,
    ...(from.seededFrom ? { seededFrom: from.seededFrom } : {}),
  });
  return { outcome: 'published', bytes: bytes.length, sha256 };
}

export interface FedBy extends CacheFeed {
  at: string;
  loadedBytes: number;
  savedBytes: number;
  /** The cache this build published. */
  sha256: string;
  /** The other cache this build started from, the SKU having none yet. */
  seededFrom?: string;
}

export interface CacheHistory {
  schema: 1;
  trt: string;
  cc: string;
  /** Absent in the history of a CC-wide cache from before per-SKU caches. */
  sku?: string;
  platform?: Platform;
  /** The cache the SKU's first build started from. */
  seededFrom?: string;
  /** Builds that published a grown cache, all time. */
  builds: number;
  /** The latest HISTORY_KEPT of them, oldest first. */
  recent: FedBy[];
}

async function recordFeed(store: ArtifactStore, scope: TimingCacheScope, fed: FedBy): Promise<void> {
  const key = timingCacheHistoryKey(scope);
  for (let attempt = 1; ; attempt++) {
    const current = await readWithEtag<CacheHistory>(store, key);
    const history: CacheHistory = current?.value ?? {
      schema: 1,
      trt: scope.trt,
      cc: scope.cc,
      sku: scope.sku,
      platform: scope.platform ?? DEFAULT_PLATFORM,
      ...(fed.seededFrom ? { seededFrom: fed.seededFrom } : {}),
      builds: 0,
      recent: [],
    };
    history.builds += 1;
    history.recent = [...history.recent, fed].slice(-HISTORY_KEPT);
    try {
      await store.put(key, JSON.stringify(history, null, 2), {
        contentType: 'application/json',
        ...(current ? { ifMatch: current.etag } : { ifNoneMatch: '*' as const }),
      });
      return;
    } catch (err) {
      if (!(err instanceof PreconditionFailedError) || attempt >= CAS_ATTEMPTS) throw err;
    }
  }
}

async function readWithEtag<T>(store: ArtifactStore, key: string): Promise<{ value: T; etag: string } | null> {
  try {
    const { body, info } = await store.get(key);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T, etag: info.etag };
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

export interface TimingCacheListing {
  /** `trt10.9.0-sm89-nvidia-l4`: the cache's name in URLs and the resolve answer. */
  name: string;
  trt: string;
  platform: Platform;
  cc: string;
  /** null for a CC-wide cache from before per-SKU caches (read only). */
  sku: string | null;
  sizeBytes: number;
  sha256: string | null;
  updatedAt: string;
  /** The cache the SKU's first build started from, when it had none of its own. */
  seededFrom: string | null;
  /** Builds that published a grown cache; null when the history is missing. */
  builds: number | null;
  recent: FedBy[];
  url: string;
}

/** Where a cache is downloaded: `/v1/timing-caches/<name>`. */
export function timingCacheUrl(scope: TimingCacheScope): string {
  return `/v1/timing-caches/${timingCacheName(scope)}`;
}

/** Every fleet cache in the store, by TensorRT version, platform, CC, then SKU. */
export async function listTimingCaches(store: ArtifactStore): Promise<TimingCacheListing[]> {
  const objects: { scope: TimingCacheScope; info: ObjectInfo }[] = [];
  for await (const info of store.list(TIMING_CACHES_PREFIX)) {
    const scope = parseTimingCacheKey(info.key);
    if (scope) objects.push({ scope, info });
  }
  const rows = await Promise.all(
    objects.map(async ({ scope, info }): Promise<TimingCacheListing> => {
      const history = (await readWithEtag<CacheHistory>(store, timingCacheHistoryKey(scope)))?.value;
      return {
        name: timingCacheName(scope),
        trt: scope.trt,
        platform: scope.platform ?? DEFAULT_PLATFORM,
        cc: scope.cc,
        sku: scope.sku ?? null,
        sizeBytes: info.size,
        sha256: info.sha256 ?? null,
        updatedAt: info.lastModified.toISOString(),
        seededFrom: history?.seededFrom ?? null,
        builds: history?.builds ?? null,
        recent: history?.recent ?? [],
        url: timingCacheUrl(scope),
      };
    }),
  );
  const numeric = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
  return rows.sort((a, b) => numeric(a.trt, b.trt) || a.platform.localeCompare(b.platform) || numeric(a.cc, b.cc) || (a.sku ?? '').localeCompare(b.sku ?? ''));
}

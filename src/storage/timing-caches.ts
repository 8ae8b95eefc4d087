/**
 * Fleet timing caches: one per (TensorRT version, CC) in the store (`timingCacheKey`). Every build
 * starts from a copy of it; afterwards the grown copy replaces it with compare-and-swap on the
 * version the build started from (If-Match its etag, or If-None-Match: * when there was none).
 * On a conflict another build published first: its cache stays, and this build's new entries are
 * not merged in (merging needs TensorRT's ITimingCache::combine, which trtexec does not expose);
 * the next build starts from the newer cache and measures what is still missing.
 *
 * Next to each cache, `trt<version>-sm<cc>.json` records the builds that fed it, updated with the
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
import { smToCc } from '../core/target';
import type { ArtifactStore, ObjectInfo } from './artifact-store';
import { NotFoundError, PreconditionFailedError } from './errors';
import { TIMING_CACHES_PREFIX, timingCacheKey } from './layout';
import { VerifyingHasher } from './verifying-hasher';

/** Builds kept in a cache's history (the count goes on). */
export const HISTORY_KEPT = 50;
const CAS_ATTEMPTS = 5;
const CACHE_KEY = /^timing-caches\/trt(\d+\.\d+\.\d+)-sm(\d{2,3})\.cache$/;

export function timingCacheHistoryKey(trt: string, cc: string): string {
  return timingCacheKey(trt, cc).replace(/\.cache$/, '.json');
}

export interface FleetCacheCopy {
  /** The etag the build started from; null when there was no fleet cache yet. */
  etag: string | null;
  sha256: string | null;
  bytes: number;
}

/** Copies the fleet cache to `dest`; `{ etag: null, bytes: 0 }` (and no file) when there is none yet. */
export async function fetchFleetCache(store: ArtifactStore, trt: string, cc: string, dest: string): Promise<FleetCacheCopy> {
  const key = timingCacheKey(trt, cc);
  let got;
  try {
    got = await store.get(key);
  } catch (err) {
    if (err instanceof NotFoundError) return { etag: null, sha256: null, bytes: 0 };
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
  trt: string,
  cc: string,
  path: string,
  from: FleetCacheCopy,
  feed: CacheFeed,
): Promise<PublishCacheResult> {
  const bytes = await readFile(path);
  const sha256 = sha256Hex(bytes);
  if (sha256 === from.sha256) return { outcome: 'unchanged', bytes: bytes.length, sha256 };
  const key = timingCacheKey(trt, cc);
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
  await recordFeed(store, trt, cc, { ...feed, at: new Date().toISOString(), loadedBytes: from.bytes, savedBytes: bytes.length, sha256 });
  return { outcome: 'published', bytes: bytes.length, sha256 };
}

export interface FedBy extends CacheFeed {
  at: string;
  loadedBytes: number;
  savedBytes: number;
  /** The cache this build published. */
  sha256: string;
}

export interface CacheHistory {
  schema: 1;
  trt: string;
  cc: string;
  /** Builds that published a grown cache, all time. */
  builds: number;
  /** The latest HISTORY_KEPT of them, oldest first. */
  recent: FedBy[];
}

async function recordFeed(store: ArtifactStore, trt: string, cc: string, fed: FedBy): Promise<void> {
  const key = timingCacheHistoryKey(trt, cc);
  for (let attempt = 1; ; attempt++) {
    const current = await readWithEtag<CacheHistory>(store, key);
    const history: CacheHistory = current?.value ?? { schema: 1, trt, cc, builds: 0, recent: [] };
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
  trt: string;
  cc: string;
  sizeBytes: number;
  sha256: string | null;
  updatedAt: string;
  /** Builds that published a grown cache; null when the history is missing. */
  builds: number | null;
  recent: FedBy[];
  url: string;
}

/** Every fleet cache in the store, by TensorRT version then CC. */
export async function listTimingCaches(store: ArtifactStore): Promise<TimingCacheListing[]> {
  const objects: { trt: string; cc: string; info: ObjectInfo }[] = [];
  for await (const info of store.list(TIMING_CACHES_PREFIX)) {
    const m = CACHE_KEY.exec(info.key);
    if (m) objects.push({ trt: m[1], cc: smToCc(m[2]), info });
  }
  const rows = await Promise.all(
    objects.map(async ({ trt, cc, info }) => {
      const history = (await readWithEtag<CacheHistory>(store, timingCacheHistoryKey(trt, cc)))?.value;
      return {
        trt,
        cc,
        sizeBytes: info.size,
        sha256: info.sha256 ?? null,
        updatedAt: info.lastModified.toISOString(),
        builds: history?.builds ?? null,
        recent: history?.recent ?? [],
        url: `/v1/timing-caches/${trt}/${cc}`,
      };
    }),
  );
  const numeric = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
  return rows.sort((a, b) => numeric(a.trt, b.trt) || numeric(a.cc, b.cc));
}

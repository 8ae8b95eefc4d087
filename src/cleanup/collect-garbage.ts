/**
 * The garbage collector: one entry point for the periodic run in the API process, `POST
 * /v1/admin/gc`, `kiln admin gc` and the chaos suite. In order:
 *   1. retention (src/cleanup/retention.ts) removes builds past the configured rules;
 *   2. the sweep (src/storage/sweep.ts) deletes files under blobs/ and builds/ that no manifest
 *      lists, once older than the grace;
 *   3. the store's own temp files (the filesystem store's .tmp) older than the temp age;
 *   4. this machine's temp directory: dead builds' work directories and abandoned uploads.
 * One collection runs at a time across API processes (a lock in Redis); docs/cleanup.md says why
 * each step is safe against builds publishing at the same moment.
 */
import { randomUUID } from 'node:crypto';
import type { FarmContext } from '../context';
import { sweepUnreferenced, type SweepReport } from '../storage/sweep';
import { applyRetention } from './retention';
import { sweepLocalTemp, type SweptLocal } from './work-dirs';

export interface GcOptions {
  /** Unreferenced stored files younger than this are kept (Default: KILN_GC_GRACE_SECONDS). */
  graceMs?: number;
  now?: Date;
}

export interface GcReport {
  startedAt: string;
  seconds: number;
  retention: { builds: number; files: number; bytes: number };
  store: SweepReport;
  storeTemp: { files: number; bytes: number };
  localTemp: SweptLocal;
  /** Everything the run deleted, in bytes. */
  bytesFreed: number;
}

export class GcRunningError extends Error {
  override name = 'GcRunningError';
  constructor() {
    super('A garbage collection is already running on this farm; its report will be in the API log');
  }
}

/** A collection that takes longer than this is assumed dead and its lock lapses. */
const LOCK_MS = 30 * 60 * 1000;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export async function collectGarbage(ctx: FarmContext, options: GcOptions = {}): Promise<GcReport> {
  const lockKey = ctx.keys.tmp('gc-lock');
  const owner = randomUUID();
  if ((await ctx.redis.set(lockKey, owner, 'PX', LOCK_MS, 'NX')) !== 'OK') throw new GcRunningError();
  const started = new Date();
  const { cleanup } = ctx.config;
  try {
    const removed = await applyRetention(ctx, { keepBuilds: cleanup.keepBuilds, failedMaxAgeMs: cleanup.failedMaxAgeMs, now: options.now });
    const retention = {
      builds: removed.length,
      files: removed.reduce((n, r) => n + r.files, 0),
      bytes: removed.reduce((n, r) => n + r.bytes, 0),
    };
    const store = await sweepUnreferenced(ctx.store, { graceMs: options.graceMs ?? cleanup.graceMs, now: options.now });
    const storeTemp = (await ctx.store.sweepTemp?.(cleanup.tempAgeMs)) ?? { files: 0, bytes: 0 };
    const localTemp = await sweepLocalTemp(ctx, { olderThanMs: cleanup.tempAgeMs });
    const report: GcReport = {
      startedAt: started.toISOString(),
      seconds: (Date.now() - started.getTime()) / 1000,
      retention,
      store,
      storeTemp,
      localTemp,
      bytesFreed: retention.bytes + store.bytesFreed + storeTemp.bytes + localTemp.bytes,
    };
    ctx.log.info({ gc: report }, `garbage collection freed ${report.bytesFreed} bytes`);
    return report;
  } finally {
    await ctx.redis.eval(RELEASE, 1, lockKey, owner).catch(() => undefined);
  }
}

/** Runs collectGarbage every `intervalMs` (0: never); returns the function that stops it. */
export function scheduleGarbageCollection(ctx: FarmContext, intervalMs = ctx.config.cleanup.intervalMs): () => void {
  if (intervalMs <= 0) return () => undefined;
  const timer = setInterval(() => {
    collectGarbage(ctx).catch((err) => {
      if (err instanceof GcRunningError) return; // another API process is collecting
      ctx.log.warn({ err }, `garbage collection failed: ${(err as Error).message}`);
    });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

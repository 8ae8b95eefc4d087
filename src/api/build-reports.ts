/**
 * A build's report as readers see it: a published build's report is its artifact set's report.json
 * (Redis keeps no copy: src/state/build-records.ts, docs/performance.md "Redis per build"); a build
 * that published nothing (failed validation or drift gate) keeps its report in its record. Records
 * written before the split still carry the report and are answered as they are.
 *
 * Reports are read through a small cache keyed by their storage key: a report file's key names its
 * content (blobs/<sha256>, or <build>/<sha256>/report.json for older sets), so an entry never goes stale.
 */
import type { FarmContext } from '../context';
import { REPORT_FILE } from '../core/manifest';
import type { BuildReport } from '../core/report';
import type { BuildRecord } from '../state/build-records';
import { StorageUnavailableError } from '../storage/errors';
import { artifactKey } from '../storage/layout';
import { readJson } from '../storage/read-json';

/** Reports kept in memory per API process; a dashboard page or a 100-build list page fits. */
const CACHED_REPORTS = 500;

const caches = new WeakMap<FarmContext, Map<string, BuildReport>>();

async function readReport(ctx: FarmContext, record: BuildRecord): Promise<BuildReport | null> {
  const published = await ctx.artifacts.get(record.modelId, record.buildKey);
  const file = published?.files.find((f) => f.name === REPORT_FILE);
  if (!file) return null;
  const key = artifactKey(record.buildKey, file);
  let cache = caches.get(ctx);
  if (!cache) caches.set(ctx, (cache = new Map()));
  const cached = cache.get(key);
  if (cached) {
    // Most recently used last: the first entry is the one evicted.
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const report = await readJson<BuildReport>(ctx.store, key);
  if (!report) return null;
  cache.set(key, report);
  if (cache.size > CACHED_REPORTS) cache.delete(cache.keys().next().value!);
  return report;
}

/**
 * The records with their reports: a succeeded build without one in its record gets its published
 * report.json. While storage is unreachable a record is answered without its report rather than
 * not at all (the record's state, verdict and times come from Redis).
 */
export async function withReports<R extends BuildRecord>(ctx: FarmContext, records: R[]): Promise<R[]> {
  return Promise.all(
    records.map(async (record) => {
      if (record.report || record.state !== 'succeeded') return record;
      const report = await readReport(ctx, record).catch((err: unknown) => {
        if (err instanceof StorageUnavailableError) return null;
        throw err;
      });
      return report ? { ...record, report } : record;
    }),
  );
}

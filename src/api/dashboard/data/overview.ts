/** The farm at a glance: counts, throughput of the last day, queues, workers, latest failures. */
import type { FarmContext } from '../../../context';
import { BUILD_STATES, type BuildRecord, type BuildState } from '../../../state/build-records';
import type { WorkerInfo } from '../../../state/worker-registry';
import type { Catalog } from './catalog';

const HOUR = 3_600_000;
/** Builds looked at for the per-hour chart: those created in the last two days, newest first, at most this many. */
const RECENT_LIMIT = 5000;

export interface HourBucket {
  /** Start of the hour (ISO 8601). */
  hour: string;
  succeeded: number;
  failed: number;
  cancelled: number;
}

export interface QueueDepth {
  target: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface OverviewData {
  counts: Record<BuildState, number>;
  total: number;
  finishedPerHour: HourBucket[];
  queues: QueueDepth[];
  workers: WorkerInfo[];
  failures: BuildRecord[];
}

export async function overviewData(ctx: FarmContext, catalog: Catalog, now = Date.now()): Promise<OverviewData> {
  const [counts, finishedPerHour, queues, workers, failures] = await Promise.all([
    ctx.builds.countByState(),
    finishedPerHourData(ctx, now),
    queueDepths(ctx, await catalog.targetKeys()),
    ctx.workers.live(),
    latestFailures(ctx, 8),
  ]);
  const total = BUILD_STATES.reduce((sum, s) => sum + counts[s], 0);
  return { counts, total, finishedPerHour, queues, workers, failures };
}

export async function queueDepths(ctx: FarmContext, targets: string[]): Promise<QueueDepth[]> {
  return Promise.all(
    targets.map(async (target) => {
      const d = await ctx.queues.depth(target);
      return { target, waiting: (d.waiting ?? 0) + (d.prioritized ?? 0), active: d.active ?? 0, delayed: d.delayed ?? 0, failed: d.failed ?? 0 };
    }),
  );
}

export async function latestFailures(ctx: FarmContext, count: number): Promise<BuildRecord[]> {
  const ids = await ctx.redis.zrevrange(ctx.keys.buildsByState('failed'), 0, count - 1);
  return ctx.builds.getMany(ids);
}

/** Terminal builds per hour over the last 24 hours, oldest hour first. */
export async function finishedPerHourData(ctx: FarmContext, now: number): Promise<HourBucket[]> {
  const firstHour = Math.floor(now / HOUR) * HOUR - 23 * HOUR;
  const buckets: HourBucket[] = Array.from({ length: 24 }, (_, i) => ({ hour: new Date(firstHour + i * HOUR).toISOString(), succeeded: 0, failed: 0, cancelled: 0 }));
  // Index scores are creation ms x 1000; builds finishing today were created in the last two days.
  const minScore = (now - 48 * HOUR) * 1000;
  const ids = await ctx.redis.zrevrangebyscore(ctx.keys.buildsAll, '+inf', minScore, 'LIMIT', 0, RECENT_LIMIT);
  if (ids.length === 0) return buckets;
  const pipeline = ctx.redis.pipeline();
  for (const id of ids) pipeline.hmget(ctx.keys.build(id), 'state', 'finishedAt');
  for (const [, value] of (await pipeline.exec()) ?? []) {
    const [state, finishedAt] = value as [string | null, string | null];
    if (!finishedAt || (state !== 'succeeded' && state !== 'failed' && state !== 'cancelled')) continue;
    const index = Math.floor((Date.parse(finishedAt) - firstHour) / HOUR);
    if (index >= 0 && index < 24) buckets[index][state]++;
  }
  return buckets;
}

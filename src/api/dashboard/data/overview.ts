/**
 * The farm at a glance: counts, throughput of the last day, queues, workers, latest failures. Each
 * part is O(targets, workers or hours), never O(recorded builds): counts are index sizes and the
 * hourly chart reads counters kept as builds finish (src/state/finished-per-hour.ts).
 */
import type { FarmContext } from '../../../context';
import { BUILD_STATES, type BuildRecord, type BuildState } from '../../../state/build-records';
import type { HourBucket } from '../../../state/finished-per-hour';
import type { WorkerInfo } from '../../../state/worker-registry';
import type { Catalog } from './catalog';

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
    ctx.builds.finishedPerHour(now),
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

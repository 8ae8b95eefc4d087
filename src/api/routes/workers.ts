import { Router } from 'express';
import type { FarmContext } from '../../context';
import { requireRole } from '../auth';
import { lastRecovery } from '../reconciler';

/** How many queued builds `unserved` looks at (the oldest first). */
const UNSERVED_SCAN = 1000;

export function workerRoutes(ctx: FarmContext): Router {
  const router = Router();
  router.get('/v1/workers', requireRole('admin'), async (_req, res) => {
    const workers = await ctx.workers.live();
    const served = new Set(workers.flatMap((w) => w.targets));
    // Queues with work and no worker: the targets of queued builds that no live worker serves.
    const queued = await ctx.builds.getMany(await ctx.redis.zrange(ctx.keys.buildsByState('queued'), '0', String(UNSERVED_SCAN - 1)));
    const unserved: Record<string, number> = {};
    for (const b of queued) if (!served.has(b.targetKey)) unserved[b.targetKey] = (unserved[b.targetKey] ?? 0) + 1;
    const targets = [...new Set([...served, ...Object.keys(unserved)])].sort();
    const queues = Object.fromEntries(await Promise.all(targets.map(async (t) => [t, await ctx.queues.depth(t)] as const)));
    res.json({ workers, queues, unserved: Object.entries(unserved).map(([target, builds]) => ({ target, queuedBuilds: builds })) });
  });

  // What the supervisor restored from storage the last time Redis lost its data (null: never).
  router.get('/v1/recovery', requireRole('reader'), async (_req, res) => {
    res.json({ recovery: await lastRecovery(ctx) });
  });

  router.post('/v1/admin/reindex', requireRole('admin'), async (_req, res) => {
    const [artifacts, models] = [await ctx.artifacts.rebuild(ctx.store), await ctx.models.rebuild()];
    res.json({ artifacts, models });
  });
  return router;
}

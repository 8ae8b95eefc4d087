import { Router } from 'express';
import type { FarmContext } from '../../context';
import { requireRole } from '../auth';
import { lastRecovery } from '../reconciler';

export function workerRoutes(ctx: FarmContext): Router {
  const router = Router();
  router.get('/v1/workers', requireRole('admin'), async (_req, res) => {
    const workers = await ctx.workers.live();
    const targets = [...new Set(workers.flatMap((w) => w.targets))].sort();
    const queues = Object.fromEntries(await Promise.all(targets.map(async (t) => [t, await ctx.queues.depth(t)] as const)));
    res.json({ workers, queues });
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

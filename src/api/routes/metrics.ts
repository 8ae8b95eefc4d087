/**
 * GET /metrics: Prometheus text format. The API's own registry (HTTP latency, its storage and
 * Redis errors, the farm's state read at scrape time) merged with every live worker's snapshot
 * from Redis (build and phase durations, builds finished, their storage and Redis errors; each
 * series labelled `worker`). Reader role: a scrape config sends a reader token.
 */
import { Router } from 'express';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { FarmContext } from '../../context';
import { readWorkerMetrics } from '../../state/fleet-metrics';
import { requireRole } from '../auth';

export function metricsRoutes(ctx: FarmContext, registry: Registry): Router {
  const router = Router();
  router.get('/metrics', requireRole('reader'), async (_req, res) => {
    const own = await registry.getMetricsAsJSON();
    const live = await ctx.workers.live();
    const fleet = await readWorkerMetrics(ctx.redis, ctx.keys, live.map((w) => w.id));
    // Series differ by their worker label, so aggregating only puts them under one name each.
    const merged = AggregatorRegistry.aggregate([own, ...fleet]);
    res.setHeader('Content-Type', merged.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.send(await merged.metrics());
  });
  return router;
}

import { Router } from 'express';
import type { FarmContext } from '../../context';
import type { BuildState } from '../../state/build-records';
import { requireRole } from '../auth';
import { notFound } from '../errors';

/** A request's state is its matrix's: running while any build is unfinished, then the worst outcome. */
export function matrixState(states: BuildState[]): string {
  if (states.some((s) => s === 'active')) return 'running';
  if (states.some((s) => s === 'queued')) return states.some((s) => s !== 'queued') ? 'running' : 'queued';
  if (states.some((s) => s === 'failed')) return 'failed';
  if (states.some((s) => s === 'cancelled')) return 'cancelled';
  return 'succeeded';
}

export function requestRoutes(ctx: FarmContext): Router {
  const router = Router();
  router.get('/v1/requests/:id', requireRole('reader'), async (req, res) => {
    const request = await ctx.requests.get(String(req.params.id));
    if (!request) throw notFound(`No request ${req.params.id}`);
    const builds = await ctx.builds.getMany(Object.values(request.builds));
    const counts: Record<string, number> = {};
    for (const b of builds) counts[b.state] = (counts[b.state] ?? 0) + 1;
    res.json({
      ...request,
      state: matrixState(builds.map((b) => b.state)),
      counts,
      builds: builds.map((b) => ({ id: b.id, target: b.targetKey, state: b.state, phase: b.phase, percent: b.percent, error: b.error, verdict: b.verdict })),
    });
  });
  return router;
}

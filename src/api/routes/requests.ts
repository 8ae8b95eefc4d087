import { Router } from 'express';
import type { FarmContext } from '../../context';
import type { BuildState } from '../../state/build-records';
import { requireRole } from '../auth';
import { buildJson } from '../build-json';
import { notFound } from '../errors';

/**
 * A request's state is its matrix's: running while any build is active; queued while every build
 * is queued; waiting when some are done and the rest are queued (nothing runs for it until a
 * worker takes them); then the worst outcome.
 */
export function matrixState(states: BuildState[]): string {
  if (states.length === 0) return 'unknown';
  if (states.includes('active')) return 'running';
  if (states.includes('queued')) return states.every((s) => s === 'queued') ? 'queued' : 'waiting';
  if (states.includes('failed')) return 'failed';
  if (states.includes('cancelled')) return 'cancelled';
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
      builds: builds.map((b) => buildJson({ buildKey: b.buildKey, target: b.targetKey, state: b.state, phase: b.phase, percent: b.percent, error: b.error, verdict: b.verdict })),
    });
  });
  return router;
}

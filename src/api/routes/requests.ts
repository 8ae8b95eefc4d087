import { Router } from 'express';
import type { FarmContext } from '../../context';
import type { BuildRecord, BuildState } from '../../state/build-records';
import { RequestRefError, requestBuildKeys, type RequestRecord } from '../../state/requests';
import { sweepJson, sweepResults } from '../sweep-results';
import { requireRole } from '../auth';
import { buildJson } from '../build-json';
import { badRequest, fromZod, notFound } from '../errors';
import { ListRequestsQuerySchema } from '../schemas';
import { withWaiting } from '../waiting';
import { withReports } from '../build-reports';

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

/** A request with its matrix state and the count of its builds in each state. */
export function requestSummary(request: RequestRecord, builds: BuildRecord[]) {
  const counts: Record<string, number> = {};
  for (const b of builds) counts[b.state] = (counts[b.state] ?? 0) + 1;
  return { ...request, state: matrixState(builds.map((b) => b.state)), counts };
}

/** RequestRefError as the API's answer: 400 for a malformed or ambiguous reference, 404 for none. */
export function mapRequestRefError(err: unknown): never {
  if (err instanceof RequestRefError) throw err.kind === 'not-found' ? notFound(err.message) : badRequest(err.message);
  throw err;
}

export function requestRoutes(ctx: FarmContext): Router {
  const router = Router();

  router.get('/v1/requests', requireRole('reader'), async (req, res) => {
    const query = ListRequestsQuerySchema.safeParse(req.query);
    if (!query.success) throw fromZod(query.error, 'query');
    const requests = await ctx.requests.latest(query.data.limit);
    const builds = await ctx.builds.getMany([...new Set(requests.flatMap(requestBuildKeys))]);
    const byKey = new Map(builds.map((b) => [b.buildKey, b]));
    res.json({
      requests: requests.map((r) => {
        const { options: _options, builds: _ids, sweep, ...summary } = requestSummary(r, requestBuildKeys(r).flatMap((key) => byKey.get(key) ?? []));
        return { ...summary, buildCount: requestBuildKeys(r).length, ...(sweep ? { sweepPoints: sweep.points.length } : {}) };
      }),
    });
  });

  router.get('/v1/requests/:id', requireRole('reader'), async (req, res) => {
    const request = await ctx.requests.resolve(String(req.params.id)).catch(mapRequestRefError);
    const builds = await ctx.builds.getMany(requestBuildKeys(request));
    // Only a sweep reads its builds' reports (to choose the best point).
    const sweep = request.sweep ? sweepResults(request, await withReports(ctx, builds)) : null;
    res.json({
      ...requestSummary(request, builds),
      builds: (await withWaiting(ctx, builds)).map((b) =>
        buildJson({ buildKey: b.buildKey, target: b.targetKey, state: b.state, phase: b.phase, percent: b.percent, error: b.error, verdict: b.verdict, waiting: b.waiting }),
      ),
      ...(sweep ? { sweep: sweepJson(sweep) } : {}),
    });
  });
  return router;
}


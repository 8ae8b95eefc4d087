import { Router, type Request } from 'express';
import type { FarmContext } from '../../context';
import { CursorError, type BuildRecord } from '../../state/build-records';
import { requireRole } from '../auth';
import { buildJson } from '../build-json';
import { jsonBody } from '../body-limits';
import { submitQuota, type Limits } from '../limits';
import { cancelBuild, loadBuild, retryBuild, sendBuildLog, streamBuildEvents } from '../build-actions';
import { badRequest, fromZod } from '../errors';
import type { EventHub } from '../event-hub';
import { ListBuildsQuerySchema, SubmitSchema } from '../schemas';
import { submitRequest } from '../submit';
import { withWaiting } from '../waiting';
import { mapRefError } from './models';
import { compareBuilds } from '../layer-profiles';
import { withReports } from '../build-reports';

export function buildRoutes(ctx: FarmContext, hub: EventHub, limits: Limits): Router {
  const router = Router();

  const load = (req: Request): Promise<BuildRecord> => loadBuild(ctx, String(req.params.id));

  // The body is read only once the token may submit.
  router.post('/v1/builds', requireRole('builder'), jsonBody(ctx.config.limits.maxSubmitBytes, 'KILN_MAX_SUBMIT_BYTES'), async (req, res) => {
    const body = SubmitSchema.safeParse(req.body ?? {});
    if (!body.success) throw fromZod(body.error, 'body');
    const result = await submitRequest(ctx, { ...body.data, rawOptions: (req.body as { options?: unknown }).options }, submitQuota(limits, req.caller!)).catch(mapRefError);
    res.status(result.builds.every((b) => b.cached) ? 200 : 202).json(result);
  });

  router.get('/v1/builds', requireRole('reader'), async (req, res) => {
    const query = ListBuildsQuerySchema.safeParse(req.query);
    if (!query.success) throw fromZod(query.error, 'query');
    const model = query.data.model ? (await ctx.models.resolve(query.data.model).catch(mapRefError)).sha256 : undefined;
    try {
      const page = await ctx.builds.list({ ...query.data, model });
      res.json({ ...page, builds: (await withWaiting(ctx, await withReports(ctx, page.builds))).map(buildJson) });
    } catch (err) {
      if (err instanceof CursorError) throw badRequest(err.message);
      throw err;
    }
  });

  router.get('/v1/builds/:id', requireRole('reader'), async (req, res) => {
    const record = await load(req);
    const published = await ctx.artifacts.get(record.modelId, record.buildKey);
    const base = `/v1/artifacts/${record.buildKey}`;
    const artifacts = published?.files.map((f) => ({ ...f, url: `${base}/${f.name}` })) ?? [];
    const [withReason] = await withWaiting(ctx, await withReports(ctx, [record]));
    res.json(buildJson({ ...withReason, published: Boolean(published), artifacts }));
  });

  router.delete('/v1/builds/:id', requireRole('builder'), async (req, res) => {
    const result = await cancelBuild(ctx, await load(req));
    res.status(result.status).json(result.body);
  });

  router.post('/v1/builds/:id/retry', requireRole('builder'), async (req, res) => {
    const result = await retryBuild(ctx, await load(req));
    res.status(result.status).json(result.body);
  });

  router.get('/v1/builds/:id/log', requireRole('reader'), async (req, res) => {
    await sendBuildLog(ctx, req, res, await load(req));
  });

  router.get('/v1/builds/:id/compare/:other', requireRole('reader'), async (req, res) => {
    const [a, b] = await Promise.all([load(req), loadBuild(ctx, String(req.params.other))]);
    res.json(await compareBuilds(ctx, a, b));
  });

  router.get('/v1/builds/:id/events', requireRole('reader'), async (req, res) => {
    await streamBuildEvents(ctx, hub, req, res, await load(req), req.query.log !== '0');
  });

  return router;
}


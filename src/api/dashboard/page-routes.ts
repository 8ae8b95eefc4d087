/** The dashboard's HTML pages and its cookie-authenticated downloads. */
import { Router, type Request, type Response } from 'express';
import type { FarmContext } from '../../context';
import { loadBuild, sendBuildLog } from '../build-actions';
import { badRequest, notFound } from '../errors';
import { mapRefError } from '../routes/models';
import { sweepResults } from '../sweep-results';
import { sendArtifact } from '../routes/artifacts';
import { buildDetailData } from './data/build-detail';
import { buildsPageData, parseBuildsQuery } from './data/builds';
import type { Catalog } from './data/catalog';
import { fleetData } from './data/fleet';
import { artifactCounts, modelDetailData } from './data/models';
import { overviewData } from './data/overview';
import { latestRequests, requestData } from './data/requests';
import { timingCacheData } from './data/timing-caches';
import { ModelCursorError } from '../../state/model-registry';
import type { Html } from './html';
import { buildDetailBody } from './pages/build-detail';
import { compareBody } from './pages/layer-profile';
import { compareBuilds } from '../layer-profiles';
import { buildRows, buildsBody } from './pages/builds';
import { fleetBody } from './pages/fleet';
import { modelName, submitBody } from './pages/forms';
import { page, type NavId } from './pages/layout';
import { modelDetailBody, modelsBody } from './pages/models';
import { overviewBody } from './pages/overview';
import { requestMatrixBody, requestsBody } from './pages/requests';
import { sweepSection } from './pages/sweep';
import { timingCachesBody } from './pages/timing-caches';
import { hasRole } from './sessions';
import { pageRole } from './session-auth';

/** Models per page of the models page. (Default: 50.) */
const MODELS_PER_PAGE = 50;

export function pageRoutes(ctx: FarmContext, catalog: Catalog): Router {
  const router = Router();
  const reader = pageRole('reader');

  const render = (req: Request, res: Response, nav: NavId | undefined, title: string, body: Html, extra: { scripts?: string[]; charts?: boolean } = {}) => {
    res
      .status(200)
      .setHeader('Cache-Control', 'no-store')
      .type('html')
      .send(page({ title, nav, session: req.dashboardSession!, body, ...extra }));
  };

  router.get('/dashboard', reader, async (req, res) => {
    const data = await overviewData(ctx, catalog);
    const labelOf = await catalog.labels(data.failures.map((b) => b.modelId));
    render(req, res, 'overview', 'Overview', overviewBody(data, labelOf), { charts: true, scripts: ['live.js'] });
  });

  router.get('/dashboard/builds', reader, async (req, res) => {
    const { filter, fragment } = parseBuildsQuery(req.query);
    const session = req.dashboardSession!;
    const data = await buildsPageData(ctx, filter);
    const labelOf = await catalog.labels(data.page.builds.map((b) => b.modelId));
    const csrf = hasRole(session, 'builder') ? session.csrf : null;
    if (fragment) {
      res.setHeader('Cache-Control', 'no-store');
      res.type('html').send(buildRows(data.page.builds, labelOf, csrf, Boolean(filter.state || filter.model || filter.target)).value);
      return;
    }
    const [{ records }, targets] = await Promise.all([catalog.modelChoices(filter.model), catalog.targetKeys()]);
    const models = records.map((m) => ({ sha256: m.sha256, labels: m.labels }));
    render(req, res, 'builds', 'Builds', buildsBody({ data, session, labelOf, models, targets }), { scripts: ['live.js'] });
  });

  router.get('/dashboard/builds/:id', reader, async (req, res) => {
    const record = await loadBuild(ctx, String(req.params.id));
    const data = await buildDetailData(ctx, record);
    render(req, res, 'builds', `Build ${record.buildKey.slice(0, 12)}`, buildDetailBody(data, req.dashboardSession!), { charts: true, scripts: ['build.js'] });
  });

  // The build page's compare form sends ?with=<buildKey>; the view has one address per pair.
  router.get('/dashboard/builds/:id/compare', reader, async (req, res) => {
    const other = typeof req.query.with === 'string' ? req.query.with : '';
    res.redirect(303, `/dashboard/builds/${encodeURIComponent(String(req.params.id))}/compare/${encodeURIComponent(other)}`);
  });

  router.get('/dashboard/builds/:id/compare/:other', reader, async (req, res) => {
    const [a, b] = await Promise.all([loadBuild(ctx, String(req.params.id)), loadBuild(ctx, String(req.params.other))]);
    const comparison = await compareBuilds(ctx, a, b);
    const model = await ctx.models.get(a.modelId);
    render(req, res, 'builds', `Compare ${a.buildKey.slice(0, 12)} and ${b.buildKey.slice(0, 12)}`, compareBody(comparison, model?.labels.join(', ') || null), { charts: true });
  });

  router.get('/dashboard/builds/:id/log', reader, async (req, res) => {
    await sendBuildLog(ctx, req, res, await loadBuild(ctx, String(req.params.id)));
  });

  router.get('/dashboard/requests', reader, async (req, res) => {
    const requests = await latestRequests(ctx, 50);
    const labelOf = await catalog.labels(requests.map((r) => r.request.modelId));
    render(req, res, 'requests', 'Requests', requestsBody(requests, labelOf));
  });

  router.get('/dashboard/requests/:id', reader, async (req, res) => {
    const found = await requestData(ctx, String(req.params.id));
    const labelOf = await catalog.labels([found.summary.request.modelId]);
    const charts = Boolean(found.summary.request.sweep);
    render(req, res, 'requests', `Request ${found.summary.request.id.slice(0, 8)}`, requestMatrixBody(found.summary, found.builds, labelOf, found.liveTargets), { scripts: ['live.js'], charts });
  });

  // The sweep section alone, for live.js to re-render as its builds finish.
  router.get('/dashboard/requests/:id/sweep', reader, async (req, res) => {
    const found = await requestData(ctx, String(req.params.id));
    const results = sweepResults(found.summary.request, found.builds);
    if (!results) throw notFound(`Request ${found.summary.request.id} is not a sweep`);
    res.type('html').send(sweepSection(results).value);
  });

  router.get('/dashboard/models', reader, async (req, res) => {
    const cursor = typeof req.query.cursor === 'string' && req.query.cursor ? req.query.cursor : undefined;
    const { models, nextCursor } = await ctx.models.page({ cursor, limit: MODELS_PER_PAGE }).catch((err) => {
      if (err instanceof ModelCursorError) throw badRequest(err.message);
      throw err;
    });
    render(req, res, 'models', 'Models', modelsBody(models, await artifactCounts(ctx, models), { first: !cursor, nextCursor }));
  });

  router.get('/dashboard/models/:ref', reader, async (req, res) => {
    const model = await ctx.models.resolve(String(req.params.ref)).catch(mapRefError);
    render(req, res, 'models', `Model ${modelName(model)}`, modelDetailBody(await modelDetailData(ctx, model)), { charts: true });
  });

  router.get('/dashboard/fleet', reader, async (req, res) => {
    render(req, res, 'fleet', 'Fleet', fleetBody(await fleetData(ctx)), { charts: true, scripts: ['live.js'] });
  });

  router.get('/dashboard/timing-caches', reader, async (req, res) => {
    render(req, res, 'timing-caches', 'Timing caches', timingCachesBody(await timingCacheData(ctx, await catalog.targetKeys())), { charts: true });
  });

  router.get('/dashboard/submit', pageRole('builder'), async (req, res) => {
    const [{ records, more }, targets, live] = await Promise.all([catalog.modelChoices(), catalog.targetKeys(), ctx.workers.liveTargets()]);
    render(req, res, 'submit', 'Submit', submitBody({ models: records, more }, targets, live, req.dashboardSession!.csrf));
  });

  router.get('/dashboard/artifacts/:buildKey/:file', reader, async (req, res) => {
    await sendArtifact(ctx, req, res, String(req.params.buildKey), String(req.params.file));
  });

  return router;
}

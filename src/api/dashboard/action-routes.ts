/**
 * The dashboard's JSON endpoints and event streams (`/dashboard/api/...`), and the submit form's
 * own POST. Actions reuse the API's own functions (cancel, retry, submit); they answer JSON to
 * scripts and redirect plain forms, so every button works without JavaScript too.
 */
import { Router, type Request, type Response } from 'express';
import type { FarmContext } from '../../context';
import type { BuildEvent } from '../../state/build-events';
import { eventJson } from '../build-json';
import { cancelBuild, loadBuild, retryBuild, streamBuildEvents, type ActionResult } from '../build-actions';
import { ApiError, badRequest, fromZod } from '../errors';
import { submitQuota, type Limits } from '../limits';
import type { EventHub } from '../event-hub';
import { mapRefError } from '../routes/models';
import { SubmitSchema } from '../schemas';
import { submitRequest } from '../submit';
import type { Catalog } from './data/catalog';
import { submitBody, type SubmitFormValues } from './pages/forms';
import { page } from './pages/layout';
import { apiRole, csrfProtected, originProblem, pageRole } from './session-auth';

export function actionRoutes(ctx: FarmContext, hub: EventHub, catalog: Catalog, limits?: Limits): Router {
  const router = Router();

  /** Farm-wide state and progress events (no log lines), for live tables. */
  router.get('/dashboard/api/events', apiRole('reader'), async (req, res) => {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // Listened for before the await: a client gone while Redis confirms the subscription is still seen.
    let stop: (() => void) | null = null;
    let gone = false;
    req.on('close', () => {
      gone = true;
      stop?.();
    });
    const unsubscribe = await hub.subscribe(ctx.keys.allEvents, (event: BuildEvent) => {
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(eventJson(event))}\n\n`);
    });
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    stop = () => {
      clearInterval(keepAlive);
      unsubscribe();
    };
    if (gone) return stop();
    res.write(': connected\n\n');
  });

  router.get('/dashboard/api/builds/:id/events', apiRole('reader'), async (req, res) => {
    await streamBuildEvents(ctx, hub, req, res, await loadBuild(ctx, String(req.params.id)), req.query.log !== '0');
  });

  const action = (run: (ctx: FarmContext, id: string) => Promise<ActionResult>) => async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const result = await run(ctx, id);
    if (wantsJson(req)) {
      res.status(result.status).json(result.body);
      return;
    }
    res.redirect(303, backTo(req, `/dashboard/builds/${id}`));
  };
  router.post('/dashboard/api/builds/:id/cancel', apiRole('builder'), csrfProtected(), action(async (c, id) => cancelBuild(c, await loadBuild(c, id))));
  router.post('/dashboard/api/builds/:id/retry', apiRole('builder'), csrfProtected(), action(async (c, id) => retryBuild(c, await loadBuild(c, id))));

  const submit = async (req: Request, input: unknown) => {
    const parsed = SubmitSchema.safeParse(input);
    if (!parsed.success) throw fromZod(parsed.error, 'body');
    const session = req.dashboardSession!;
    const quota = limits ? submitQuota(limits, { role: session.role, tokenId: session.tokenId }) : undefined;
    const result = await submitRequest(ctx, parsed.data, quota).catch(mapRefError);
    catalog.invalidate();
    return result;
  };

  /** For scripts: the submit body as JSON, the API's answer as JSON. */
  router.post('/dashboard/api/submit', apiRole('builder'), csrfProtected(), async (req, res) => {
    const { _csrf: _ignored, ...fields } = (req.body ?? {}) as Record<string, unknown>;
    const result = await submit(req, req.is('application/json') ? fields : formSubmitInput(fields));
    res.status(result.builds.every((b) => b.cached) ? 200 : 202).json(result);
  });

  /** The submit page's form: on to the request's matrix, or the form again with the problem and what was typed. */
  router.post('/dashboard/submit', pageRole('builder'), csrfProtected(), async (req, res) => {
    const { _csrf: _ignored, ...fields } = (req.body ?? {}) as Record<string, unknown>;
    try {
      const result = await submit(req, formSubmitInput(fields));
      res.redirect(303, `/dashboard/requests/${result.request}`);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status >= 500) throw err;
      const values = formValues(fields);
      const [{ records, more }, targets, live] = await Promise.all([catalog.modelChoices(values.model), catalog.targetKeys(), ctx.workers.liveTargets()]);
      const body = submitBody({ models: records, more }, targets, live, req.dashboardSession!.csrf, err.message, values);
      res.status(err.status).setHeader('Cache-Control', 'no-store').type('html').send(page({ title: 'Submit', nav: 'submit', session: req.dashboardSession!, body }));
    }
  });

  return router;
}

/** Scripts ask for JSON; a plain HTML form post (no script) gets a redirect. */
function wantsJson(req: Request): boolean {
  return req.is('application/json') === 'application/json' || (req.accepts(['html', 'json']) === 'json');
}

/** Back to the page the form was on (same origin, checked), else a default. */
function backTo(req: Request, fallback: string): string {
  const referer = req.get('referer');
  if (!referer || originProblem(req) !== null) return fallback;
  try {
    const url = new URL(referer);
    return url.pathname.startsWith('/dashboard') ? url.pathname + url.search : fallback;
  } catch {
    return fallback;
  }
}

function formValues(body: Record<string, unknown>): SubmitFormValues {
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    model: text(body.model),
    targets: Array.isArray(body.targets) ? body.targets.map(String) : typeof body.targets === 'string' ? [body.targets] : [],
    moreTargets: text(body.moreTargets),
    options: text(body.options),
  };
}

/** The form's fields (targets as checkboxes plus a free list, options as JSON text) as a submit body. */
export function formSubmitInput(body: Record<string, unknown>): unknown {
  const listed = Array.isArray(body.targets) ? body.targets : typeof body.targets === 'string' ? [body.targets] : [];
  const more = typeof body.moreTargets === 'string' ? body.moreTargets.split(',').map((s) => s.trim()).filter(Boolean) : [];
  const targets = [...new Set([...listed.map(String), ...more])];
  if (targets.length === 0) throw badRequest('Choose at least one target (tick one, or type target keys such as ort1.30.0-x86_64-avx2)');
  let options: unknown;
  if (typeof body.options === 'string' && body.options.trim() !== '') {
    try {
      options = JSON.parse(body.options);
    } catch (err) {
      throw badRequest(`Options must be JSON, e.g. {"benchmark": {"maxBatch": 8}}; ${(err as Error).message}`);
    }
  }
  return { model: body.model, targets, ...(options === undefined ? {} : { options }) };
}

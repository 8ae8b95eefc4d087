/**
 * The admin dashboard, served by the API under /dashboard: server-rendered pages (plain template
 * functions, everything escaped) with a small script per page for live updates over SSE, charts
 * from Chart.js, and bull-board for admins. Signing in with a Kiln token opens a session kept in
 * Redis; the browser holds only an HttpOnly, SameSite=Strict cookie, and every state-changing
 * request must carry the session's CSRF token and come from this origin.
 *
 * Mount with `app.use(dashboardRoutes(ctx, hub))` before the API's 404 handler.
 */
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { generatedTokenPath } from '../../admin-token';
import type { FarmContext } from '../../context';
import { TokenTable } from '../auth';
import { ApiError, errorHeaders, toApiError } from '../errors';
import { SignInLimiter, type Limits } from '../limits';
import type { EventHub } from '../event-hub';
import { assetRoutes } from './assets';
import { actionRoutes } from './action-routes';
import { Catalog } from './data/catalog';
import { pageRoutes } from './page-routes';
import { html, type Html } from './html';
import { errorBody, signInBody } from './pages/forms';
import { page } from './pages/layout';
import { startPhaseRecorder } from './phase-recorder';
import { queueBoard, QUEUES_PATH } from './queue-board';
import { apiRole, loadSession, safeNext, sameOrigin, sessionCookie, csrfProtected } from './session-auth';
import { SessionStore, sha256Hex } from './sessions';

const HOUR = 3_600_000;

export interface DashboardOptions {
  /** How long a sign-in lasts, in ms (Default: 12 hours). */
  sessionTtlMs?: number;
  /** The API's token table (Default: one of KILN_TOKENS only). */
  tokens?: TokenTable;
  /** The API's quotas, applied to submissions from the dashboard too. */
  limits?: Limits;
}

/** Pages and assets are not cached by proxies; the CSP allows only this origin (Chart.js runs from here too). */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  );
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('X-Frame-Options', 'DENY');
  next();
};

export function dashboardRoutes(ctx: FarmContext, hub: EventHub, options: DashboardOptions = {}): Router {
  const tokens = options.tokens ?? new TokenTable(ctx.config.tokens);
  const sessions = new SessionStore(ctx.redis, ctx.config.prefix, (digest) => tokens.roleOfDigest(digest), options.sessionTtlMs ?? 12 * HOUR);
  const signIns = new SignInLimiter(ctx);
  const catalog = new Catalog(ctx);
  startPhaseRecorder(hub, ctx.redis, ctx.keys, ctx.config.prefix, ctx.log).catch((err: Error) => ctx.log.error({ err }, 'dashboard phase timeline disabled'));

  const tokenHint = signInHint(generatedTokenPath(ctx.config));
  const router = Router();
  // A person who types the farm's address lands on the dashboard; API clients get the documents.
  router.get('/', (req, res) => {
    if (req.accepts(['html', 'json']) === 'json') res.json({ dashboard: '/dashboard', openapi: '/openapi.json', health: '/healthz' });
    else res.redirect(302, '/dashboard');
  });
  router.use('/dashboard', securityHeaders);
  router.use(assetRoutes());
  // The session first, bodies after: only a signed-in session's bodies (and the sign-in form's) are read.
  const urlencoded = express.urlencoded({ extended: false, limit: '64kb' });
  const json = express.json({ limit: '1mb' });
  router.use('/dashboard', loadSession(sessions), (req, res, next) => {
    const signingIn = req.method === 'POST' && req.path === '/sign-in';
    if (!req.dashboardSession && !signingIn) return next();
    urlencoded(req, res, (err?: unknown) => (err ? next(err) : signingIn ? next() : json(req, res, next)));
  });

  router.get('/dashboard/sign-in', (req, res) => {
    const next = safeNext(req.query.next);
    if (req.dashboardSession) return res.redirect(303, next);
    sendPage(res, 200, page({ title: 'Sign in', session: null, body: signInBody(next, tokenHint) }));
  });

  router.post('/dashboard/sign-in', sameOrigin(), async (req, res) => {
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : '';
    const next = safeNext(req.body?.next);
    const address = req.ip ?? 'unknown';
    try {
      await signIns.check(address);
    } catch (err) {
      const refusal = toApiError(err);
      res.set(errorHeaders(refusal));
      sendPage(res, refusal.status, page({ title: 'Sign in', session: null, body: signInBody(next, tokenHint, refusal.message) }));
      return;
    }
    const role = token ? await tokens.roleOfDigest(sha256Hex(token)) : null;
    if (!role) {
      await signIns.failed(address);
      sendPage(res, 401, page({ title: 'Sign in', session: null, body: signInBody(next, tokenHint, 'That token is not valid for this Kiln (unknown, revoked or expired).') }));
      return;
    }
    await signIns.succeeded(address);
    const session = await sessions.create(token);
    res.setHeader('Set-Cookie', sessionCookie(req, session.id, sessions.ttlMs / 1000));
    res.redirect(303, next);
  });

  router.post('/dashboard/sign-out', apiRole('reader'), csrfProtected(), async (req, res) => {
    await sessions.destroy(req.dashboardSession!.id);
    res.setHeader('Set-Cookie', sessionCookie(req, '', 0));
    res.redirect(303, '/dashboard/sign-in');
  });

  const board = queueBoard(ctx, catalog);
  // bull-board's own API calls cannot carry our CSRF token: admin role, same origin and the
  // SameSite=Strict cookie keep them from being forged.
  router.use(QUEUES_PATH, apiRole('admin'), sameOrigin(), board.refresh, board.router);

  router.use(actionRoutes(ctx, hub, catalog, options.limits));
  router.use(pageRoutes(ctx, catalog));
  router.use('/dashboard', (req, _res, next) => next(new ApiError(404, 'not_found', `No dashboard page ${req.path}`)));
  router.use(dashboardErrors);
  return router;
}

/** Where a token comes from: the file `npm start` wrote, or the people who run this Kiln. */
function signInHint(generatedAt: string | null): Html {
  if (generatedAt) return html`<code>npm start</code> generated an admin token: it is in <code>${generatedAt}</code> on the machine that runs Kiln (<code>cat ${generatedAt}</code>).`;
  return html`Tokens come from whoever runs this Kiln (<code>KILN_TOKENS</code>, or <code>kiln tokens create</code>); ask them for one.`;
}

function sendPage(res: Response, status: number, body: string): void {
  res.status(status).setHeader('Cache-Control', 'no-store').type('html').send(body);
}

const wantsJson = (req: Request) => req.originalUrl.startsWith('/dashboard/api/') || req.originalUrl.startsWith(`${QUEUES_PATH}/api/`) || !req.accepts('html');

/** JSON errors (from the API's error middleware) for scripts; an HTML page for people. */
const dashboardErrors: ErrorRequestHandler = (err, req, res, next) => {
  if (!req.originalUrl.startsWith('/dashboard') || wantsJson(req) || res.headersSent) return next(err);
  // Express's own 4xx errors (express.static) keep their status; everything else is classified like the API's.
  const plain4xx = !(err instanceof ApiError) && !err?.type && typeof err?.status === 'number' && err.status < 500;
  const apiError = plain4xx ? new ApiError(err.status, 'error', err.message) : toApiError(err);
  if (apiError.code === 'internal') req.log?.error({ err }, `${req.method} ${req.originalUrl} failed`);
  res.set(errorHeaders(apiError));
  sendPage(res, apiError.status, page({ title: 'Error', session: req.dashboardSession ?? null, body: errorBody(apiError.status, apiError.message) }));
};

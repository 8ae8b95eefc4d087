/**
 * Who is asking, for dashboard routes: the session cookie decides (bearer tokens are the API's
 * business). Pages redirect to the sign-in form; JSON endpoints answer 401/403 like the API.
 * State-changing requests must come from this origin and carry the session's CSRF token.
 */
import type { Request, RequestHandler } from 'express';
import type { Role } from '../../config';
import { ApiError } from '../errors';
import { parseCookies, serializeCookie } from './cookies';
import { csrfMatches, hasRole, type Session, type SessionStore } from './sessions';

export const SESSION_COOKIE = 'kiln_session';
export const COOKIE_PATH = '/dashboard';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';

declare module 'express-serve-static-core' {
  interface Request {
    dashboardSession?: Session | null;
  }
}

export function loadSession(sessions: SessionStore): RequestHandler {
  return async (req, _res, next) => {
    req.dashboardSession = await sessions.get(parseCookies(req.headers.cookie)[SESSION_COOKIE]);
    next();
  };
}

export function sessionCookie(req: Request, value: string, maxAgeSeconds: number): string {
  return serializeCookie(SESSION_COOKIE, value, { path: COOKIE_PATH, maxAge: maxAgeSeconds, secure: req.secure });
}

/** Where sign-in may send the browser back to: dashboard paths only (no open redirect). */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/dashboard(\/[^\\]*)?$/.test(value) && !value.startsWith('//') ? value : '/dashboard';
}

/** For HTML pages: no session -> the sign-in form (coming back here after); too low a role -> 403. */
export function pageRole(role: Role): RequestHandler {
  return (req, res, next) => {
    if (!req.dashboardSession) {
      res.redirect(303, `/dashboard/sign-in?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    if (!hasRole(req.dashboardSession, role)) {
      return next(new ApiError(403, 'forbidden', `This page needs the ${role} role; you signed in with a ${req.dashboardSession.role} token`));
    }
    next();
  };
}

/** For dashboard JSON endpoints and streams. */
export function apiRole(role: Role): RequestHandler {
  return (req, _res, next) => {
    if (!req.dashboardSession) return next(new ApiError(401, 'unauthorized', 'Sign in to the dashboard first (POST /dashboard/sign-in)'));
    if (!hasRole(req.dashboardSession, role)) {
      return next(new ApiError(403, 'forbidden', `This needs the ${role} role; you signed in with a ${req.dashboardSession.role} token`));
    }
    next();
  };
}

/**
 * The origin the browser says it is on must be this server's. Browsers send Origin with every
 * POST (fetch and forms); Referer is the fallback some privacy settings leave. Returns a problem
 * or null.
 */
export function originProblem(req: Request): string | null {
  const expected = `${req.protocol}://${req.host}`;
  const origin = req.get('origin');
  if (origin) return origin === expected ? null : `Expected requests from origin ${expected} but received one from ${origin}`;
  const referer = req.get('referer');
  if (referer) return referer === expected || referer.startsWith(`${expected}/`) ? null : `Expected requests from origin ${expected} but the Referer is ${referer}`;
  return `Expected an Origin (or Referer) header of ${expected} on a state-changing request but received neither`;
}

/** Origin check only: for the sign-in form (no session yet) and bull-board's own API calls. */
export function sameOrigin(): RequestHandler {
  return (req, _res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    const problem = originProblem(req);
    next(problem ? new ApiError(403, 'cross_origin', problem) : undefined);
  };
}

/** Origin check plus the synchronizer token, from the X-CSRF-Token header or a form's _csrf field. */
export function csrfProtected(): RequestHandler {
  return (req, _res, next) => {
    const problem = originProblem(req);
    if (problem) return next(new ApiError(403, 'cross_origin', problem));
    const submitted = req.get(CSRF_HEADER) ?? (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
    if (!req.dashboardSession || !csrfMatches(req.dashboardSession, submitted)) {
      return next(new ApiError(403, 'csrf', `Expected this session's CSRF token in the ${CSRF_HEADER} header or the ${CSRF_FIELD} form field; reload the page and try again`));
    }
    next();
  };
}

/** Builds the express app; `main.ts` makes it listen. */
import express, { type Express } from 'express';
import type { FarmContext } from '../context';
import { ApiTokens } from '../state/api-tokens';
import { identify, TokenTable } from './auth';
import { dashboardRoutes } from './dashboard';
import { errorMiddleware, notFound } from './errors';
import type { EventHub } from './event-hub';
import { registerFarmMetrics } from './farm-metrics';
import { HealthChecks } from './health';
import { Limits } from './limits';
import { openApiDocument } from './openapi';
import { RETRY_AFTER_SECONDS } from './outages';
import { ResolveHandler } from './resolve-handler';
import { adminRoutes } from './routes/admin';
import { artifactRoutes } from './routes/artifacts';
import { buildRoutes } from './routes/builds';
import { calibrationRoutes } from './routes/calibration';
import { exportRoutes } from './routes/exports';
import { inputRoutes } from './routes/inputs';
import { keyRoutes } from './routes/keys';
import { metricsRoutes } from './routes/metrics';
import { modelRoutes } from './routes/models';
import { requestRoutes } from './routes/requests';
import { resolveRoutes } from './routes/resolve';
import { timingCacheRoutes } from './routes/timing-caches';
import { tokenRoutes } from './routes/tokens';
import { workerRoutes } from './routes/workers';

const VERSION: string = require('../../package.json').version;

/** What the routes share within one API process. */
export interface ApiServices {
  tokens: TokenTable;
  limits: Limits;
  resolve: ResolveHandler;
  health: HealthChecks;
}

export function apiServices(ctx: FarmContext): ApiServices {
  const tokens = new TokenTable(ctx.config.tokens, new ApiTokens(ctx.redis, ctx.keys));
  const limits = new Limits(ctx);
  registerFarmMetrics(ctx, ctx.metrics.registry);
  return { tokens, limits, resolve: new ResolveHandler(ctx, tokens, limits), health: new HealthChecks(ctx) };
}

export function createApp(ctx: FarmContext, hub: EventHub, services: ApiServices = apiServices(ctx)): Express {
  const { tokens, limits, health } = services;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', 'loopback');

  // Liveness: answers while the process runs, saying what is down; 200 either way (restarting
  // the API does not bring Redis or storage back).
  app.get('/healthz', async (_req, res) => {
    const { redis, storage } = await health.check();
    res.setHeader('Cache-Control', 'no-store');
    res.json({ status: redis.ok && storage.ok ? 'ok' : 'degraded', redis, storage, version: VERSION });
  });
  // Readiness: 503 while Redis or storage is down, so a load balancer sends requests elsewhere.
  app.get('/readyz', async (_req, res) => {
    const { redis, storage } = await health.check();
    const down = [...(redis.ok ? [] : [`redis: ${redis.error}`]), ...(storage.ok ? [] : [`storage: ${storage.error}`])];
    res.setHeader('Cache-Control', 'no-store');
    if (down.length) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(down.length ? 503 : 200).json({ ready: down.length === 0, ...(down.length ? { notReady: down } : {}) });
  });
  const openapi = openApiDocument(VERSION);
  app.get('/openapi.json', (_req, res) => res.json(openapi));

  app.use(identify(tokens));
  // Per-token request rate; anonymous requests are refused by their routes anyway.
  app.use(async (req, _res, next) => {
    try {
      if (req.caller) await limits.request(req.caller);
      next();
    } catch (err) {
      next(err);
    }
  });

  app.use(metricsRoutes(ctx, ctx.metrics.registry));
  app.use(modelRoutes(ctx, limits, () => services.resolve.invalidate()));
  app.use(adminRoutes(ctx));
  app.use(exportRoutes(ctx));
  app.use(buildRoutes(ctx, hub, limits));
  app.use(requestRoutes(ctx));
  app.use(artifactRoutes(ctx));
  app.use(resolveRoutes(services.resolve));
  app.use(timingCacheRoutes(ctx));
  app.use(calibrationRoutes(ctx, limits));
  app.use(inputRoutes(ctx, limits));
  app.use(keyRoutes(ctx));
  app.use(tokenRoutes(ctx, tokens));
  app.use(workerRoutes(ctx));
  app.use(dashboardRoutes(ctx, hub, { tokens, limits }));

  app.use((req, _res, next) => next(notFound(`No route ${req.method} ${req.path}; see /openapi.json`)));
  app.use(errorMiddleware(ctx.config.development));
  return app;
}

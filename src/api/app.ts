/** Builds the express app; `main.ts` makes it listen. */
import express, { type Express } from 'express';
import type { FarmContext } from '../context';
import { identify, TokenTable } from './auth';
import { dashboardRoutes } from './dashboard';
import { errorMiddleware, notFound } from './errors';
import type { EventHub } from './event-hub';
import { openApiDocument } from './openapi';
import { ResolveHandler } from './resolve-handler';
import { artifactRoutes } from './routes/artifacts';
import { buildRoutes } from './routes/builds';
import { calibrationRoutes } from './routes/calibration';
import { modelRoutes } from './routes/models';
import { requestRoutes } from './routes/requests';
import { resolveRoutes } from './routes/resolve';
import { timingCacheRoutes } from './routes/timing-caches';
import { workerRoutes } from './routes/workers';

const VERSION: string = require('../../package.json').version;

export function createApp(ctx: FarmContext, hub: EventHub, tokens = new TokenTable(ctx.config.tokens), resolve = new ResolveHandler(ctx, tokens)): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', 'loopback');

  app.get('/healthz', async (_req, res) => {
    const redis = await ctx.redis.ping().then(() => 'ok', (err: Error) => err.message);
    res.status(redis === 'ok' ? 200 : 503).json({ status: redis === 'ok' ? 'ok' : 'degraded', redis, store: ctx.store.kind, version: VERSION });
  });
  const openapi = openApiDocument(VERSION);
  app.get('/openapi.json', (_req, res) => res.json(openapi));

  app.use(identify(tokens));
  // JSON bodies only where JSON is expected: model uploads are streamed by their own route.
  app.use('/v1/builds', express.json({ limit: '16mb' }));

  app.use(modelRoutes(ctx));
  app.use(buildRoutes(ctx, hub));
  app.use(requestRoutes(ctx));
  app.use(artifactRoutes(ctx));
  app.use(resolveRoutes(resolve));
  app.use(timingCacheRoutes(ctx));
  app.use(calibrationRoutes(ctx));
  app.use(workerRoutes(ctx));
  app.use(dashboardRoutes(ctx, hub));

  app.use((req, _res, next) => next(notFound(`No route ${req.method} ${req.path}; see /openapi.json`)));
  app.use(errorMiddleware(ctx.config.development));
  return app;
}

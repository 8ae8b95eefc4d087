/** The API process: `npm run start:api` (or `kiln api`). */
import { createServer, type Server } from 'node:http';
import { loadConfig, type KilnConfig } from '../config';
import { scheduleGarbageCollection } from '../cleanup/collect-garbage';
import { createContext, type FarmContext } from '../context';
import { connectRedis } from '../state/redis';
import { apiServices, createApp } from './app';
import { startBodyDeadline } from './body-limits';
import { errorHeaders, toApiError } from './errors';
import { EventHub } from './event-hub';
import { Reconciler } from './reconciler';
import { requestObserver } from './request-observer';

export interface RunningApi {
  server: Server;
  url: string;
  ctx: FarmContext;
  reconciler: Reconciler;
  close(): Promise<void>;
}

export async function startApi(config: KilnConfig, ctx: FarmContext = createContext(config, 'kiln-api', undefined, { redis: 'request' })): Promise<RunningApi> {
  const hub = new EventHub(connectRedis(config.redisUrl, 'kiln-api-events'));
  // The supervisor's first pass restores from storage what Redis lost (a new or flushed Redis)
  // before anything is served; later passes do it again whenever Redis loses it while running.
  const reconciler = new Reconciler(ctx);
  await reconciler.start();
  const services = apiServices(ctx);
  const { resolve } = services;
  // A published build can change what resolve answers: drop cached answers when one succeeds.
  const stopInvalidating = await hub.subscribe(ctx.keys.allEvents, (event) => {
    if (event.type === 'state' && event.state === 'succeeded') resolve.invalidate();
  });
  const app = createApp(ctx, hub, services);
  const stopGc = scheduleGarbageCollection(ctx);
  const observe = requestObserver(ctx.log, ctx.metrics.registry);
  // GET /v1/resolve is answered before Express: it is the request a farm serves most, and the
  // router costs several times the answer (docs/bench). Everything else goes to Express.
  // Node checks header and request deadlines only this often (Default: 30 s, far past ours).
  const server = createServer({ connectionsCheckingInterval: Math.min(1000, config.limits.headersTimeoutMs) }, (req, res) => {
    observe(req, res);
    startBodyDeadline(req, res, config.limits.requestTimeoutMs);
    const url = req.url ?? '';
    if (req.method !== 'GET' || !url.startsWith('/v1/resolve?')) return app(req, res);
    (req as { routeTemplate?: string }).routeTemplate = '/v1/resolve';
    resolve.handle(url.slice('/v1/resolve?'.length), req.headers.authorization).then(
      (result) => {
        res.writeHead(result.status, { ...result.headers, 'Content-Length': result.body.length });
        res.end(result.body);
      },
      (err) => {
        req.log.error({ err }, 'GET /v1/resolve failed');
        const apiError = toApiError(err);
        res.writeHead(apiError.status, { 'Content-Type': 'application/json', ...errorHeaders(apiError) }).end(JSON.stringify({ error: { code: apiError.code, message: apiError.message } }));
      },
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolveListen());
  });
  // Node's request timeout cannot tell an authorized long upload from a slow anonymous one:
  // body-limits.ts does that per request instead. Headers still have to arrive in time.
  server.requestTimeout = 0;
  server.headersTimeout = config.limits.headersTimeoutMs;
  server.keepAliveTimeout = 65_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  return {
    server,
    url,
    ctx,
    reconciler,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      stopInvalidating();
      stopGc();
      await reconciler.stop();
      await hub.close();
      await ctx.close();
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const api = await startApi(config);
  api.ctx.log.info({ url: api.url, store: api.ctx.store.kind, redisUrl: config.redisUrl.replace(/\/\/[^@/]*@/, '//***@') }, `listening on ${api.url}`);
  const shutdown = () => {
    api.ctx.log.info('shutting down');
    // Forced exit if connections refuse to close; unref'd so it never keeps the process alive.
    setTimeout(() => process.exit(1), 10_000).unref();
    api.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

if (require.main === module) {
  main().catch((err) => {
    // Why the process could not start is for the person who started it: plain text on stderr.
    process.stderr.write(`[api] ${err instanceof Error ? err.message : err}\n`);
    process.exit(1);
  });
}

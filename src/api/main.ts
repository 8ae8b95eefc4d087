/** The API process: `npm run start:api` (or `kiln api`). */
import { createServer, type Server } from 'node:http';
import { loadConfig, type KilnConfig } from '../config';
import { createContext, type FarmContext } from '../context';
import { connectRedis } from '../state/redis';
import { createApp } from './app';
import { TokenTable } from './auth';
import { EventHub } from './event-hub';
import { ResolveHandler } from './resolve-handler';

export interface RunningApi {
  server: Server;
  url: string;
  ctx: FarmContext;
  close(): Promise<void>;
}

export async function startApi(config: KilnConfig, ctx: FarmContext = createContext(config, 'kiln-api')): Promise<RunningApi> {
  const hub = new EventHub(connectRedis(config.redisUrl, 'kiln-api-events'));
  // The Redis indexes are rebuilt from storage when Redis lost them (a new or flushed Redis).
  await ctx.artifacts.ensureBuilt(ctx.store);
  if ((await ctx.redis.hlen(ctx.keys.models)) === 0) await ctx.models.rebuild();
  const tokens = new TokenTable(config.tokens);
  const resolve = new ResolveHandler(ctx, tokens);
  // A published build can change what resolve answers: drop cached answers when one succeeds.
  const stopInvalidating = await hub.subscribe(ctx.keys.allEvents, (event) => {
    if (event.type === 'state' && event.state === 'succeeded') resolve.invalidate();
  });
  const app = createApp(ctx, hub, tokens, resolve);
  // GET /v1/resolve is answered before Express: it is the request a farm serves most, and the
  // router costs several times the answer (docs/bench). Everything else goes to Express.
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (req.method !== 'GET' || !url.startsWith('/v1/resolve?')) return app(req, res);
    resolve.handle(url.slice('/v1/resolve?'.length), req.headers.authorization).then(
      (result) => {
        res.writeHead(result.status, { ...result.headers, 'Content-Length': result.body.length });
        res.end(result.body);
      },
      (err) => {
        console.error('[api] GET /v1/resolve failed:', err);
        res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { code: 'internal', message: 'Internal error' } }));
      },
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolveListen());
  });
  // Long uploads and SSE streams must not be cut by Node's default request timeout.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  return {
    server,
    url,
    ctx,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      stopInvalidating();
      await hub.close();
      await ctx.close();
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const api = await startApi(config);
  console.log(`[api] listening on ${api.url} (store: ${api.ctx.store.kind}, redis: ${config.redisUrl})`);
  const shutdown = () => {
    console.log('[api] shutting down');
    // Forced exit if connections refuse to close; unref'd so it never keeps the process alive.
    setTimeout(() => process.exit(1), 10_000).unref();
    api.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`[api] ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}

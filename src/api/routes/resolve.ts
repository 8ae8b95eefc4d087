import { Router } from 'express';
import type { ResolveHandler } from '../resolve-handler';

/** GET /v1/resolve through Express; the server usually answers it before Express (see main.ts). */
export function resolveRoutes(handler: ResolveHandler): Router {
  const router = Router();
  router.get('/v1/resolve', async (req, res) => {
    const at = req.originalUrl.indexOf('?');
    const result = await handler.handle(at < 0 ? '' : req.originalUrl.slice(at + 1), req.headers.authorization);
    res.status(result.status).set(result.headers).send(result.body);
  });
  return router;
}

/**
 * Fleet timing caches: `GET /v1/timing-caches` lists them (TensorRT version, CC, size, updated,
 * the builds that fed them); `GET /v1/timing-caches/:trt/:cc` downloads one, with its sha256, so a
 * client without a matching engine can build one locally in seconds (the resolve ladder's
 * timing-cache rung points here).
 */
import { Router } from 'express';
import type { FarmContext } from '../../context';
import { InvalidKeyError } from '../../storage/errors';
import { timingCacheKey } from '../../storage/layout';
import { listTimingCaches } from '../../storage/timing-caches';
import { requireRole } from '../auth';
import { badRequest, notFound } from '../errors';
import { sendStored } from '../send-stored';

export function timingCacheRoutes(ctx: FarmContext): Router {
  const router = Router();
  router.get('/v1/timing-caches', requireRole('reader'), async (_req, res) => {
    res.json({ timingCaches: await listTimingCaches(ctx.store) });
  });

  router.get('/v1/timing-caches/:trt/:cc', requireRole('reader'), async (req, res) => {
    const trt = String(req.params.trt);
    const cc = String(req.params.cc);
    let key: string;
    try {
      key = timingCacheKey(trt, cc);
    } catch (err) {
      if (err instanceof InvalidKeyError) throw badRequest(err.message);
      throw err;
    }
    const head = await ctx.store.head(key);
    if (!head) throw notFound(`No fleet timing cache for TensorRT ${trt} on compute capability ${cc} yet; one appears after the first build there`);
    await sendStored(req, res, ctx.store, key, {
      sha256: head.sha256,
      filename: key.slice(key.lastIndexOf('/') + 1),
      presignSeconds: ctx.config.presignSeconds,
    });
  });
  return router;
}

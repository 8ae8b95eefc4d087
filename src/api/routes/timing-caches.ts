/**
 * Fleet timing caches, one per (TensorRT version, platform, CC, GPU SKU) (core/timing-cache.ts):
 * `GET /v1/timing-caches` lists them (name, SKU, size, updated, the builds that fed them, the cache
 * a SKU's first build started from); `GET /v1/timing-caches/:name` downloads one, with its sha256,
 * so a client without a matching engine can build one locally in seconds (the resolve ladder's
 * timing-cache rung points here). `GET /v1/timing-caches/:trt/:cc` still downloads a CC-wide cache
 * from before per-SKU caches, by the URL resolve answered then.
 */
import { Router, type Request, type Response } from 'express';
import type { FarmContext } from '../../context';
import { InvalidKeyError } from '../../storage/errors';
import { parseTimingCacheName, type TimingCacheScope } from '../../core/timing-cache';
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

  router.get('/v1/timing-caches/:name', requireRole('reader'), async (req, res) => {
    const name = String(req.params.name);
    const scope = parseTimingCacheName(name);
    if (!scope) {
      throw badRequest(`Expected a timing cache name trt<version>-[<platform>-]sm<cc>[-<sku>] (e.g. trt10.9.0-sm89-nvidia-l4) but received ${JSON.stringify(name)}`);
    }
    await sendCache(req, res, scope, `No fleet timing cache ${name} yet; one appears after the first build on that GPU model`);
  });

  router.get('/v1/timing-caches/:trt/:cc', requireRole('reader'), async (req, res) => {
    const trt = String(req.params.trt);
    const cc = String(req.params.cc);
    await sendCache(req, res, { trt, cc }, `No CC-wide fleet timing cache for TensorRT ${trt} on compute capability ${cc}; caches are per GPU model now (GET /v1/timing-caches lists them)`);
  });

  async function sendCache(req: Request, res: Response, scope: TimingCacheScope, missing: string): Promise<void> {
    let key: string;
    try {
      key = timingCacheKey(scope);
    } catch (err) {
      if (err instanceof InvalidKeyError) throw badRequest(err.message);
      throw err;
    }
    const head = await ctx.store.head(key);
    if (!head) throw notFound(missing);
    await sendStored(req, res, ctx.store, key, {
      sha256: head.sha256,
      filename: key.slice(key.lastIndexOf('/') + 1),
      presignSeconds: ctx.config.presignSeconds,
    });
  }
  return router;
}

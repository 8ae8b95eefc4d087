import { Router } from 'express';
import type { FarmContext } from '../../context';
import { requireRole } from '../auth';
import { fromZod } from '../errors';
import { TritonExportQuerySchema } from '../schemas';
import { chooseEngines, planRepository, sendRepositoryTar } from '../triton-export';
import { mapRefError } from './models';

/** Exports of a model's artifacts in the layout a serving system reads (docs/exports.md). */
export function exportRoutes(ctx: FarmContext): Router {
  const router = Router();
  router.get('/v1/models/:ref/export/triton', requireRole('reader'), async (req, res) => {
    const query = TritonExportQuerySchema.safeParse(req.query);
    if (!query.success) throw fromZod(query.error, 'query');
    const model = await ctx.models.resolve(String(req.params.ref)).catch(mapRefError);
    const chosen = chooseEngines(await ctx.artifacts.forModel(model.sha256), query.data);
    const files = await planRepository(ctx, model, chosen, query.data);
    // The newest engine's publication time: the same selection gives the same tar.
    const mtime = new Date(chosen.map((a) => a.publishedAt).sort().at(-1)!);
    await sendRepositoryTar(ctx, res, files, `${model.sha256.slice(0, 12)}-triton.tar`, mtime);
  });
  return router;
}

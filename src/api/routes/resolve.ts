import { Router } from 'express';
import type { FarmContext } from '../../context';
import { resolveArtifact, type Client } from '../../core/resolve';
import { parseTargetKey, TargetParseError } from '../../core/target';
import { requireRole } from '../auth';
import { badRequest, fromZod } from '../errors';
import { ResolveQuerySchema } from '../schemas';
import { mapRefError } from './models';

export function resolveRoutes(ctx: FarmContext, hasTimingCache: (trt: string, cc: string) => Promise<boolean>): Router {
  const router = Router();
  router.get('/v1/resolve', requireRole('reader'), async (req, res) => {
    const query = ResolveQuerySchema.safeParse(req.query);
    if (!query.success) throw fromZod(query.error, 'query');
    const q = query.data;
    const client = toClient(q);
    const model = await ctx.models.resolve(q.model).catch(mapRefError);
    const published = await ctx.artifacts.forModel(model.sha256);
    const cache = client.kind === 'gpu' ? await hasTimingCache(client.trt, client.cc) : false;
    const resolution = resolveArtifact(client, published, cache);
    const modelFile = { name: `${model.sha256}.onnx`, sha256: model.sha256, size: model.size, url: `/v1/models/${model.sha256}/file` };
    const body: Record<string, unknown> = { model: model.sha256, rung: resolution.rung, note: resolution.note };
    if (resolution.artifact) {
      const a = resolution.artifact;
      body.buildKey = a.buildKey;
      body.target = a.targetKey;
      body.validation = a.validation;
      body.primary = a.primary;
      body.files = a.files.map((f) => ({ ...f, url: `/v1/artifacts/${a.buildKey}/${f.name}` }));
    } else {
      body.files = [modelFile];
      if (resolution.rung === 'timing-cache' && client.kind === 'gpu') {
        body.timingCache = { url: `/v1/timing-caches/${client.trt}/${client.cc}` };
      }
    }
    res.json(body);
  });
  return router;
}

function toClient(q: { target?: string; cc?: string; trt?: string; sku?: string; precision?: string }): Client {
  if (q.cc || q.trt) {
    if (!q.cc || !q.trt) throw badRequest('A GPU client gives both cc (e.g. 8.9) and trt (e.g. 10.9.0)');
    return { kind: 'gpu', cc: q.cc, trt: q.trt, sku: q.sku, precision: q.precision };
  }
  if (!q.target) throw badRequest('Give target (a CPU target key, e.g. ort1.30.0-x86_64-avx2) or cc and trt for a GPU client');
  try {
    const target = parseTargetKey(q.target);
    if (target.toolchain !== 'onnxruntime') throw badRequest(`target ${q.target} is a TensorRT target: give cc, trt and sku instead`);
  } catch (err) {
    if (err instanceof TargetParseError) throw badRequest(err.message);
    throw err;
  }
  return { kind: 'cpu', targetKey: q.target };
}

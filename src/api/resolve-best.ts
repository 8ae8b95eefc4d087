/**
 * Resolve by a sweep's best point, asked before the resolution ladder (docs/sweeps.md):
 *   `?request=ID`      the best point of that sweep request for the client's target;
 *   `?model=NAME@best` the best point of the newest sweep of that model (NAME, NAME@N or a sha256)
 *                      whose points for the client's target are all done.
 * The client says its target as for the ladder (`target` for CPU, `cc` + `trt` [+ `sku`] for GPU);
 * a request of one target needs neither.
 */
import type { TargetBest } from '../core/best-point';
import { parseTargetKey, TargetParseError } from '../core/target';
import type { FarmContext } from '../context';
import { requestBuildKeys, type RequestRecord } from '../state/requests';
import { ApiError, badRequest, notFound } from './errors';
import { mapRefError } from './routes/models';
import { mapRequestRefError } from './routes/requests';
import { sweepResults } from './sweep-results';
import { withReports } from './build-reports';

const BEST_SUFFIX = '@best';

export interface BestQuery {
  model?: string;
  request?: string;
  target?: string;
  cc?: string;
  trt?: string;
  sku?: string;
}

/** Whether the query asks for a best point instead of climbing the ladder. */
export function asksForBest(q: BestQuery): boolean {
  return Boolean(q.request) || Boolean(q.model?.endsWith(BEST_SUFFIX));
}

/** Whether a sweep target key serves the client the query describes. */
function serves(targetKey: string, q: BestQuery): boolean {
  if (q.target) return targetKey === q.target;
  let target;
  try {
    target = parseTargetKey(targetKey);
  } catch (err) {
    if (err instanceof TargetParseError) return false;
    throw err;
  }
  if (target.toolchain !== 'tensorrt') return false;
  return target.trt === q.trt && target.cc === q.cc && (!q.sku || !target.sku || target.sku === q.sku);
}

function clientWords(q: BestQuery): string {
  return q.target ?? (q.cc ? `TensorRT ${q.trt} on CC ${q.cc}${q.sku ? ` (${q.sku})` : ''}` : 'any target');
}

async function targetBest(ctx: FarmContext, request: RequestRecord, q: BestQuery): Promise<TargetBest | null> {
  const results = sweepResults(request, await withReports(ctx, await ctx.builds.getMany(requestBuildKeys(request))));
  if (!results) return null;
  const anyClient = !q.target && !q.cc && !q.trt;
  if (anyClient && results.targets.length === 1) return results.targets[0];
  if (anyClient) throw badRequest(`Request ${request.id} swept ${results.targets.length} targets (${results.targets.map((t) => t.target).join(', ')}); give target (CPU) or cc and trt (GPU)`);
  return results.targets.find((t) => serves(t.target, q)) ?? null;
}

export async function resolveBest(ctx: FarmContext, q: BestQuery): Promise<Record<string, unknown>> {
  let request: RequestRecord;
  let found: TargetBest | null = null;
  if (q.request) {
    request = await ctx.requests.resolve(q.request).catch(mapRequestRefError);
    if (!request.sweep) throw badRequest(`Request ${request.id} is not a sweep, so it has no best point; resolve by model instead`);
    found = await targetBest(ctx, request, q);
    if (!found) throw notFound(`Request ${request.id} swept no target that serves ${clientWords(q)} (it swept ${request.targets.join(', ')})`);
    if (found.state === 'pending') throw new ApiError(409, 'sweep_pending', `Request ${request.id} has points for ${found.target} still queued or running; its best point is named when all are done`);
    if (found.state === 'none') throw notFound(`No point of request ${request.id} for ${found.target} qualified: ${found.excluded.map((e) => `${JSON.stringify(e.values)}: ${e.reason}`).join('; ')}`);
  } else {
    const ref = q.model!.slice(0, -BEST_SUFFIX.length);
    const model = await ctx.models.resolve(ref).catch(mapRefError);
    for (const candidate of await ctx.requests.sweepsOf(model.sha256)) {
      const best = await targetBest(ctx, candidate, q).catch(() => null);
      if (best?.state === 'decided') {
        request = candidate;
        found = best;
        break;
      }
    }
    if (!found) throw notFound(`No finished sweep of ${ref} has a best point for ${clientWords(q)}; submit one with "sweep" (kiln build --sweep)`);
  }
  const best = found.best!;
  const artifact = await ctx.artifacts.get(request!.modelId, best.buildKey);
  if (!artifact) throw notFound(`The best point of request ${request!.id} for ${found.target} (build ${best.buildKey}) is not published any more`);
  return {
    model: request!.modelId,
    rung: 'best',
    note: `Best point of sweep ${request!.id} for ${found.target} by ${found.metric} at batch ${best.batch}` +
      (found.marginPercent !== undefined ? `, ${found.marginPercent.toFixed(1)}% ahead of the runner-up` : ''),
    request: request!.id,
    point: best.values,
    ...(best.settings ? { runtime: best.settings } : {}),
    metric: { name: found.metric, batch: best.batch, value: best.value },
    marginPercent: found.marginPercent ?? null,
    buildKey: artifact.buildKey,
    target: artifact.targetKey,
    validation: artifact.validation,
    primary: artifact.primary,
    files: artifact.files.map((f) => ({ ...f, url: `/v1/artifacts/${artifact.buildKey}/${f.name}` })),
  };
}

/**
 * GET /v1/resolve as a handler that knows no web framework: (query string, Authorization header)
 * -> { status, headers, body }. Express mounts it like any route, and the server also calls it
 * before Express for the hottest request a farm answers (every client asks it at start-up): the
 * router and middleware chain cost several times the answer itself.
 *
 * Answers are cached for a short time per query string. A build that publishes clears the cache
 * (the API hears it on the farm-wide event channel); other changes, such as a new version of a
 * model name, show within RESOLVE_CACHE_MS.
 */
import type { FarmContext } from '../context';
import { EPCONTEXT_ROLE } from '../core/onnx/epcontext';
import type { PublishedArtifact } from '../core/published-artifact';
import { resolveArtifact, type Client } from '../core/resolve';
import type { Platform } from '../core/platform';
import { parseTargetKey, targetKey, TargetParseError } from '../core/target';
import { chooseTimingCache } from '../core/timing-cache';
import { storedTimingCaches, timingCacheUrl } from '../storage/timing-caches';
import { callerFromHeader, checkRole, WWW_AUTHENTICATE, type TokenTable } from './auth';
import { badRequest, errorHeaders, fromZod, toApiError } from './errors';
import type { Limits } from './limits';
import { mapRefError } from './routes/models';
import { ResolveQuerySchema } from './schemas';
import { asksForBest, resolveBest } from './resolve-best';

export const RESOLVE_CACHE_MS = 2000;
/** Distinct query strings kept; past it the cache starts over (a bound, not an LRU). */
const MAX_ENTRIES = 10_000;

export interface HandlerResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const JSON_TYPE = { 'Content-Type': 'application/json; charset=utf-8' };

export class ResolveHandler {
  private readonly cache = new Map<string, { body: Buffer; expires: number }>();

  constructor(
    private readonly ctx: FarmContext,
    private readonly tokens: TokenTable,
    private readonly limits?: Limits,
    private readonly cacheMs = RESOLVE_CACHE_MS,
  ) {}

  invalidate(): void {
    this.cache.clear();
  }

  /** `search` is the query string without its `?`. */
  async handle(search: string, authorization: string | undefined): Promise<HandlerResult> {
    try {
      const caller = await callerFromHeader(this.tokens, authorization);
      checkRole(caller?.role, 'reader');
      await this.limits?.request(caller!);
      const now = Date.now();
      const hit = this.cache.get(search);
      if (hit && hit.expires > now) return { status: 200, headers: JSON_TYPE, body: hit.body };
      const body = Buffer.from(JSON.stringify(await this.answer(search)));
      if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
      this.cache.set(search, { body, expires: now + this.cacheMs });
      return { status: 200, headers: JSON_TYPE, body };
    } catch (thrown) {
      const err = toApiError(thrown);
      // A bug is the caller's to log (with the request's id); outages and refusals are answers.
      if (err.code === 'internal') throw thrown;
      const headers: Record<string, string> = { ...JSON_TYPE, ...errorHeaders(err) };
      if (err.status === 401) headers['WWW-Authenticate'] = WWW_AUTHENTICATE;
      const error: Record<string, unknown> = { code: err.code, message: err.message };
      if (err.details !== undefined) error.details = err.details;
      return { status: err.status, headers, body: Buffer.from(JSON.stringify({ error })) };
    }
  }

  private async answer(search: string): Promise<Record<string, unknown>> {
    const query = ResolveQuerySchema.safeParse(Object.fromEntries(new URLSearchParams(search)));
    if (!query.success) throw fromZod(query.error, 'query');
    const q = query.data;
    // A sweep's best point is looked up before the ladder (src/api/resolve-best.ts).
    if (asksForBest(q)) return resolveBest(this.ctx, q);
    if (!q.model) throw badRequest('Give model (a model reference), or request (a sweep request id) for its best point');
    const client = toClient(q);
    const model = await this.ctx.models.resolve(q.model).catch(mapRefError);
    // The newest usable artifact per (target, traits): O(targets), however many builds the model has.
    let published = await this.ctx.artifacts.candidates(model.sha256);
    // EPContext models are published beside engines (docs/exports.md): the ladder runs over the
    // engines that have one, and the answer points at it first.
    const epContextOf = (a: PublishedArtifact) => a.files.find((f) => f.role === EPCONTEXT_ROLE);
    if (q.format === 'epcontext') {
      if (client.kind !== 'gpu') throw badRequest('format=epcontext is for GPU clients (ONNX Runtime\'s TensorRT EP): give cc and trt');
      published = published.filter((a) => epContextOf(a));
    }
    const timingCache = client.kind === 'gpu'
      ? chooseTimingCache({ trt: client.trt, cc: client.cc, sku: client.sku, platform: client.platform }, await storedTimingCaches(this.ctx.store, client))
      : null;
    const resolution = resolveArtifact(client, published, timingCache);
    const body: Record<string, unknown> = { model: model.sha256, rung: resolution.rung, note: resolution.note };
    if (resolution.artifact) {
      const a = resolution.artifact;
      body.buildKey = a.buildKey;
      body.target = a.targetKey;
      body.validation = a.validation;
      body.primary = q.format === 'epcontext' ? epContextOf(a)!.name : a.primary;
      body.files = a.files.map((f) => ({ ...f, url: `/v1/artifacts/${a.buildKey}/${f.name}` }));
    } else {
      body.files = [{ name: `${model.sha256}.onnx`, sha256: model.sha256, size: model.size, url: `/v1/models/${model.sha256}/file` }];
      if (resolution.rung === 'timing-cache' && timingCache) {
        const { scope } = timingCache.cache;
        // match 'best-match' flags a cache of another SKU (or the CC-wide one): not the client's GPU model.
        body.timingCache = { url: timingCacheUrl(scope), sku: scope.sku ?? null, match: timingCache.match };
      }
    }
    return body;
  }
}

function toClient(q: { target?: string; cc?: string; trt?: string; sku?: string; precision?: string; platform?: Platform }): Client {
  if (q.cc || q.trt) {
    if (!q.cc || !q.trt) throw badRequest('A GPU client gives both cc (e.g. 8.9) and trt (e.g. 10.9.0)');
    const cpuTargetKey = q.target === undefined ? undefined : cpuKey(q.target);
    return { kind: 'gpu', cc: q.cc, trt: q.trt, sku: q.sku, precision: q.precision, platform: q.platform, cpuTargetKey };
  }
  if (!q.target) throw badRequest('Give target (a CPU target key, e.g. ort1.30.0-x86_64-avx2) or cc and trt for a GPU client');
  if (q.platform) throw badRequest(`platform is for GPU clients; a CPU target key names its own platform (e.g. ort1.30.0-windows-x86_64-avx2) but received platform=${q.platform}`);
  return { kind: 'cpu', targetKey: cpuKey(q.target) };
}

/** A CPU target key in its canonical spelling; 400 for anything else. */
function cpuKey(key: string): string {
  let target;
  try {
    target = parseTargetKey(key);
  } catch (err) {
    if (err instanceof TargetParseError) throw badRequest(err.message);
    throw err;
  }
  if (target.toolchain !== 'onnxruntime') throw badRequest(`target ${key} is a TensorRT target: give cc, trt and sku instead`);
  return targetKey(target);
}

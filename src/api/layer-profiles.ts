/**
 * Reading a build's published layer profile, and comparing two builds of one model layer by
 * layer: what `GET /v1/builds/:a/compare/:b` answers and the dashboard's compare view shows.
 */
import type { FarmContext } from '../context';
import { compareLayerProfiles, LAYER_PROFILE_FILE, type LayerComparison, type LayerProfile } from '../core/layer-profile';
import type { BuildRecord } from '../state/build-records';
import { artifactKey } from '../storage/layout';
import { readJson } from '../storage/read-json';
import { badRequest, notFound } from './errors';

/** The published layer-profile.json of a build; null when it has none (not published, or built before profiles). */
export async function readLayerProfile(ctx: FarmContext, record: Pick<BuildRecord, 'modelId' | 'buildKey'>): Promise<LayerProfile | null> {
  const published = await ctx.artifacts.get(record.modelId, record.buildKey);
  const file = published?.files.find((f) => f.name === LAYER_PROFILE_FILE);
  return file ? readJson<LayerProfile>(ctx.store, artifactKey(record.buildKey, file)) : null;
}

export interface BuildComparison extends LayerComparison {
  modelId: string;
  a: LayerComparison['a'] & { buildKey: string; targetKey: string };
  b: LayerComparison['b'] & { buildKey: string; targetKey: string };
}

export async function compareBuilds(ctx: FarmContext, a: BuildRecord, b: BuildRecord): Promise<BuildComparison> {
  if (a.modelId !== b.modelId) {
    throw badRequest(`Expected two builds of one model but received builds of models ${a.modelId.slice(0, 12)} (${a.buildKey.slice(0, 12)}) and ${b.modelId.slice(0, 12)} (${b.buildKey.slice(0, 12)}); layers compare only within one model`);
  }
  const [pa, pb] = await Promise.all([readLayerProfile(ctx, a), readLayerProfile(ctx, b)]);
  for (const [record, profile] of [[a, pa], [b, pb]] as const) {
    if (!profile) throw notFound(`Build ${record.buildKey} has no layer profile: it is not published (state ${record.state}) or was built before layer profiles existed`);
  }
  const c = compareLayerProfiles(pa!, pb!);
  return {
    modelId: a.modelId,
    a: { buildKey: a.buildKey, targetKey: a.targetKey, ...c.a },
    b: { buildKey: b.buildKey, targetKey: b.targetKey, ...c.b },
    layers: c.layers,
  };
}

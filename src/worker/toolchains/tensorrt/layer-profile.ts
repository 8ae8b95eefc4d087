/**
 * trtexec's --exportProfile (Profiler::exportJSONProfile, sampleReporting.cpp): `[{ "count": N },
 * { "name", "timeMs", "averageMs", "medianMs", "percentage" }, ...]`, one entry per engine layer,
 * times on the GPU. Layer types come from the build's --exportLayerInfo (detailed verbosity names
 * a LayerType per layer), matched by name.
 */
import { readFile } from 'node:fs/promises';
import { makeLayerProfile, type LayerProfile } from '../../../core/layer-profile';

export const PROFILE_SOURCE = 'trtexec --exportProfile';

export function parseTrtexecProfile(json: unknown, batch: number, types: Map<string, string> = new Map()): LayerProfile {
  if (!Array.isArray(json) || json.length === 0) throw new Error(`Expected trtexec's --exportProfile to be a JSON array starting with { "count": N } but received ${JSON.stringify(json)?.slice(0, 80)}`);
  const [head, ...entries] = json as Record<string, unknown>[];
  const runs = typeof head?.count === 'number' ? head.count : 0;
  const layers = entries
    .filter((e) => typeof e?.name === 'string' && typeof e.averageMs === 'number')
    .map((e) => ({ name: e.name as string, opType: types.get(e.name as string) ?? null, ms: e.averageMs as number }));
  return makeLayerProfile(PROFILE_SOURCE, batch, runs, layers);
}

/** Layer name -> LayerType from --exportLayerInfo; empty when the file is missing or names only. */
export async function layerTypes(layerInfoPath: string | undefined): Promise<Map<string, string>> {
  const types = new Map<string, string>();
  if (!layerInfoPath) return types;
  try {
    const info = JSON.parse(await readFile(layerInfoPath, 'utf8')) as { Layers?: unknown[] };
    for (const layer of info.Layers ?? []) {
      const l = layer as { Name?: unknown; LayerType?: unknown };
      if (typeof l?.Name === 'string' && typeof l.LayerType === 'string') types.set(l.Name, l.LayerType);
    }
  } catch {
    // Types are a label on the table, not a reason to lose it.
  }
  return types;
}

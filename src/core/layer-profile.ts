/**
 * Per-layer profiles: where an artifact spends its time, layer by layer (docs/layer-profiles.md).
 * CPU builds take it from ONNX Runtime's profiler (per-node kernel times), TensorRT builds from
 * trtexec's --exportProfile. The full table is the artifact `layer-profile.json`; the report keeps
 * a summary with the top layers. Two profiles of one model compare layer by layer, by name.
 */

export const LAYER_PROFILE_FILE = 'layer-profile.json';

/** How many layers the report and the build page show as the top ones. */
export const TOP_LAYERS = 10;

export interface LayerTime {
  /** The node (ONNX Runtime) or layer (TensorRT) name. */
  name: string;
  /** ONNX op type (ONNX Runtime) or TensorRT layer type from the layer info; null when unknown. */
  opType: string | null;
  /** Mean milliseconds per run. */
  ms: number;
  /** Share of the profile's total, 0..1. */
  share: number;
}

export interface LayerProfile {
  schema: 1;
  /** 'onnxruntime-profiler' or 'trtexec --exportProfile'. */
  source: string;
  /** Batch size of the profiled runs. */
  batch: number;
  runs: number;
  /** Sum of the layers' mean times: kernel time, without the runtime's own overhead between them. */
  totalMs: number;
  /** Slowest first. */
  layers: LayerTime[];
}

/** What report.json keeps of the profile. */
export interface LayerProfileSummary {
  file: string;
  source: string;
  batch: number;
  runs: number;
  totalMs: number;
  layerCount: number;
  top: LayerTime[];
}

/** Sorts slowest first and fills in shares. */
export function makeLayerProfile(source: string, batch: number, runs: number, layers: Omit<LayerTime, 'share'>[]): LayerProfile {
  const totalMs = layers.reduce((sum, l) => sum + l.ms, 0);
  const sorted = layers
    .map((l) => ({ ...l, share: totalMs > 0 ? l.ms / totalMs : 0 }))
    .sort((a, b) => b.ms - a.ms || a.name.localeCompare(b.name));
  return { schema: 1, source, batch, runs, totalMs, layers: sorted };
}

export function summarizeLayerProfile(profile: LayerProfile): LayerProfileSummary {
  return {
    file: LAYER_PROFILE_FILE,
    source: profile.source,
    batch: profile.batch,
    runs: profile.runs,
    totalMs: profile.totalMs,
    layerCount: profile.layers.length,
    top: profile.layers.slice(0, TOP_LAYERS),
  };
}

export interface LayerDelta {
  name: string;
  opType: string | null;
  /** null where the layer is not in that build (fused away, renamed, another toolchain's layer). */
  aMs: number | null;
  bMs: number | null;
  /** bMs - aMs when both have the layer. */
  deltaMs: number | null;
  /** bMs / aMs when both have it. */
  ratio: number | null;
}

export interface LayerComparison {
  a: { totalMs: number; source: string; batch: number; layers: number };
  b: { totalMs: number; source: string; batch: number; layers: number };
  /** Layers of either build, by name; the largest absolute change first, then those only one build has. */
  layers: LayerDelta[];
}

export function compareLayerProfiles(a: LayerProfile, b: LayerProfile): LayerComparison {
  const inB = new Map(b.layers.map((l) => [l.name, l]));
  const seen = new Set<string>();
  const layers: LayerDelta[] = [];
  for (const la of a.layers) {
    const lb = inB.get(la.name);
    seen.add(la.name);
    layers.push({
      name: la.name,
      opType: la.opType ?? lb?.opType ?? null,
      aMs: la.ms,
      bMs: lb ? lb.ms : null,
      deltaMs: lb ? lb.ms - la.ms : null,
      ratio: lb && la.ms > 0 ? lb.ms / la.ms : null,
    });
  }
  for (const lb of b.layers) {
    if (!seen.has(lb.name)) layers.push({ name: lb.name, opType: lb.opType, aMs: null, bMs: lb.ms, deltaMs: null, ratio: null });
  }
  const weight = (d: LayerDelta) => (d.deltaMs === null ? -1 : Math.abs(d.deltaMs));
  layers.sort((x, y) => weight(y) - weight(x) || (y.aMs ?? y.bMs ?? 0) - (x.aMs ?? x.bMs ?? 0));
  const side = (p: LayerProfile) => ({ totalMs: p.totalMs, source: p.source, batch: p.batch, layers: p.layers.length });
  return { a: side(a), b: side(b), layers };
}

/** Everything the build page shows about one build. */
import type { FarmContext } from '../../../context';
import { LAYER_PROFILE_FILE, type LayerProfile } from '../../../core/layer-profile';
import { LOG_FILE } from '../../../core/manifest';
import { readLayerProfile } from '../../layer-profiles';
import type { PublishedArtifact } from '../../../core/published-artifact';
import type { BuildRecord } from '../../../state/build-records';
import type { ModelRecord } from '../../../state/model-registry';
import { PHASES } from '../../../core/build-phases';
import { artifactKey } from '../../../storage/layout';
import { readPhases } from '../phase-recorder';
import { withWaiting, type Waiting } from '../../waiting';
import { profileViews, type ProfileView } from './build-profiles';
import { withReports } from '../../build-reports';

/** Log lines shown when the page opens; the live tail appends to them. */
export const LOG_TAIL_LINES = 200;
const LOG_TAIL_BYTES = 64 * 1024;

export interface TimelineStep {
  name: string;
  start: string;
  /** Start of the next step, or the finish (or now, while running). */
  end: string | null;
}

export interface BuildDetailData {
  record: BuildRecord;
  model: ModelRecord | null;
  published: PublishedArtifact | null;
  timeline: TimelineStep[];
  logTail: string[];
  /** Requests this build belongs to. */
  requests: string[];
  /** Why it waits, while queued. */
  waiting?: Waiting;
  /** The published per-layer profile, when the build has one. */
  layerProfile: LayerProfile | null;
  /** Other published builds of the same model that have a layer profile: what this one can be compared with. */
  comparable: { buildKey: string; targetKey: string }[];
  /** TensorRT optimization profiles, each with its shapes, validation and benchmark; empty without profiles. */
  profiles: ProfileView[];
}

export async function buildDetailData(ctx: FarmContext, stored: BuildRecord): Promise<BuildDetailData> {
  const [record] = await withReports(ctx, [stored]);
  const [model, published, phases, requests] = await Promise.all([
    ctx.models.get(record.modelId),
    ctx.artifacts.get(record.modelId, record.buildKey),
    readPhases(ctx.redis, ctx.config.prefix, record.buildKey),
    ctx.builds.requestIds(record.buildKey),
  ]);
  const [logTail, [{ waiting }], layerProfile, siblings] = await Promise.all([
    readLogTail(ctx, record, published),
    withWaiting(ctx, [record]),
    published ? readLayerProfile(ctx, record) : null,
    ctx.artifacts.forModel(record.modelId),
  ]);
  const comparable = siblings
    .filter((a) => a.buildKey !== record.buildKey && a.files.some((f) => f.name === LAYER_PROFILE_FILE))
    .map((a) => ({ buildKey: a.buildKey, targetKey: a.targetKey }));
  return { record, model, published, timeline: timeline(record, phases), logTail, requests, layerProfile, comparable, profiles: profileViews(record.report), ...(waiting ? { waiting } : {}) };
}


/** Queued -> each phase seen -> the end; steps without a known start are left out. */
export function timeline(record: BuildRecord, phases: Record<string, string>): TimelineStep[] {
  const points: { name: string; at: string }[] = [{ name: 'queued', at: record.createdAt }];
  const started = phases.active ?? record.startedAt;
  for (const phase of PHASES) if (phases[phase]) points.push({ name: phase, at: phases[phase] });
  if (started && !phases.preparing) points.push({ name: 'started', at: started });
  points.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const end = record.finishedAt ?? null;
  return points.map((p, i) => ({ name: p.name, start: p.at, end: points[i + 1]?.at ?? end }));
}

async function readLogTail(ctx: FarmContext, record: BuildRecord, published: PublishedArtifact | null): Promise<string[]> {
  const lines = await ctx.redis.lrange(ctx.keys.buildLog(record.buildKey), -LOG_TAIL_LINES, -1);
  if (lines.length > 0) return lines;
  const entry = published?.files.find((f) => f.name === LOG_FILE);
  if (!entry) return [];
  // The published log can be large: read its last bytes only.
  try {
    const start = Math.max(0, entry.size - LOG_TAIL_BYTES);
    const result = await ctx.store.get(artifactKey(record.buildKey, entry), entry.size > 0 ? { start } : undefined);
    const chunks: Buffer[] = [];
    for await (const chunk of result.body) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const all = text.split('\n').filter((l, i, arr) => i < arr.length - 1 || l !== '');
    return (start > 0 ? all.slice(1) : all).slice(-LOG_TAIL_LINES);
  } catch {
    return [];
  }
}

/** Models with their artifacts per target, and the numbers their reports give for comparison. */
import type { FarmContext } from '../../../context';
import type { PublishedArtifact } from '../../../core/published-artifact';
import type { BenchmarkRow } from '../../../core/report';
import type { BuildRecord } from '../../../state/build-records';
import type { ModelRecord } from '../../../state/model-registry';
import { withReports } from '../../build-reports';

export interface ModelArtifactRow {
  artifact: PublishedArtifact;
  build: BuildRecord | null;
  /** Samples per second at batch 1, and at the largest batch measured. */
  batch1: BenchmarkRow | null;
  largest: BenchmarkRow | null;
}

export interface ModelDetailData {
  model: ModelRecord;
  artifacts: ModelArtifactRow[];
  /** Builds of this model, published or not, newest first (a few). */
  recentBuilds: BuildRecord[];
}

export async function modelDetailData(ctx: FarmContext, model: ModelRecord): Promise<ModelDetailData> {
  const artifacts = (await ctx.artifacts.forModel(model.sha256)).sort((a, b) => a.targetKey.localeCompare(b.targetKey) || b.publishedAt.localeCompare(a.publishedAt));
  const records = new Map((await withReports(ctx, await ctx.builds.getMany(artifacts.map((a) => a.buildKey)))).map((r) => [r.buildKey, r]));
  const recentIds = await ctx.redis.zrevrange(ctx.keys.buildsByModel(model.sha256), 0, 19);
  const recentBuilds = await ctx.builds.getMany(recentIds);
  return {
    model,
    recentBuilds,
    artifacts: artifacts.map((artifact) => {
      const build = records.get(artifact.buildKey) ?? null;
      const rows = [...(build?.report?.benchmark?.rows ?? [])].sort((a, b) => a.batch - b.batch);
      return { artifact, build, batch1: rows.find((r) => r.batch === 1) ?? null, largest: rows.length ? rows[rows.length - 1] : null };
    }),
  };
}

/** Published artifact counts per model, for the list. */
export async function artifactCounts(ctx: FarmContext, models: ModelRecord[]): Promise<Map<string, number>> {
  const pipeline = ctx.redis.pipeline();
  for (const m of models) pipeline.hlen(ctx.keys.published(m.sha256));
  const results = (await pipeline.exec()) ?? [];
  return new Map(models.map((m, i) => [m.sha256, Number(results[i]?.[1] ?? 0)]));
}

/**
 * The builds table: one page of the indexed listing (`BuildRecords.list`, newest first, cursor
 * paginated) plus the total of the filter where an index gives it in O(1).
 */
import { z } from 'zod';
import type { FarmContext } from '../../../context';
import { BUILD_STATES, CursorError, type BuildPage, type BuildState } from '../../../state/build-records';
import { ModelRefError } from '../../../state/model-registry';
import { badRequest, fromZod } from '../../errors';

export const BuildsQuerySchema = z.object({
  state: z.enum(BUILD_STATES).or(z.literal('')).optional(),
  model: z.string().max(80).optional(),
  target: z.string().max(200).optional(),
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(25),
  /** 1 = only the table body (the live page refreshes it when builds appear). */
  fragment: z.literal('1').optional(),
});

export interface BuildsFilter {
  state?: BuildState;
  /** As the user gave it (label or sha256). */
  model?: string;
  target?: string;
  cursor?: string;
  limit: number;
}

export interface BuildsPageData {
  filter: BuildsFilter;
  page: BuildPage;
  counts: Record<BuildState, number>;
  /** Builds matching the filter, when known without scanning (null for combined filters). */
  total: number | null;
}

export function parseBuildsQuery(query: unknown): { filter: BuildsFilter; fragment: boolean } {
  const parsed = BuildsQuerySchema.safeParse(query);
  if (!parsed.success) throw fromZod(parsed.error, 'query');
  const q = parsed.data;
  return {
    filter: { state: q.state || undefined, model: q.model || undefined, target: q.target || undefined, cursor: q.cursor || undefined, limit: q.limit },
    fragment: q.fragment === '1',
  };
}

export async function buildsPageData(ctx: FarmContext, filter: BuildsFilter): Promise<BuildsPageData> {
  let modelId: string | undefined;
  if (filter.model) {
    try {
      modelId = (await ctx.models.resolve(filter.model)).sha256;
    } catch (err) {
      if (err instanceof ModelRefError) throw badRequest(err.message);
      throw err;
    }
  }
  const [page, counts, total] = await Promise.all([
    ctx.builds.list({ state: filter.state, model: modelId, target: filter.target, cursor: filter.cursor, limit: filter.limit }).catch((err) => {
      if (err instanceof CursorError) throw badRequest(err.message);
      throw err;
    }),
    ctx.builds.countByState(),
    filterTotal(ctx, filter.state, modelId, filter.target),
  ]);
  return { filter, page, counts, total };
}

async function filterTotal(ctx: FarmContext, state?: BuildState, modelId?: string, target?: string): Promise<number | null> {
  const indexes = [state && ctx.keys.buildsByState(state), modelId && ctx.keys.buildsByModel(modelId), target && ctx.keys.buildsByTarget(target)].filter(
    (k): k is string => Boolean(k),
  );
  if (indexes.length > 1) return null;
  return ctx.redis.zcard(indexes[0] ?? ctx.keys.buildsAll);
}
